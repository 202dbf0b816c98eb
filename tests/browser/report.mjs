// Report helpers for pages.mjs: short names for sets of variants, and the
// index.html that shows every screenshot at once.
import { writeFileSync } from 'node:fs';

const DIMS = ['lang', 'theme', 'width'];
const ORDER = { en: 0, ar: 1, light: 0, dark: 1 };
const sortVals = (vals) => [...vals].sort((a, b) => (typeof a === 'number' ? b - a : (ORDER[a] ?? 9) - (ORDER[b] ?? 9)));

// describeVariants(subset): the visits' variants, as compactly as a
// product allows: "en+ar · light+dark · 1366+360", "ar · dark · 360",
// or a list by language when the set is no product.
export function describeVariants(subset) {
	const keys = new Set(subset.map((v) => DIMS.map((d) => v[d]).join('|')));
	const uniq = [...keys].map((k) => k.split('|'));
	const product = (rows) => {
		const sets = DIMS.map((_, i) => new Set(rows.map((r) => r[i])));
		const n = sets.reduce((a, s) => a * s.size, 1);
		return n === rows.length ? sets.map((s) => sortVals([...s].map((x) => (/^\d+$/.test(x) ? Number(x) : x))).join('+')).join(' · ') : null;
	};
	const all = product(uniq);
	if (all) return all;
	const byLang = new Map();
	for (const r of uniq) {
		if (!byLang.has(r[0])) byLang.set(r[0], []);
		byLang.get(r[0]).push(r);
	}
	const parts = [];
	for (const lang of sortVals(byLang.keys())) {
		const rows = byLang.get(lang);
		const p = product(rows);
		if (p) parts.push(p);
		else parts.push(...rows.map((r) => r.join(' · ')));
	}
	return parts.join('; ');
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

// writeIndex(file, screens, summary): a grid of thumbnails, one row per
// screen (page and who asked for it), one picture per variant; a picture
// with problems has a red frame and lists them.
export function writeIndex(file, screens, { pass, fail, secs, visits, checks }) {
	const rows = screens.map((s) => {
		const statuses = [...new Set(s.visits.map((v) => v.status))].join('/');
		const figs = s.visits.map((v) => {
			const probs = Object.entries(v.problems).flatMap(([c, list]) => (list || []).map((p) => `${c}: ${p.text}`));
			let cls = probs.length ? 'bad' : 'good';
			const cap = `${v.lang} · ${v.theme} · ${v.width}${v.status !== null ? ` · ${v.status}` : ''}`;
			const img = v.shot ? `<a href="${esc(v.full || v.shot)}" title="${v.full ? 'the whole page' : 'the viewport'}"><img src="${esc(v.shot)}" alt="${esc(`${s.label}, ${cap}`)}" loading="lazy"></a>` : '<div class="noshot">no screenshot</div>';
			const list = probs.length
				? `<details><summary>${probs.length} problem${probs.length === 1 ? '' : 's'}</summary><ul>${probs.map((p) => `<li>${esc(p)}</li>`).join('')}</ul></details>`
				: '<p class="okay">no problems</p>';
			const full = v.full ? ` · <a href="${esc(v.full)}">whole page</a>` : '';
			if (v.lang === 'ar') cls += ' rtl';
			return `<figure class="${cls}">${img}<figcaption>${esc(cap)}${full}</figcaption>${list}</figure>`;
		}).join('\n');
		return `<section><h2>${esc(s.label)} <small>HTTP ${esc(statuses)}</small></h2><div class="grid">\n${figs}\n</div></section>`;
	}).join('\n');
	const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>aaPanel browser test: every page</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem; background: #f4f4f4; color: #111; }
h1 { font-size: 1.3rem; } h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; } small { color: #555; font-weight: normal; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: .6rem; }
figure { margin: 0; padding: .3rem; background: #fff; border: 3px solid #3a3; border-radius: 4px; }
figure.bad { border-color: #c22; }
figure img { display: block; width: 100%; height: 150px; object-fit: cover; object-position: top left; }
figure.rtl img { object-position: top right; }
figcaption { font-weight: 600; margin-top: .2rem; }
details { font-size: 12px; } ul { padding-left: 1rem; margin: .2rem 0; max-height: 20rem; overflow: auto; }
li { overflow-wrap: anywhere; } .okay { color: #262; margin: 0; font-size: 12px; }
.noshot { height: 150px; display: grid; place-items: center; background: #eee; }
</style>
</head>
<body>
<h1>aaPanel browser test: every page</h1>
<p>${screens.length} screens, ${visits} visits, ${pass} checks passed, ${fail} failed, in ${esc(secs)} s.
Checks: ${checks.map(([, t]) => esc(t)).join('; ')}. Every problem once: <a href="problems.txt">problems.txt</a>; all data: <a href="results.json">results.json</a>.</p>
${rows}
</body>
</html>
`;
	writeFileSync(file, html);
}
