// Every page of the panel in a real browser (Debian's Chromium, driven by
// playwright-core): each GET route that has a template, as each role that
// may ask for it (a 403 page is a page too), the sign-in pages, the
// confirmation page of every destructive route, a 404, a 400 and a 405
// error page — in English and Arabic, light and dark, at
// 1366x768 and 360x740. Every visit is checked for:
//   layout     horizontal overflow (page, viewport, container, text, clipped)
//   axe        axe-core violations of impact serious or critical
//   contrast   WCAG AA contrast of every button style (computed colours)
//   console    console errors, CSP violations, page errors, failed requests
//   arabic     untranslated text: Latin words outside technical markup
// (and that it loads: expected status, no redirect, <html lang dir>), and
// photographed into ARTIFACTS_DIR (index.html shows them all). The checks
// that read the page are in inpage.js; selftest.mjs tests them.
//
// Each identity and language has a browser context (the lang cookie, a
// session signed in through the login form); BROWSER_WORKERS of them run
// at once in one Chromium. A page is loaded afresh for each width, in a
// page of its own (opened from the group's first page, so it shares its
// renderer and axe-core is compiled once); light and dark are then
// switched in place (the theme changes colours only), each a visit of its
// own with every check. The
// contexts keep the page's CSP: axe-core and inpage.js are evaluated over
// the DevTools protocol, which the CSP does not govern, so the CSP check
// sees the page as served.
//
// The page list comes from the route table (aapanel routes --json): a new
// screen is visited without changing this file, and a GET route with a
// template that is not visited fails the run unless EXCLUDED says why.
//
// Environment:
//   BASE_URL        panel origin, e.g. http://127.0.0.1:20080
//   ROUTES_JSON     file with the output of `aapanel routes --json`
//   FIXTURES_JSON   file written by tests/browser/fixtures.sh (accounts, ids)
//   ARTIFACTS_DIR   where the screenshots, index.html, results.json and
//                   problems.txt go
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//   BROWSER_WORKERS pages checked at the same time (default 3)
//   BROWSER_TOTAL_MS  watchdog for the whole run (default 300000)
//   BROWSER_MATRIX  "pairs" (default): each page, for each identity, in both
//                   languages, both themes and both widths, as 4 visits that
//                   cover every pair of them (en light 1366, en dark 360,
//                   ar dark 1366, ar light 360); "full": all 8 combinations
//   BROWSER_ONLY    only screens whose path contains this (while developing;
//                   the coverage check then fails, as it should)
// Chromium keeps its profile in a fresh directory under TMPDIR.
//
// Prints one line per check ("  ok   ..." / "  FAIL ..." with the problems
// indented below), then a summary; exits 0 when every check passed.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { LAUNCH_ARGS, StepError, chromiumExe, cspListener, need as needVar, recordConsole, withTimeout } from './lib.mjs';
import { describeVariants, writeIndex } from './report.mjs';

const PROG = 'pages.mjs';
const need = (name) => needVar(PROG, name);
const BASE_URL = need('BASE_URL').replace(/\/+$/, '');
const ROUTES = JSON.parse(readFileSync(need('ROUTES_JSON'), 'utf8'));
const FIX = JSON.parse(readFileSync(need('FIXTURES_JSON'), 'utf8'));
const ARTIFACTS = need('ARTIFACTS_DIR');
const EXE = chromiumExe(PROG);
const WORKERS = Math.max(1, Number(process.env.BROWSER_WORKERS) || 3);
const TOTAL_MS = Number(process.env.BROWSER_TOTAL_MS) || 300_000;
const ONLY = process.env.BROWSER_ONLY || '';
const TIMING = process.env.BROWSER_TIMING ? {} : null; // ms per step, summed (printed at the end)
// Bound for every navigation, wait, action and evaluation: generous, because a
// loaded 2-core machine (make check runs two suites at once) was seen to take
// over 15 s to inject axe-core once; the whole run stays bounded by TOTAL_MS.
const STEP_MS = 45_000;
const AXE_MS = 30_000;    // one axe run

