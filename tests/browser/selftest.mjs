// The checks of pages.mjs (inpage.js) on small pages made to have, or not
// to have, each problem: a check that cannot fail, or that fails on what
// is fine, is caught here before it judges the panel's pages.
//
// Environment: CHROMIUM (default /usr/bin/chromium); the profile goes to a
// fresh directory under TMPDIR. Prints one line per case and
// PASSED=N FAILED=M; exits 0 when every case passed.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';
import { LAUNCH_ARGS, chromiumExe, cspListener, recordConsole, withTimeout } from './lib.mjs';

const PROG = 'selftest.mjs';
const EXE = chromiumExe(PROG);
const require = createRequire(import.meta.url);
const CHECKS_SRC = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8') + '\n;\n' +
	readFileSync(new URL('./inpage.js', import.meta.url), 'utf8');

const CSS = `
	* { box-sizing: border-box; }
	body { margin: 0; font: 16px/1.5 sans-serif; background: #fff; color: #111; }
	.card { padding: 16px; border: 1px solid #ccc; }
	.wrap { overflow-x: auto; }
	.wrap-rel { overflow-x: auto; position: relative; }
	.vh { position: absolute; inline-size: 1px; block-size: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
	td { padding: 4px 40px; white-space: nowrap; }
	.danger { background: #f28b82; color: #fff; border: 0; padding: 8px; }
	.primary { background: #1f6f5c; color: #fff; border: 0; padding: 8px; }
`;
const page = (body, { lang = 'en', dir = 'ltr' } = {}) =>
	`<!doctype html><html lang="${lang}" dir="${dir}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>t</title><style>${CSS}</style></head><body><main><h1>t</h1>${body}</main></body></html>`;
const wideTable = (extra = '') => `<table><tr>${Array.from({ length: 8 }, (_, i) => `<td>cell number ${i}${i === 7 ? extra : ''}</td>`).join('')}</tr></table>`;

