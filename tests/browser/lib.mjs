// Shared by the browser tests (login.mjs, sites.mjs, files.mjs, pages.mjs):
// environment, how Debian's Chromium is started, bounded waits, and the
// run of a scenario's steps (runSteps).
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

// Flags that work on the test machines: no sandbox (root), no GPU, nothing
// that reaches out to the network on its own.
export const LAUNCH_ARGS = [
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
];

// need(prog, NAME): the environment variable's value; exits 2 when unset.
export function need(prog, name) {
	const v = process.env[name];
	if (!v) {
		console.error(`${prog}: environment variable ${name} is not set`);
		process.exit(2);
	}
	return v;
}

// chromiumExe(prog): CHROMIUM or /usr/bin/chromium; exits 2 when missing.
export function chromiumExe(prog) {
	const exe = process.env.CHROMIUM || '/usr/bin/chromium';
	if (!existsSync(exe)) {
		console.error(`${prog}: Chromium not found at ${exe} (apt-get install chromium)`);
		process.exit(2);
	}
	return exe;
}

// A failed expectation (as opposed to a crash of the test itself).
export class StepError extends Error {}
export function assert(cond, msg) {
	if (!cond) throw new StepError(msg);
}

// withTimeout(promise, ms, what): the promise's value, or a StepError after
// ms. For the waits Playwright does not bound itself (page.evaluate).
export function withTimeout(promise, ms, what) {
	let timer;
	const t = new Promise((_, reject) => {
		timer = setTimeout(() => reject(new StepError(`${what}: no answer within ${ms} ms`)), ms);
	});
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// recordConsole(page, sink): push into sink what the browser reports about
// the page: console errors (CSP violations among them), uncaught errors,
// sub-resources that failed ({kind, text, url}).
export function recordConsole(page, sink) {
	page.on('console', (msg) => {
		if (msg.type() !== 'error') return;
		const loc = msg.location();
		sink.push({ kind: 'console', text: msg.text(), url: loc && loc.url ? loc.url : '' });
	});
	page.on('pageerror', (err) => sink.push({ kind: 'pageerror', text: String((err && err.message) || err) }));
	// net::ERR_ABORTED is a request the browser itself cut short (the
	// favicon when the page goes away); a resource that cannot load fails
	// otherwise (an HTTP status, refused, blocked by CSP).
	page.on('requestfailed', (req) => {
		const why = req.failure() ? req.failure().errorText : 'failed';
		if (why !== 'net::ERR_ABORTED') sink.push({ kind: 'request', text: `${req.method()} ${req.url()}: ${why}` });
	});
	page.on('response', (res) => {
		if (res.status() >= 400 && res.request().resourceType() !== 'document')
			sink.push({ kind: 'request', text: `${res.request().method()} ${res.url()}: HTTP ${res.status()}` });
	});
}

// cspListener: an init script (context.addInitScript) that keeps the
// document's CSP violations, as the page itself sees them, in
// window.__aapanelCsp (read by inpage.js's csp()).
export function cspListener() {
	window.__aapanelCsp = [];
	document.addEventListener('securitypolicyviolation', (e) => {
		window.__aapanelCsp.push(`${e.effectiveDirective || e.violatedDirective} blocked ${e.blockedURI || '(inline)'}` +
			`${e.sourceFile ? ` at ${e.sourceFile}:${e.lineNumber}` : ''}${e.disposition === 'report' ? ' (report-only)' : ''}`);
	});
}

// runSteps(opts, body): one scenario in a fresh Chromium, its steps printed
// "  ok   NAME" as they pass; the first failure printed with what the browser
// reported, then the process exits 0 (every step passed) or 1. The browser's
// profile is a new temp dir (or BROWSER_PROFILE_DIR), removed afterwards; a
// watchdog ends a run that takes longer than opts.totalMs.
//   opts: prog (the script's name, in messages), artifacts (made if missing),
//     stepMs (the bound of every navigation, wait and action), totalMs,
//     args (more Chromium flags), consoleAt ('page': a console error names the
//     page's URL; 'source': the script's location), responses (true: HTTP
//     errors of every response are kept among the failed requests).
//   body({ context, page, step, consoleErrors, pageErrors, failedRequests }):
//     step(name, fn) runs one step.
export async function runSteps(opts, body) {
	const { prog, stepMs, totalMs } = opts;
	const exe = chromiumExe(prog);
	if (opts.artifacts) mkdirSync(opts.artifacts, { recursive: true });
	const ownProfile = !process.env.BROWSER_PROFILE_DIR;
	const profile = process.env.BROWSER_PROFILE_DIR || mkdtempSync(join(tmpdir(), 'aapanel-chromium-'));
	mkdirSync(profile, { recursive: true });
	const consoleErrors = [];   // console errors, including CSP violation reports
	const pageErrors = [];      // uncaught exceptions in the page
	const failedRequests = [];  // for diagnostics only
	let current = '(start)';
	let context;
	let exitCode = 1;
	const step = async (name, fn) => {
		current = name;
		await fn();
		console.log(`  ok   ${name}`);
	};
	const watchdog = setTimeout(async () => {
		console.error(`${prog}: FAIL overall timeout (${totalMs} ms) during step: ${current}`);
		try { if (context) await context.close(); } catch { /* ignore */ }
		if (ownProfile) rmSync(profile, { recursive: true, force: true });
		process.exit(1);
	}, totalMs);

	try {
		// launchPersistentContext(userDataDir) is how Playwright takes --user-data-dir.
		context = await chromium.launchPersistentContext(profile, {
			executablePath: exe,
			headless: true,
			timeout: stepMs,
			args: [...LAUNCH_ARGS, ...(opts.args || [])],
			viewport: { width: 1280, height: 800 },
			locale: 'en-US',
		});
		context.setDefaultTimeout(stepMs);
		context.setDefaultNavigationTimeout(stepMs);
		const page = context.pages()[0] || await context.newPage();
		page.on('console', (msg) => {
			if (msg.type() !== 'error') return;
			if (opts.consoleAt === 'source') {
				const loc = msg.location();
				consoleErrors.push(`${msg.text()}${loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
			} else {
				consoleErrors.push(`${msg.text()} (${page.url()})`);
			}
		});
		page.on('pageerror', (err) => pageErrors.push(String(err && err.stack || err)));
		page.on('requestfailed', (req) => failedRequests.push(`${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
		if (opts.responses) {
			page.on('response', (res) => {
				if (res.status() >= 400) failedRequests.push(`${res.request().method()} ${res.url()}: HTTP ${res.status()}`);
			});
		}
		await body({ context, page, step, consoleErrors, pageErrors, failedRequests });
		exitCode = 0;
	} catch (err) {
		const msg = err instanceof StepError ? err.message : (err && err.stack) || String(err);
		console.error(`  FAIL ${current}\n    ${msg.split('\n').join('\n    ')}`);
		if (failedRequests.length) console.error(`    failed requests:\n      ${failedRequests.join('\n      ')}`);
		if (consoleErrors.length) console.error(`    console errors:\n      ${consoleErrors.join('\n      ')}`);
		if (pageErrors.length) console.error(`    page errors:\n      ${pageErrors.join('\n      ')}`);
		exitCode = 1;
	} finally {
		try {
			if (context) await context.close();
		} catch (err) {
			console.error(`${prog}: closing the browser failed: ${err}`);
			exitCode = 1;
		}
		if (ownProfile) rmSync(profile, { recursive: true, force: true });
		clearTimeout(watchdog);
	}
	console.log(exitCode === 0 ? `${prog}: all steps passed` : `${prog}: FAILED`);
	process.exit(exitCode);
}

// signIn(page, baseUrl, user, password): the sign-in form, until the home page.
export async function signIn(page, baseUrl, user, password) {
	await page.goto(baseUrl + '/login', { waitUntil: 'load' });
	await page.fill('input[name="username"]', user);
	await page.fill('input[name="password"]', password);
	await Promise.all([
		page.waitForURL((u) => u.pathname === '/', { waitUntil: 'load' }),
		page.locator('form:has(input[name="username"]) [type="submit"]').click(),
	]);
}

// noErrorsButSite(consoleErrors, pageErrors, siteUrl): a StepError naming what
// the browser reported, but for the site's own pages (siteUrl) and 503s (a
// disabled site's answer, not the panel's error). For runSteps' recorders.
export function noErrorsButSite(consoleErrors, pageErrors, siteUrl) {
	const all = [...consoleErrors.filter((e) => !e.includes(`(${siteUrl}`) && !e.includes('503')).map((e) => `console: ${e}`),
		...pageErrors.map((e) => `pageerror: ${e}`)];
	assert(all.length === 0, `browser reported errors:\n    ${all.join('\n    ')}`);
}
