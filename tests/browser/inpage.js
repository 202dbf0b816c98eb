/*
 * inpage.js — the checks that read the rendered page, evaluated in the page
 * by pages.mjs and selftest.mjs after axe-core (through the DevTools
 * protocol, so the page's CSP does not apply and nothing is added to the
 * document). Defines window.__aapanelChecks = { layout, contrast,
 * untranslated, axe, csp, all }; each returns plain data (JSON-serialisable)
 * and changes nothing in the page (axe may scroll it).
 *
 * Selectors in the results are paths such as
 *   main#main > section.card:nth-of-type(2) > table.table
 * (tag, id, up to three classes, :nth-of-type when a sibling has the same tag).
 */
(() => {
	const TOL = 1; // px: sub-pixel rounding is not overflow

	function selectorOf(el) {
		const parts = [];
		for (let e = el; e && e.nodeType === 1 && e !== document.documentElement; e = e.parentElement) {
			let s = e.tagName.toLowerCase();
			if (e.id) {
				parts.unshift(`${s}#${e.id}`);
				break;
			}
			const cls = [...e.classList].slice(0, 3);
			if (cls.length) s += '.' + cls.join('.');
			const p = e.parentElement;
			if (p) {
				const same = [...p.children].filter((c) => c.tagName === e.tagName);
				if (same.length > 1) s += `:nth-of-type(${same.indexOf(e) + 1})`;
			}
			parts.unshift(s);
			if (e === document.body) break;
		}
		return parts.join(' > ');
	}

	function short(text, n = 80) {
		const t = text.replace(/\s+/g, ' ').trim();
		return t.length > n ? t.slice(0, n - 1) + '…' : t;
	}

	// Hidden from sight on purpose: the visually-hidden pattern (clip, 1px box).
	function srOnly(el) {
		for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
			const cs = getComputedStyle(e);
			if (cs.clipPath && cs.clipPath.startsWith('inset(50%')) return true;
			if (cs.clip && /^rect\(0(px)?,? 0(px)?,? 0(px)?,? 0(px)?\)$/.test(cs.clip)) return true;
			if (cs.position === 'absolute' && cs.overflow === 'hidden') {
				const r = e.getBoundingClientRect();
				if (r.width <= 1 && r.height <= 1) return true;
			}
		}
		return false;
	}

	const SKIP_TAGS = new Set(['SCRIPT', 'STYLE', 'TEMPLATE', 'NOSCRIPT', 'HEAD', 'TITLE', 'META', 'LINK',
		'OPTION', 'OPTGROUP', 'BR', 'WBR']);

	function rendered(el) {
		if (el.getClientRects().length === 0) return false;
		const cs = getComputedStyle(el);
		return cs.visibility !== 'hidden' && cs.visibility !== 'collapse';
	}

	// Does e establish the containing block of an element positioned pos?
	function holds(e, pos, ecs) {
		const makes = ecs.transform !== 'none' || ecs.filter !== 'none' || ecs.perspective !== 'none' ||
			/paint|layout|strict|content/.test(ecs.contain || '') || ecs.willChange.includes('transform');
		if (pos === 'fixed') return makes;
		if (pos === 'absolute') return makes || ecs.position !== 'static';
		return true;
	}

	// The nearest ancestor that scrolls (overflow-x auto, scroll) or clips
	// (hidden, clip) el: one in el's chain of containing blocks — an
	// absolutely positioned element escapes the overflow of static ancestors
	// between it and its positioned one, a fixed one every ancestor's.
	function overflowAncestor(el) {
		let pos = getComputedStyle(el).position;
		for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement) {
			const ecs = getComputedStyle(e);
			if (!holds(e, pos, ecs)) continue;
			const ox = ecs.overflowX;
			if (ox !== 'visible') return { el: e, mode: ox === 'auto' || ox === 'scroll' ? 'scroll' : 'clip' };
			if (pos === 'absolute' || pos === 'fixed') pos = ecs.position;
		}
		return null;
	}

	// The nearest ancestor that is positioned (for the report).
	function positionedAncestor(el) {
		for (let e = el.parentElement; e && e !== document.documentElement; e = e.parentElement)
			if (getComputedStyle(e).position !== 'static') return e;
		return null;
	}

	// The box an in-flow element must stay inside: its parent, skipping
	// display:contents boxes that have none.
	function containerOf(el) {
		let p = el.parentElement;
		while (p && p !== document.body && getComputedStyle(p).display === 'contents') p = p.parentElement;
		return p;
	}

	// The innermost element inside el that sticks out of box as well and is
	// at least half as wide as box: what makes el too wide, most likely
	// (a long unbreakable value, a nowrap run); else el's own white-space
	// when it does not wrap; else "".
	const ROWS = new Set(['THEAD', 'TBODY', 'TFOOT', 'TR', 'COLGROUP']); // as wide as their table, never the cause
	function culprit(el, box) {
		let best = null;
		let bestDepth = 0;
		for (const d of el.querySelectorAll('*')) {
			if (SKIP_TAGS.has(d.tagName) || ROWS.has(d.tagName) || !rendered(d) || srOnly(d)) continue;
			const r = d.getBoundingClientRect();
			if (r.width < (box.right - box.left) / 2) continue;
			if (!(r.right > box.right + TOL || r.left < box.left - TOL)) continue;
			let depth = 0;
			for (let e = d; e && e !== el; e = e.parentElement) depth++;
			if (depth > bestDepth) { best = d; bestDepth = depth; }
		}
		if (!best) {
			// Nothing inside is to blame: el itself, when it does not wrap.
			const ws = getComputedStyle(el).whiteSpace;
			return ws === 'normal' ? '' : `; it does not wrap (white-space: ${ws}): "${short(el.innerText || el.textContent, 40)}"`;
		}
		const ws = getComputedStyle(best).whiteSpace;
		return `; widest inside: ${selectorOf(best)} "${short(best.innerText || best.textContent, 40)}" (${Math.round(best.getBoundingClientRect().width)} px${ws !== 'normal' ? `, white-space: ${ws}` : ''})`;
	}

	function side(rect, box) {
		const out = [];
		if (rect.right > box.right + TOL) out.push(`${Math.round(rect.right - box.right)} px on the right`);
		if (rect.left < box.left - TOL) out.push(`${Math.round(box.left - rect.left)} px on the left`);
		return out.join(' and ');
	}

	/*
	 * layout(): horizontal overflow.
	 *   page       the document scrolls sideways (scrollWidth > clientWidth)
	 *   viewport   a rendered element's box extends past the viewport
	 *   container  an in-flow element's box extends past its parent's box
	 *   text       a text run extends past its element's box
	 *   clipped    an element with overflow-x hidden/clip cuts off content
	 *              (scrollWidth > clientWidth) that has text
	 * Content inside an element that scrolls sideways (overflow-x auto or
	 * scroll, e.g. .table-wrap) is that element's business and not checked;
	 * the scroller itself is — but only content whose containing blocks pass
	 * through the scroller: an absolutely positioned element inside a static
	 * scroller escapes it and widens the page. Content inside a clipping
	 * element is reported once, as that element's "clipped". A
	 * visually-hidden element is checked only for where its (1 px) box is,
	 * not for what it clips on purpose. Of nested offenders of one kind only
	 * the outermost is reported, with how many are inside it.
	 */
	function layout() {
		const de = document.documentElement;
		const vw = de.clientWidth;
		const view = { left: 0, right: vw };
		const found = [];
		if (de.scrollWidth > de.clientWidth + TOL)
			found.push({ kind: 'page', selector: 'html', detail: `the page scrolls sideways: scrollWidth ${de.scrollWidth} px > clientWidth ${de.clientWidth} px` });

		const all = document.body ? [document.body, ...document.body.querySelectorAll('*')] : [];
		for (const el of all) {
			if (SKIP_TAGS.has(el.tagName)) continue;
			if (el.closest('svg') && el.tagName.toLowerCase() !== 'svg') continue;
			if (!rendered(el)) continue;
			const hidden = srOnly(el); // its box still counts, what it clips on purpose does not
			const cs = getComputedStyle(el);
			const rect = el.getBoundingClientRect();
			const anc = overflowAncestor(el);
			const free = !anc; // nothing above it scrolls or clips
			if (free && (rect.right > vw + TOL || rect.left < -TOL) && rect.width > 0) {
				let how = '';
				if (cs.position === 'absolute' || cs.position === 'fixed') {
					const cb = positionedAncestor(el);
					how = `; position: ${cs.position}, its containing block is ${cb ? selectorOf(cb) : 'the page'}, so no scrolling or clipping ancestor holds it`;
				}
				found.push({ kind: 'viewport', el, selector: selectorOf(el), detail: `extends past the ${vw} px viewport by ${side(rect, view)} (box ${Math.round(rect.left)}..${Math.round(rect.right)} px${hidden ? ', visually hidden' : ''}${how})${hidden ? '' : culprit(el, view)}` });
			}
			if (free && !hidden && cs.position !== 'absolute' && cs.position !== 'fixed' && el !== document.body) {
				const p = containerOf(el);
				if (p && p !== document.documentElement) {
					const pr = p.getBoundingClientRect();
					const s = side(rect, pr);
					if (s && rect.width > 0)
						found.push({ kind: 'container', el, selector: selectorOf(el), detail: `overflows its container ${selectorOf(p)} by ${s} (${Math.round(rect.width)} px wide in ${Math.round(pr.width)} px)${culprit(el, pr)}` });
				}
			}
			// Text runs directly in this element that stick out of its box.
			if (free && !hidden && cs.overflowX === 'visible' && cs.display !== 'inline' && cs.display !== 'contents') {
				for (const n of el.childNodes) {
					if (n.nodeType !== 3 || !n.nodeValue.trim()) continue;
					const r = document.createRange();
					r.selectNodeContents(n);
					const tr = r.getBoundingClientRect();
					const s = side(tr, rect);
					if (s && tr.width > 0) {
						found.push({ kind: 'text', el, selector: selectorOf(el), detail: `text "${short(n.nodeValue, 50)}" sticks out of its box by ${s}` });
						break;
					}
				}
			}
			const ox = cs.overflowX;
			if (!hidden && (ox === 'hidden' || ox === 'clip') && el.scrollWidth > el.clientWidth + TOL && el.textContent.trim() && el !== document.body)
				found.push({ kind: 'clipped', el, selector: selectorOf(el), detail: `cuts off its content: scrollWidth ${el.scrollWidth} px > clientWidth ${el.clientWidth} px (overflow-x: ${ox}${cs.textOverflow === 'ellipsis' ? ', text-overflow: ellipsis' : ''}; text "${short(el.textContent, 50)}")` });
		}
		// Only the outermost offender of each kind; count the ones inside it.
		const out = [];
		for (const f of found) {
			if (!f.el) { out.push({ kind: f.kind, selector: f.selector, detail: f.detail, inside: 0 }); continue; }
			const outer = found.some((g) => g !== f && g.kind === f.kind && g.el && g.el !== f.el && g.el.contains(f.el));
			if (outer) continue;
			const inside = found.filter((g) => g.kind === f.kind && g.el && g.el !== f.el && f.el.contains(g.el)).length;
			out.push({ kind: f.kind, selector: f.selector, detail: f.detail, inside });
		}
		return { viewport: vw, problems: out };
	}

	// ---- colour
	function parseColor(s) {
		const m = s.match(/^rgba?\(([^)]+)\)$/);
		if (!m) {
			const c = s.match(/^color\(srgb ([\d.]+) ([\d.]+) ([\d.]+)(?: \/ ([\d.]+))?\)$/);
			if (c) return [c[1] * 255, c[2] * 255, c[3] * 255, c[4] === undefined ? 1 : +c[4]];
			return null;
		}
		const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
		return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
	}
	function over(top, bottom) { // source-over of two colours, bottom opaque
		const a = top[3];
		return [top[0] * a + bottom[0] * (1 - a), top[1] * a + bottom[1] * (1 - a), top[2] * a + bottom[2] * (1 - a), 1];
	}
	function lum(c) {
		const f = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
		return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
	}
	function ratio(a, b) {
		const la = lum(a), lb = lum(b);
		return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
	}
	function hex(c) {
		return '#' + c.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, '0')).join('');
	}
	// What the canvas shows under a transparent root: white, or Chromium's
	// dark canvas when the page takes part in dark mode.
	function canvas() {
		const dark = matchMedia('(prefers-color-scheme: dark)').matches &&
			/dark/.test(getComputedStyle(document.documentElement).colorScheme || '');
		return dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
	}
	// The opaque colour behind el's text: its own background over its
	// ancestors' backgrounds over the canvas. Flags background images.
	function backgroundOf(el) {
		const layers = [];
		let image = null;
		let opacity = 1;
		for (let e = el; e; e = e.parentElement) {
			const cs = getComputedStyle(e);
			opacity *= parseFloat(cs.opacity);
			if (cs.backgroundImage && cs.backgroundImage !== 'none' && !image) image = selectorOf(e);
			const c = parseColor(cs.backgroundColor);
			if (c && c[3] > 0) {
				layers.push(c);
				if (c[3] >= 1) break;
			}
		}
		let bg = canvas();
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return { bg, image, opacity };
	}

	const BUTTONS = 'button, .button, [class*="button-"], [role="button"], input[type="submit"], input[type="button"], input[type="reset"]';

	/*
	 * contrast(): every rendered, enabled button-like element with text
	 * (button, .button, .button-*, [role=button], input buttons): its text
	 * colour against the opaque background behind it, from computed styles,
	 * against WCAG 1.4.3 AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px
	 * bold). Disabled controls are exempt (WCAG: inactive components) and
	 * listed as such.
	 */
	function contrast() {
		const out = [];
		const seen = new Set();
		for (const el of document.querySelectorAll(BUTTONS)) {
			if (seen.has(el)) continue;
			seen.add(el);
			if (!rendered(el) || srOnly(el)) continue;
			const text = (el.tagName === 'INPUT' ? el.value : el.innerText || '').trim();
			if (!text) continue;
			const cs = getComputedStyle(el);
			const disabled = el.disabled || el.getAttribute('aria-disabled') === 'true';
			const fg0 = parseColor(cs.color);
			const { bg, image, opacity } = backgroundOf(el);
			if (!fg0) continue;
			let fg = over(fg0, bg);
			let bgv = bg;
			if (opacity < 1) { // the element (or an ancestor) is translucent: seen over the page behind
				const behind = backgroundOf(el.parentElement || el).bg;
				fg = over([fg[0], fg[1], fg[2], opacity], behind);
				bgv = over([bg[0], bg[1], bg[2], opacity], behind);
			}
			const size = parseFloat(cs.fontSize);
			const bold = parseInt(cs.fontWeight, 10) >= 700;
			const large = size >= 24 || (bold && size >= 18.66);
			const need = large ? 3 : 4.5;
			const r = ratio(fg, bgv);
			out.push({
				selector: selectorOf(el),
				classes: el.tagName.toLowerCase() + [...el.classList].map((c) => '.' + c).join(''),
				text: short(text, 40),
				fg: hex(fg), bg: hex(bgv), ratio: Math.round(r * 100) / 100, need, large,
				disabled, image, pass: disabled || r >= need,
			});
		}
		return out;
	}

	/*
	 * untranslated(appName): in an Arabic page, text a person reads (text
	 * nodes, including screen-reader-only ones and select options; the
	 * document's title; placeholder, aria-label, alt and input-button values)
	 * that contains a Latin word of 3+ letters. Not checked: technical values
	 * marked as such — inside bdi, code, kbd, samp, pre, var, time, [dir=ltr],
	 * .mono, or an element with a lang other than ar (e.g. the language
	 * names) — what the page says is not to be translated ([translate=no]:
	 * names people gave, in an option that cannot hold a bdi), form values,
	 * and the app's name.
	 */
	function untranslated(appName) {
		const LATIN = /\p{Script=Latin}{3,}/gu;
		const brand = new Set((appName || '').split(/\s+/).filter(Boolean).map((w) => w.toLowerCase()));
		const TECH = 'bdi, code, kbd, samp, pre, var, time, [dir="ltr"], [translate="no"], .mono, script, style, template, noscript, svg';
		function exempt(el) {
			if (!el) return true;
			if (el.closest(TECH)) return true;
			const l = el.closest('[lang]');
			if (l && l !== document.documentElement && !/^ar\b/i.test(l.getAttribute('lang'))) return true;
			return false;
		}
		function words(s) {
			return (s.match(LATIN) || []).filter((w) => !brand.has(w.toLowerCase()));
		}
		const out = [];
		const add = (el, where, text, w) => out.push({ selector: el ? selectorOf(el) : 'head > title', where, text: short(text), words: [...new Set(w)] });
		const t = document.title;
		const tw = words(t);
		if (tw.length) add(null, 'title', t, tw);
		const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n = walker.nextNode(); n; n = walker.nextNode()) {
			const el = n.parentElement;
			const w = words(n.nodeValue);
			if (!w.length || exempt(el)) continue;
			const opt = el.closest('option, optgroup');
			const host = opt ? opt.closest('select') : el;
			if (!host || !rendered(host)) continue;
			add(el, opt ? 'option' : srOnly(el) ? 'screen-reader text' : 'text', n.nodeValue, w);
		}
		// Not title: it mostly holds the whole of a shortened value (a browser's
		// user agent, an exact time), which is data, not interface text.
		for (const el of document.body.querySelectorAll('[placeholder], [aria-label], img[alt], input[type="submit"], input[type="button"], input[type="reset"]')) {
			if (exempt(el) || !rendered(el)) continue;
			const attrs = ['placeholder', 'aria-label', 'alt'];
			if (el.tagName === 'INPUT' && /^(submit|button|reset)$/.test(el.type)) attrs.push('value');
			for (const a of attrs) {
				const v = el.getAttribute(a);
				const w = v ? words(v) : [];
				if (w.length) add(el, `${a}=`, v, w);
			}
		}
		return out;
	}

	/*
	 * axe(): axe-core (injected with this file) on the whole document, all
	 * its default rules; the violations of impact serious or critical, one
	 * entry per element, named by our selector paths.
	 */
	async function axe() {
		const r = await window.axe.run(document, { resultTypes: ['violations'], preload: false, selectors: false, elementRef: true });
		const out = [];
		for (const x of r.violations) {
			if (x.impact !== 'serious' && x.impact !== 'critical') continue;
			for (const n of x.nodes) {
				const summary = (n.failureSummary || '').split('\n').slice(1).join(' ').replace(/\s+/g, ' ').trim();
				out.push({ id: x.id, impact: x.impact, help: x.help,
					selector: n.element && n.element.nodeType === 1 ? selectorOf(n.element) : '(document)', summary: short(summary, 300) });
			}
		}
		return out;
	}

	// The CSP violations the page saw since the last call (pages.mjs
	// listens from the start).
	function csp() {
		return (window.__aapanelCsp || []).splice(0);
	}

	/*
	 * all({lang, appName}): after the fonts are in, <html lang dir>, whether
	 * there is an h1, layout(), contrast(), untranslated() when lang is ar,
	 * and csp() — one round trip for a visit.
	 */
	async function all({ lang, appName }) {
		await document.fonts.ready;
		const de = document.documentElement;
		return {
			html: { lang: de.lang, dir: de.dir, h1: !!document.querySelector('h1'),
				scheme: matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light' },
			layout: layout(),
			contrast: contrast(),
			untranslated: lang === 'ar' ? untranslated(appName) : [],
			csp: csp(),
		};
	}

	window.__aapanelChecks = { layout, contrast, untranslated, axe, csp, all };
})();