const require = createRequire(import.meta.url);
// axe-core and our checks, evaluated in each page through the DevTools
// protocol: the page's CSP (script-src 'self') does not apply to that, and
// the page is left as it is, so the console and CSP checks see the page alone.
const CHECKS_SRC = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') + '\n;\n' +
	readFileSync(new URL('./inpage.js', import.meta.url), 'utf8');

const LANGS = ['en', 'ar'];
const THEMES = ['light', 'dark'];
const VIEWPORTS = [{ width: 1366, height: 768 }, { width: 360, height: 740 }];
const FULL_MATRIX = process.env.BROWSER_MATRIX === 'full';
// The themes a load is visited in: every one (full), or the one of the pair
// design (each language sees each theme at one width and the other at the other).
const themesFor = (lang, vpIndex) =>
	FULL_MATRIX ? THEMES : [THEMES[(vpIndex + (lang === 'ar' ? 1 : 0)) % THEMES.length]];
const ROLES = ['admin', 'operator', 'viewer'];

// GET routes with a template that are not visited, and why. Keep it short:
// every entry is a screen nobody looks at in a browser test.
const EXCLUDED = new Map([
	// ['/pattern', 'why it is not visited'],
	// Its confirmation page needs a snapshot's fields (a bare POST is a 400 naming them);
	// t_backups.sh asks for it from the browser and checks the page.
	['/backups/restore', 'a restore confirms with the snapshot it restores (t_backups.sh)'],
]);

// Public routes that are a page only in a state other than "anonymous",
// and who visits them then.
const VISIT_AS = new Map([
	// The code page exists between the password and the code; anonymous, it
	// sends the browser to /login.
	['/login/2fa', ['mfa-pending']],
]);

// Pages that look different for someone in a particular state, visited by
// them as well as by the roles.
const VISIT_ALSO = new Map([
	// With two-factor on, the page is the form that turns it off.
	['/account/2fa', ['mfa']],
]);

const CHECKS = [
	['loads', 'loads (status, no redirect, <html lang dir>)'],
	['layout', 'no horizontal overflow'],
	['axe', 'axe: no serious or critical violations'],
	['contrast', 'buttons meet WCAG AA contrast'],
	['console', 'no console errors, CSP violations or page errors'],
	['arabic', 'Arabic: no untranslated text'],
];

const started = Date.now();
const coverage = [];   // {ok, name, detail}

// ---- the page list, from the route table

function isGetPage(r) {
	return r.methods.includes('GET') && r.template;
}

// The route's pattern with each {param} filled from FIX.ids by the literal
// prefix before it ("/users/{id}/x" -> ids["/users"]).
function fill(pattern) {
	return pattern.replace(/\{([^}]+)\}/g, (m, name, offset) => {
		const prefix = pattern.slice(0, offset).replace(/\/+$/, '');
		const id = FIX.ids && FIX.ids[prefix];
		if (id === undefined || id === null || id === '')
			throw new StepError(`no id for ${m} after ${prefix} in FIXTURES_JSON ids: make the data in tests/browser/fixtures.sh and add "${prefix}" to its ids`);
		return encodeURIComponent(String(id));
	});
}

