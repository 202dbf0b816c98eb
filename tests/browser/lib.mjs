// Shared by the browser tests (login.mjs, pages.mjs): environment, how
// Debian's Chromium is started, bounded waits.
import { existsSync } from 'node:fs';

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