// [name, html, width, expect(result) -> true | message]
const kinds = (r) => r.layout.problems.map((p) => p.kind).sort().join(',');
const CASES = [
	['a wide table in an overflow-x:auto wrapper is fine', page(`<div class="wrap">${wideTable()}</div>`), 360,
		(r) => kinds(r) === '' || `layout problems: ${kinds(r)}`],
	['a wide table without a wrapper: page, viewport and container overflow', page(`<div class="card">${wideTable()}</div>`), 360,
		(r) => ['container', 'page', 'viewport'].every((k) => kinds(r).includes(k)) || `got: ${kinds(r)}`],
	['a visually-hidden label at the far end of a static scroller widens the page', page(`<div class="wrap">${wideTable('<span class="vh">label</span>')}</div>`), 360,
		(r) => (kinds(r).includes('page') && r.layout.problems.some((p) => p.kind === 'viewport' && /span\.vh/.test(p.selector))) || `got: ${JSON.stringify(r.layout.problems)}`],
	['the same label in a position:relative scroller is fine', page(`<div class="wrap-rel">${wideTable('<span class="vh">label</span>')}</div>`), 360,
		(r) => kinds(r) === '' || `layout problems: ${kinds(r)}`],
	['a long unbreakable word sticks out of its box', page('<div style="inline-size: 200px">averyveryveryveryveryverylongunbreakableword</div>'), 1366,
		(r) => kinds(r).includes('text') || `got: ${kinds(r)}`],
	['overflow:hidden cutting off text is reported as clipped', page('<div style="inline-size: 120px; overflow: hidden; white-space: nowrap">a sentence too long for its box</div>'), 1366,
		(r) => kinds(r) === 'clipped' || `got: ${kinds(r)}`],
	['a grid item wider than its grid is a container overflow, with what makes it wide', page('<div style="display: grid; grid-template-columns: max-content 1fr; inline-size: 200px"><span>Kernel</span><span style="white-space: nowrap">Linux 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC</span></div>'), 1366,
		(r) => r.layout.problems.some((p) => p.kind === 'container' && /(widest inside: .*|does not wrap \()white-space: nowrap/.test(p.detail)) || `got: ${JSON.stringify(r.layout.problems)}`],
	['RTL: a box sticking out on the left is a viewport overflow', page('<div style="inline-size: 500px">نص</div>', { lang: 'ar', dir: 'rtl' }), 360,
		(r) => r.layout.problems.some((p) => p.kind === 'viewport' && /on the left/.test(p.detail)) || `got: ${JSON.stringify(r.layout.problems)}`],
	['a wrapping page at 360 px has no layout problems', page('<p>Some text that wraps as it should on a narrow screen, with nothing too wide.</p><button class="primary">Save</button>'), 360,
		(r) => kinds(r) === '' || `layout problems: ${kinds(r)}`],
	['white on #f28b82 fails contrast (2.39:1); white on #1f6f5c passes; disabled is exempt', page('<button class="danger">Disable</button> <button class="primary">Save</button> <button class="danger" disabled>Off</button>'), 1366,
		(r) => {
			const by = Object.fromEntries(r.contrast.map((b) => [b.text, b]));
			if (!by.Disable || by.Disable.pass || Math.abs(by.Disable.ratio - 2.39) > 0.02) return `Disable: ${JSON.stringify(by.Disable)}`;
			if (!by.Save || !by.Save.pass) return `Save: ${JSON.stringify(by.Save)}`;
			if (!by.Off || !by.Off.pass || !by.Off.disabled) return `Off: ${JSON.stringify(by.Off)}`;
			return true;
		}],
	['a transparent button takes the colour behind it (card background)', page('<div style="background: #000; padding: 8px"><button style="background: transparent; color: #333; border: 0">Low</button></div>'), 1366,
		(r) => (r.contrast.length === 1 && !r.contrast[0].pass && r.contrast[0].bg === '#000000') || `got: ${JSON.stringify(r.contrast)}`],
	['Arabic: Latin words are reported, technical markup and other languages are not',
		page('<p>مرحبا Hello</p><p>المستخدم <bdi>admin</bdi> عبر <code>cli</code> <time dir="ltr">2026-01-01</time> <span lang="en">English</span> aaPanel</p><input placeholder="Search"><p class="vh">Hidden label</p><select><option>Operator</option><option translate="no">on-call-mailbox</option></select>', { lang: 'ar', dir: 'rtl' }), 1366,
		(r) => {
			const got = r.untranslated.map((u) => u.words.join(' ')).sort().join('|');
			const want = ['Hello', 'Hidden label', 'Operator', 'Search'].sort().join('|');
			return got === want || `got ${got}, want ${want}`;
		}],
	['axe-core runs and reports a serious violation (an image without alt)', page('<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" width="10" height="10">'), 1366,
		(r) => r.axe.some((x) => x.id === 'image-alt') || `axe: ${JSON.stringify(r.axe.map((x) => x.id))}`],
];

// Served with the panel's kind of CSP: an inline style and a script are
// refused, a missing stylesheet fails; all of it must be seen.
const CSP_URL = 'http://selftest.invalid/';
const CSP_PAGE = page('<p style="color: red">inline style</p><script>document.title = "ran"</script><link rel="stylesheet" href="/missing.css">');
async function cspCase(context) {
	const p = await context.newPage();
	const sink = [];
	recordConsole(p, sink);
	try {
		await p.route('http://selftest.invalid/**', (route) => {
			const u = new URL(route.request().url());
			if (u.pathname === '/') route.fulfill({ status: 200, contentType: 'text/html', body: CSP_PAGE,
				headers: { 'Content-Security-Policy': "default-src 'none'; style-src 'self'; script-src 'self'" } });
			else route.fulfill({ status: 404, contentType: 'text/plain', body: 'no' });
		});
		await p.goto(CSP_URL, { waitUntil: 'load', timeout: 15_000 });
		await withTimeout(p.evaluate(CHECKS_SRC), 15_000, 'injection');
		const r = await withTimeout(p.evaluate((a) => window.__aapanelChecks.all(a), { lang: 'en', appName: '' }), 15_000, 'checks');
		const injectedFine = !(r.csp.some((c) => /unsafe-eval|eval/.test(c)));
		const ok = r.csp.length >= 2 && sink.some((e) => e.kind === 'console') && sink.some((e) => e.kind === 'request' && /missing\.css/.test(e.text)) && injectedFine;
		return ok || `csp events ${JSON.stringify(r.csp)}, browser reports ${JSON.stringify(sink)}`;
	} finally {
		await p.close().catch(() => {});
	}
}

let pass = 0;
let fail = 0;
let browser;
const watchdog = setTimeout(() => {
	console.log(`  FAIL ${PROG} finished within 60 s`);
	console.log(`PASSED=${pass} FAILED=${fail + 1}`);
	process.exit(1);
}, 60_000);
try {
	browser = await chromium.launch({ executablePath: EXE, headless: true, args: LAUNCH_ARGS, timeout: 15_000 });
	const context = await browser.newContext();
	await context.addInitScript(cspListener);
	{
		const name = 'CSP violations and failed resources are seen; injecting the checks causes none';
		const verdict = await cspCase(context).catch((e) => (e && e.message) || String(e));
		if (verdict === true) { pass++; console.log(`  ok   checks: ${name}`); }
		else { fail++; console.log(`  FAIL checks: ${name}\n    ${verdict}`); }
	}
	for (const [name, html, width, expect] of CASES) {
		const p = await context.newPage();
		try {
			await p.setViewportSize({ width, height: 700 });
			await p.setContent(html, { waitUntil: 'load', timeout: 15_000 });
			await withTimeout(p.evaluate(CHECKS_SRC), 15_000, 'injection');
			const r = await withTimeout(p.evaluate((a) => window.__aapanelChecks.all(a), { lang: html.includes('lang="ar"') ? 'ar' : 'en', appName: 'aaPanel' }), 15_000, 'checks');
			r.axe = await withTimeout(p.evaluate(() => window.__aapanelChecks.axe()), 30_000, 'axe');
			const verdict = expect(r);
			if (verdict === true) { pass++; console.log(`  ok   checks: ${name}`); }
			else { fail++; console.log(`  FAIL checks: ${name}\n    ${verdict}`); }
		} catch (e) {
			fail++;
			console.log(`  FAIL checks: ${name}\n    ${(e && e.message) || e}`);
		} finally {
			await p.close().catch(() => {});
		}
	}
} catch (e) {
	fail++;
	console.log(`  FAIL ${PROG} ran\n    ${(e && e.stack) || e}`);
} finally {
	if (browser) await withTimeout(browser.close(), 5000, 'closing the browser').catch(() => {});
	clearTimeout(watchdog);
}
console.log(`PASSED=${pass} FAILED=${fail}`);
process.exit(fail === 0 ? 0 : 1);