function buildScreens() {
	const screens = [];
	const add = (s) => { if (!ONLY || s.path.includes(ONLY)) screens.push(s); };
	for (const r of ROUTES) {
		if (!isGetPage(r)) continue;
		if (EXCLUDED.has(r.pattern)) continue;
		let path;
		try {
			path = fill(r.pattern);
		} catch (e) {
			coverage.push({ ok: false, name: `GET ${r.pattern} (${r.template}) can be visited`, detail: [e.message] });
			continue;
		}
		const who = [...(VISIT_AS.get(r.pattern) || (r.public ? ['anon'] : ROLES)), ...(VISIT_ALSO.get(r.pattern) || [])];
		for (const identity of who)
			add({ route: r.pattern, template: r.template, path, identity,
				expect: r.public || identity === 'admin' ? [200] : [200, 403] });
	}
	// The confirmation page of every destructive route (a POST without
	// "confirmed" asks first and changes nothing), as admin, who may do them all.
	for (const r of ROUTES) {
		if (!r.confirm || !r.methods.includes('POST') || EXCLUDED.has(r.pattern)) continue;
		let path;
		try {
			path = fill(r.pattern);
		} catch (e) {
			coverage.push({ ok: false, name: `POST ${r.pattern} (confirmation page) can be visited`, detail: [e.message] });
			continue;
		}
		add({ route: r.pattern, method: 'POST', template: 'confirm', name: `${path} (confirmation)`, path,
			identity: r.public ? 'anon' : 'admin', expect: [200] });
	}
	// Not found, signed in (each role) and anonymous.
	for (const identity of ['anon', ...ROLES])
		add({ route: null, template: 'error', name: '404 page', path: '/no-such-page/browser-test', identity, expect: [404] });
	// The error page with a field: a GET page route without a form page of its
	// own, given a bad number or choice.
	const bad = ROUTES.find((r) => isGetPage(r) && !r.has_form_page && !r.pattern.includes('{') &&
		r.fields.some((f) => f.in === 'form' && (f.type === 'int' || f.type === 'enum')));
	if (bad) {
		const f = bad.fields.find((x) => x.in === 'form' && (x.type === 'int' || x.type === 'enum'));
		const path = `${bad.pattern}?${encodeURIComponent(f.name)}=not-a-${f.type === 'int' ? 'number' : 'choice'}`;
		for (const identity of bad.public ? ['anon', 'admin'] : ['admin'])
			add({ route: null, template: 'error', name: '400 page', path, identity, expect: [400] });
	} else {
		coverage.push({ ok: false, name: 'the 400 error page can be visited', detail: ['no GET page route without a form page takes a number or a choice'] });
	}
	// GET on a route that takes only POST.
	const post = ROUTES.find((r) => !r.methods.includes('GET') && r.methods.includes('POST') && !r.pattern.includes('{'));
	if (post) {
		for (const identity of ['anon', 'admin'])
			add({ route: null, template: 'error', name: '405 page', path: post.pattern, identity, expect: [405] });
	} else {
		coverage.push({ ok: false, name: 'the 405 error page can be visited', detail: ['no POST-only route'] });
	}
	for (const s of screens) {
		s.name = s.name || s.path;
		s.label = `${s.name.includes(s.path) ? s.name : `${s.name} (${s.path})`} as ${s.identity}`;
		s.visits = [];
	}
	return screens;
}

// ---- one browser context per identity and language

// Who the identities are: the role accounts; "mfa" has two-factor on and
// signs in with a recovery code (one per context, each works once);
// "mfa-pending" stops after the password, on the code page.
let recoveryUsed = 0;
async function submitAndWait(page, form, want, who) {
	await Promise.all([
		page.waitForURL((u) => u.pathname === want, { waitUntil: 'load' }),
		page.locator(`${form} [type="submit"]`).click(),
	]).catch(async (e) => {
		const alert = await page.locator('.alert-error').first().innerText().catch(() => '');
		throw new StepError(`signing in as ${who} did not reach ${want}: at ${page.url()} ${alert ? `the page says: ${alert.trim()}` : e.message}`);
	});
}

async function signIn(page, identity, lang) {
	const acct = identity.startsWith('mfa') ? FIX.mfa : FIX.accounts[identity];
	if (!acct) throw new StepError(`no account for ${identity} in FIXTURES_JSON`);
	const who = `${acct.user} (${lang})`;
	const res = await page.goto(BASE_URL + '/login', { waitUntil: 'load' });
	if (!res || res.status() !== 200) throw new StepError(`GET /login: HTTP ${res && res.status()}`);
	await page.fill('input[name="username"]', acct.user);
	await page.fill('input[name="password"]', acct.password);
	await submitAndWait(page, 'form:has(input[name="username"])', identity.startsWith('mfa') ? '/login/2fa' : '/', who);
	if (identity !== 'mfa') return;
	const code = (acct.recovery || [])[recoveryUsed++];
	if (!code) throw new StepError(`no recovery code left for ${acct.user} in FIXTURES_JSON`);
	await page.fill('input[name="code"]', code);
	await submitAndWait(page, 'form:has(input[name="code"])', '/', who);
}

function shotName(s, v) {
	const slug = (s.name === s.path ? s.path : s.name).replace(/^\/+/, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'home';
	return `${slug}--${s.identity}--${v.lang}--${v.theme}--${v.width}.jpg`;
}

// The same problem in every row of a table (or item of a list) is one
// problem: a key without the row's position or the row's id (in a path,
// an attribute or an element id such as #reset-4).
function norm(key) {
	return key.replace(/\b(tr|li|option|dt|dd):nth-of-type\(\d+\)/g, '$1')
		.replace(/#([\w-]*?)-?\d+\b/g, '#$1-N')
		.replace(/(\[[a-z-]+="[^"]*?)\d+([^"]*"\])/g, '$1N$2')
		.replace(/\/\d+\//g, '/N/');
}

// load(page, s, vp, sink): the screen's page, loaded afresh at the
// viewport's size (light) — a GET, or for a confirmation page the form
// sent from the home page — with axe-core and inpage.js injected. Returns
// what the loading tells: status, and where the browser ended up.
async function load(page, s, vp, sink) {
	const problems = [];
	let t0 = Date.now();
	await page.setViewportSize({ width: vp.width, height: vp.height });
	await page.emulateMedia({ colorScheme: THEMES[0], reducedMotion: 'reduce' });
	const url = BASE_URL + s.path;
	let res;
	if (s.method === 'POST') {
		// A form like the panel's own, sent from one of its pages (the session's
		// token, our Origin); what that page reported is not this visit's.
		await page.goto(BASE_URL + '/', { waitUntil: 'load' });
		sink.splice(0);
		[res] = await Promise.all([
			page.waitForNavigation({ waitUntil: 'load' }),
			withTimeout(page.evaluate((action) => {
				const f = document.createElement('form');
				f.method = 'post';
				f.action = action;
				const csrf = document.querySelector('input[name="csrf"]');
				if (csrf) f.append(Object.assign(document.createElement('input'), { type: 'hidden', name: 'csrf', value: csrf.value }));
				document.body.append(f);
				f.submit();
			}, url), STEP_MS, 'sending the form'),
		]);
	} else {
		res = await page.goto(url, { waitUntil: 'load' });
	}
	const status = res ? res.status() : null;
	const landed = new URL(page.url());
	const asked = new URL(url);
	if (!s.expect.includes(status)) problems.push(`HTTP ${status}, expected ${s.expect.join(' or ')}`);
	if (landed.pathname + landed.search !== asked.pathname + asked.search) problems.push(`was sent to ${landed.pathname}${landed.search}`);
	if (TIMING) TIMING.goto = (TIMING.goto || 0) + Date.now() - t0;
	t0 = Date.now();
	await withTimeout(page.evaluate(CHECKS_SRC), STEP_MS, 'injecting axe-core and inpage.js');
	if (TIMING) TIMING.inject = (TIMING.inject || 0) + Date.now() - t0;
	return { url, status, problems };
}

// visit(page, s, v, loaded, sink): one variant (theme) of a loaded page:
// every check, the screenshots. The theme is switched in place (it changes
// colours only); what the browser reported since the last variant (the
// load, for the first) belongs to this one.
async function visit(page, s, v, loaded, sink) {
	const p = { loads: [...loaded.problems], layout: [], axe: [], contrast: [], console: [], arabic: [] };
	const rec = { lang: v.lang, theme: v.theme, width: v.width, status: loaded.status, shot: shotName(s, v), full: null, problems: p };
	let t0 = Date.now();
	const lap = (what) => { if (TIMING) TIMING[what] = (TIMING[what] || 0) + Date.now() - t0; t0 = Date.now(); };
	const ev = (fn, arg, what, ms = STEP_MS) => withTimeout(page.evaluate(fn, arg), ms, what);

	await page.emulateMedia({ colorScheme: v.theme, reducedMotion: 'reduce' });
	const r = await ev((a) => window.__aapanelChecks.all(a), { lang: v.lang, appName: FIX.app_name || '' }, 'checks in the page');
	lap('checks');
	const wantDir = v.lang === 'ar' ? 'rtl' : 'ltr';
	if (r.html.lang !== v.lang || r.html.dir !== wantDir) p.loads.push(`<html lang="${r.html.lang}" dir="${r.html.dir}">, expected lang="${v.lang}" dir="${wantDir}"`);
	if (!r.html.h1) p.loads.push('no <h1>');
	if (r.html.scheme !== v.theme) p.loads.push(`prefers-color-scheme is not ${v.theme} in the page`);
	for (const o of r.layout.problems)
		p.layout.push({ key: norm(`${o.kind} ${o.selector}`), dup: o.selector, text: `${o.kind}: ${o.selector} ${o.detail}${o.inside ? ` (and ${o.inside} inside it)` : ''}` });
	rec.buttons = r.contrast.length;
	for (const b of r.contrast) {
		if (b.pass) continue;
		p.contrast.push({ key: norm(`${b.classes} ${b.fg} on ${b.bg}`), dup: b.selector, text: `${b.classes} "${b.text}": ${b.ratio}:1 (${b.fg} on ${b.bg}), needs ${b.need}:1${b.large ? ' (large text)' : ''}${b.image ? ` [background image on ${b.image} not counted]` : ''} — ${b.selector}` });
	}
	for (const u of r.untranslated) {
		// One problem per string: the same words around other names (rows) are one.
		const shape = u.text.replace(/\S*\p{Script=Latin}\S*/gu, 'L').replace(/\d+/g, 'N');
		p.arabic.push({ key: norm(`${u.where} ${u.selector} ${shape}`), dup: `${u.selector} ${u.words.join(' ')}`,
			text: `${u.where} "${u.text}" (${u.words.join(', ')}) at ${u.selector}` });
	}
	for (const c of r.csp) p.console.push({ key: `csp ${c}`, text: `CSP violation: ${c}` });

	// The viewport for every visit; the whole page too when it overflows,
	// so the part that sticks out can be seen.
	await page.screenshot({ path: join(ARTIFACTS, rec.shot), type: 'jpeg', quality: 60, timeout: STEP_MS });
	if (p.layout.length) {
		rec.full = rec.shot.replace(/\.jpg$/, '--full.jpg');
		await page.screenshot({ path: join(ARTIFACTS, rec.full), type: 'jpeg', quality: 50, fullPage: true, timeout: STEP_MS });
	}
	lap('screenshot');

	// axe last: it may scroll the page while it looks at colours.
	const axe = await ev(() => window.__aapanelChecks.axe(), undefined, 'axe.run', AXE_MS);
	for (const x of axe)
		p.axe.push({ key: norm(`${x.id} ${x.selector}`), dup: x.selector, text: `${x.id} (${x.impact}): ${x.help} — ${x.selector}${x.summary ? ` — ${x.summary}` : ''}` });
	await ev(() => window.scrollTo(0, 0), undefined, 'scrolling back');
	lap('axe');

	for (const e of sink.splice(0)) {
		// Chromium logs the document's own error status; that status was
		// expected (and is checked above), so it is not an error here.
		const own = e.kind === 'console' && e.url === loaded.url && e.text.match(/^Failed to load resource: the server responded with a status of (\d+)/);
		if (own && Number(own[1]) === rec.status && s.expect.includes(rec.status)) continue;
		p.console.push({ key: `${e.kind} ${e.text}`, text: `${e.kind}: ${e.text}${e.url ? ` (${e.url})` : ''}` });
	}
	p.loads = p.loads.map((t) => ({ key: t, text: t }));
	return rec;
}

async function runGroup(browser, g) {
	const context = await browser.newContext({
		viewport: VIEWPORTS[0], locale: g.lang === 'ar' ? 'ar' : 'en-US', colorScheme: 'light',
		reducedMotion: 'reduce',
	});
	const failed = (v, key, text) => ({ lang: v.lang, theme: v.theme, width: v.width, status: null, shot: null,
		problems: { loads: [{ key, text }] } });
	try {
		context.setDefaultTimeout(STEP_MS);
		context.setDefaultNavigationTimeout(STEP_MS);
		await context.addCookies([{ name: 'lang', value: g.lang, url: BASE_URL + '/' }]);
		await context.addInitScript(cspListener);
		// The page that signs in stays open: each load gets a page of its own
		// opened from it (window.open), which Chromium keeps in the same
		// renderer process, so axe-core is compiled once per group, not per load.
		let signinError = null;
		const opener = await context.newPage();
		if (g.identity !== 'anon') {
			try {
				await signIn(opener, g.identity, g.lang);
			} catch (e) {
				signinError = e.message;
			}
		} else {
			await opener.goto(BASE_URL + '/login', { waitUntil: 'load' }).catch((e) => { signinError = `GET /login: ${e.message}`; });
		}
		const newPage = async () => {
			try {
				const [p] = await Promise.all([
					opener.waitForEvent('popup', { timeout: STEP_MS }),
					withTimeout(opener.evaluate(() => { window.open('about:blank', '_blank'); }), STEP_MS, 'window.open'),
				]);
				return p;
			} catch {
				return context.newPage(); // the same, compiled afresh
			}
		};
		const why = (e) => (e instanceof StepError ? e.message : (e && e.message) || String(e));
		for (const s of g.screens) {
			for (const [vpIndex, vp] of VIEWPORTS.entries()) {
				const variants = themesFor(g.lang, vpIndex).map((theme) => ({ lang: g.lang, theme, ...vp }));
				if (signinError) {
					for (const v of variants) s.visits.push(failed(v, 'sign-in', signinError));
					continue;
				}
				// A page of its own for every load: what the browser reports
				// belongs to it, and one that broke leaves nothing behind.
				const sink = [];
				const page = await newPage();
				recordConsole(page, sink);
				try {
					let loaded;
					try {
						loaded = await load(page, s, vp, sink);
					} catch (e) {
						for (const v of variants) s.visits.push(failed(v, 'load', `loading the page failed: ${why(e)}`));
						continue;
					}
					for (const v of variants) {
						try {
							s.visits.push(await visit(page, s, v, loaded, sink));
						} catch (e) {
							s.visits.push(failed(v, 'visit', `the visit failed: ${why(e)}`));
						}
					}
				} finally {
					await page.close().catch(() => {});
				}
			}
		}
	} finally {
		await context.close().catch(() => {});
	}
}

// ---- output

let pass = 0;
let fail = 0;
const lines = [];
function ok(name) { pass++; lines.push(`  ok   ${name}`); }
function notOk(name, detail) {
	fail++;
	lines.push(`  FAIL ${name}`);
	for (const d of detail) lines.push(`    ${d}`);
}

// The problems of one check over the visits of a screen: each distinct
// problem once, with the variants (lang, theme, width) it shows in.
function collate(visits, check) {
	const by = new Map();
	for (const v of visits) {
		for (const pr of (v.problems[check] || [])) {
			let e = by.get(pr.key);
			if (!e) by.set(pr.key, e = { text: pr.text, texts: new Set(), variants: [] });
			// Another element (another row), not the same one in another size or language.
			e.texts.add(pr.dup !== undefined ? pr.dup : pr.text.replace(/\d+(\.\d+)?/g, 'N'));
			e.variants.push(v);
		}
	}
	// Several of one kind (rows of a table): the first, and how many more.
	return [...by.entries()].map(([key, e]) => ({ ...e, key, text: e.texts.size > 1 ? `${e.text} (and ${e.texts.size - 1} more like it)` : e.text }));
}

function report(screens) {
	for (const s of screens) {
		const statuses = [...new Set(s.visits.map((v) => v.status))].join('/');
		for (const [check, title] of CHECKS) {
			const vs = check === 'arabic' ? s.visits.filter((v) => v.lang === 'ar') : s.visits;
			if (vs.length === 0) continue;
			const probs = collate(vs, check);
			const name = `${s.label} [HTTP ${statuses}]: ${title} (${describeVariants(vs)})`;
			if (probs.length === 0) ok(name);
			else {
				const detail = [];
				const cap = 25;
				for (const pr of probs.slice(0, cap))
					detail.push(`${pr.text}  [${describeVariants(pr.variants)}]`);
				if (probs.length > cap) detail.push(`… and ${probs.length - cap} more (results.json)`);
				notOk(name, detail);
			}
		}
	}
}

// problems.txt: every distinct problem once, grouped by check, with every
// screen and variant it shows in — the list to work through.
function problemsText(screens) {
	const out = [];
	for (const [check, title] of CHECKS) {
		const by = new Map();
		for (const s of screens) {
			const vs = check === 'arabic' ? s.visits.filter((v) => v.lang === 'ar') : s.visits;
			for (const pr of collate(vs, check)) {
				// The same element (or message) on other screens is the same problem.
				// "The page scrolls sideways" is one problem per page, though.
				const key = pr.key.startsWith('page ') ? `${pr.key} ${s.path}` : pr.key;
				let e = by.get(key);
				if (!e) by.set(key, e = { text: pr.text, where: [] });
				e.where.push(`${s.label}: ${describeVariants(pr.variants)}`);
			}
		}
		if (by.size === 0) continue;
		out.push(`== ${title}: ${by.size} distinct problem${by.size === 1 ? '' : 's'}`);
		for (const e of by.values()) {
			out.push(`- ${e.text}`);
			for (const w of e.where) out.push(`    ${w}`);
		}
		out.push('');
	}
	return out.join('\n');
}

// finish(screens, note): the checks over what was visited, the coverage
// check, the artifacts, the output. Synchronous, so the watchdog can call it
// while visits are still under way.
function finish(screens, note) {
	const rank = (v) => LANGS.indexOf(v.lang) * 100 + VIEWPORTS.findIndex((x) => x.width === v.width) * 10 + THEMES.indexOf(v.theme);
	for (const s of screens) s.visits.sort((a, b) => rank(a) - rank(b));
	if (note) notOk(note, ['the checks below cover only the visits made until then']);

	// Coverage: every GET route with a template was seen as a page.
	for (const r of ROUTES) {
		if (!isGetPage(r)) continue;
		const name = `GET ${r.pattern} (template ${r.template}) is visited`;
		if (EXCLUDED.has(r.pattern)) { ok(`${name}: excluded, ${EXCLUDED.get(r.pattern)}`); continue; }
		if (coverage.some((c) => c.name.startsWith(`GET ${r.pattern} `))) continue;
		const seen = screens.filter((s) => s.route === r.pattern && s.method !== 'POST' && s.visits.some((v) => v.status !== null && !v.problems.loads.length));
		if (seen.length) ok(`${name}: ${seen.map((s) => `${s.identity} ${[...new Set(s.visits.map((v) => v.status))].join('/')}`).join(', ')}`);
		else notOk(name, ONLY ? [`BROWSER_ONLY=${ONLY} left it out`] : ['no visit reached it (see its loads check)']);
	}
	for (const r of ROUTES) {
		if (!r.confirm || !r.methods.includes('POST')) continue;
		const name = `POST ${r.pattern} asks on a confirmation page, which is visited`;
		if (EXCLUDED.has(r.pattern)) { ok(`${name}: excluded, ${EXCLUDED.get(r.pattern)}`); continue; }
		if (coverage.some((c) => c.name.startsWith(`POST ${r.pattern} `))) continue;
		const seen = screens.filter((s) => s.route === r.pattern && s.method === 'POST' && s.visits.some((v) => v.status !== null && !v.problems.loads.length));
		if (seen.length) ok(`${name}: ${seen.map((s) => s.identity).join(', ')}`);
		else notOk(name, ONLY ? [`BROWSER_ONLY=${ONLY} left it out`] : ['no visit reached it (see its loads check)']);
	}
	for (const c of coverage) (c.ok ? ok(c.name) : notOk(c.name, c.detail));
	report(screens.filter((s) => s.visits.length));

	const visits = screens.reduce((n, s) => n + s.visits.length, 0);
	const secs = ((Date.now() - started) / 1000).toFixed(1);
	mkdirSync(ARTIFACTS, { recursive: true });
	writeFileSync(join(ARTIFACTS, 'results.json'), JSON.stringify({ base: BASE_URL, seconds: Number(secs), pass, fail, screens }, null, 1));
	writeFileSync(join(ARTIFACTS, 'problems.txt'), problemsText(screens) || 'no problems\n');
	writeIndex(join(ARTIFACTS, 'index.html'), screens, { pass, fail, secs, visits, checks: CHECKS });
	for (const l of lines) console.log(l);
	if (TIMING) process.stderr.write(`  ..   time per step (s, all visits): ${Object.entries(TIMING).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(1)}`).join(', ')}\n`);
	console.log(`${PROG}: ${screens.length} screens, ${visits} visits, ${pass} checks passed, ${fail} failed, in ${secs} s`);
	console.log(`${PROG}: screenshots and index.html in ${ARTIFACTS}; every problem once in problems.txt`);
	console.log(`PASSED=${pass} FAILED=${fail}`);
}

// ---- main

let browser;
let screens = [];
let finished = false;
const watchdog = setTimeout(async () => {
	finished = true;
	try {
		finish(screens, `${PROG} finished within ${TOTAL_MS} ms (watchdog, BROWSER_TOTAL_MS)`);
	} finally {
		try { if (browser) await withTimeout(browser.close(), 5000, 'closing the browser'); } catch { /* t_browser.sh kills what is left */ }
		process.exit(1);
	}
}, TOTAL_MS);

let exitCode = 1;
try {
	screens = buildScreens();
	const groups = [];
	for (const identity of ['anon', 'mfa-pending', 'mfa', ...ROLES]) {
		for (const lang of LANGS) {
			const mine = screens.filter((s) => s.identity === identity);
			if (mine.length) groups.push({ identity, lang, screens: mine });
		}
	}
	// Biggest first, so the workers finish together.
	groups.sort((a, b) => b.screens.length - a.screens.length);
	browser = await chromium.launch({ executablePath: EXE, headless: true, args: LAUNCH_ARGS, timeout: STEP_MS });
	const queue = [...groups];
	const worker = async () => {
		for (let g = queue.shift(); g && !finished; g = queue.shift()) {
			const t = Date.now();
			await runGroup(browser, g);
			process.stderr.write(`  ..   ${g.identity}/${g.lang}: ${g.screens.length * THEMES.length * VIEWPORTS.length} visits in ${((Date.now() - t) / 1000).toFixed(1)} s\n`);
		}
	};
	await Promise.all(Array.from({ length: Math.min(WORKERS, groups.length) }, worker));
	await browser.close();
	browser = null;
} catch (err) {
	if (!finished) coverage.push({ ok: false, name: `${PROG} ran to the end`, detail: String((err && err.stack) || err).split('\n') });
} finally {
	if (browser) await withTimeout(browser.close(), 5000, 'closing the browser').catch(() => {});
	clearTimeout(watchdog);
}
if (!finished) {
	finished = true;
	finish(screens, null);
	exitCode = fail === 0 ? 0 : 1;
}
process.exit(exitCode);
