// Real-browser test: sign in, switch to Arabic, sign out, in Debian's Chromium.
//
// Environment:
//   BASE_URL        panel origin (and base path), e.g. http://127.0.0.1:20080
//   PANEL_USER      user to sign in as
//   PANEL_PASSWORD  its password
//   ARTIFACTS_DIR   where screenshots go (login.png, home-en.png, home-ar.png)
//   CHROMIUM        browser binary (default /usr/bin/chromium)
//   BROWSER_PROFILE_DIR  fresh user-data-dir to use (default: a new temp dir)
//
// Prints one line per step; exits 0 when every step passed, 1 otherwise.
import { join } from 'node:path';
import { StepError, assert, need as needVar, runSteps } from './lib.mjs';

const STEP_MS = 15_000;    // bound for every navigation / wait / action
const need = (name) => needVar('login.mjs', name);
const BASE_URL = need('BASE_URL').replace(/\/+$/, '');
const USER = need('PANEL_USER');
const PASSWORD = need('PANEL_PASSWORD');
const ARTIFACTS = need('ARTIFACTS_DIR');

await runSteps({
	prog: 'login.mjs', artifacts: ARTIFACTS, stepMs: STEP_MS, totalMs: 120_000, consoleAt: 'source', responses: true,
}, async ({ page, step, consoleErrors, pageErrors }) => {
	const htmlAttr = (a) => page.locator('html').getAttribute(a);
	const path = () => new URL(page.url()).pathname;
	const basePath = new URL(BASE_URL + '/').pathname;

	await step('GET / lands on the login page', async () => {
		const res = await page.goto(BASE_URL + '/', { waitUntil: 'load' });
		assert(res, 'no response for /');
		assert(path().endsWith('/login'), `expected a redirect to /login, got ${page.url()} (HTTP ${res.status()})`);
		await page.locator('form input[name="username"]').waitFor({ state: 'visible' });
		assert(await page.locator('form input[name="password"]').isVisible(), 'no password field');
		assert(await page.locator('form input[name="csrf"]').count() === 1, 'no hidden csrf field in the login form');
		assert(await htmlAttr('dir') === 'ltr', `login page <html dir> is ${await htmlAttr('dir')}`);
	});

	await step('screenshot login.png', async () => {
		await page.screenshot({ path: join(ARTIFACTS, 'login.png'), fullPage: true });
	});

	await step('signing in reaches the home page', async () => {
		await page.fill('input[name="username"]', USER);
		await page.fill('input[name="password"]', PASSWORD);
		await page.locator('form:has(input[name="username"]) [type="submit"]').click();
		// Either the home page or the login form again with an error: whichever comes first.
		const alert = page.locator('.alert-error');
		const home = page.waitForURL((u) => u.pathname === basePath, { waitUntil: 'load' }).then(() => 'home', () => 'timeout');
		const error = alert.first().waitFor({ state: 'visible' }).then(() => 'error', () => 'timeout');
		const got = await Promise.race([home, error]);
		if (got === 'error') throw new StepError(`login failed, the page says: ${(await alert.first().innerText()).trim()}`);
		assert(got === 'home', `no home page after signing in (at ${page.url()})`);
	});

	await step('home page: "Server overview" heading, Sign out control, <html dir="ltr">', async () => {
		await page.getByRole('heading', { level: 1, name: 'Server overview' }).waitFor({ state: 'visible' });
		// Sign out sits in the user menu (a <details> that opens on click).
		await page.locator('details.user-menu > summary').click();
		await page.getByRole('button', { name: 'Sign out' }).waitFor({ state: 'visible' });
		await page.locator('details.user-menu > summary').click();
		assert(await htmlAttr('lang') === 'en', `<html lang> is ${await htmlAttr('lang')}`);
		assert(await htmlAttr('dir') === 'ltr', `<html dir> is ${await htmlAttr('dir')}`);
	});

	await step('screenshot home-en.png', async () => {
		await page.screenshot({ path: join(ARTIFACTS, 'home-en.png'), fullPage: true });
	});

	await step('a sortable column sorts the page\'s rows, and says so (aria-sort), both ways', async () => {
		await page.goto(BASE_URL + '/audit', { waitUntil: 'load' });
		const th = page.locator('table[data-sortable] thead th[data-sort="text"]').filter({ hasText: 'Action' });
		const button = th.locator('button.th-sort');
		await button.waitFor({ state: 'visible' });
		assert(await th.getAttribute('aria-sort') === 'none', `aria-sort before: ${await th.getAttribute('aria-sort')}`);
		const col = await th.evaluate((el) => Array.prototype.indexOf.call(el.parentNode.children, el));
		const values = () => page.$$eval('table[data-sortable] tbody tr', (rows, c) =>
			rows.map((r) => r.cells[c].textContent.trim()), col);
		const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
		await button.click();
		const up = await values();
		assert(up.length > 1, `only ${up.length} rows to sort`);
		assert(await th.getAttribute('aria-sort') === 'ascending', 'aria-sort is not ascending after one click');
		assert(up.every((v, i) => i === 0 || collator.compare(up[i - 1], v) <= 0), `not ascending: ${up.join(', ')}`);
		await button.click();
		const down = await values();
		assert(await th.getAttribute('aria-sort') === 'descending', 'aria-sort is not descending after two clicks');
		assert(down.every((v, i) => i === 0 || collator.compare(down[i - 1], v) >= 0), `not descending: ${down.join(', ')}`);
		await button.focus();
		await page.keyboard.press('Enter');
		assert(await th.getAttribute('aria-sort') === 'ascending', 'the header is not a keyboard control');
	});

	await step('an empty list says so and offers the next step (audit filter matching nothing)', async () => {
		await page.goto(BASE_URL + '/audit?actor=nobody-at-all', { waitUntil: 'load' });
		const empty = page.locator('.empty-state');
		await empty.waitFor({ state: 'visible' });
		assert((await empty.innerText()).includes('No entries match this filter.'), 'no empty-state text');
		const next = empty.getByRole('link', { name: 'Show every entry' });
		await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/audit') && u.search === '', { waitUntil: 'load' }), next.click()]);
		assert(await page.locator('table[data-sortable] tbody tr').count() > 0, 'the link does not lead to the entries');
		await page.goto(BASE_URL + '/', { waitUntil: 'load' });
	});

	await step('Arabic button switches to <html lang="ar" dir="rtl">', async () => {
		const ar = page.locator('form.lang-switch button[name="lang"][value="ar"]');
		await ar.waitFor({ state: 'visible' });
		await Promise.all([
			page.waitForFunction(() => document.documentElement.lang === 'ar', null, { timeout: STEP_MS }),
			ar.click(),
		]);
		await page.waitForLoadState('load');
		assert(path() === basePath, `after switching language the page is ${page.url()}`);
		assert(await htmlAttr('lang') === 'ar', `<html lang> is ${await htmlAttr('lang')}`);
		assert(await htmlAttr('dir') === 'rtl', `<html dir> is ${await htmlAttr('dir')}`);
	});

	await step('Arabic home page is translated ("نظرة عامة على الخادم")', async () => {
		await page.getByRole('heading', { level: 1, name: 'نظرة عامة على الخادم' }).waitFor({ state: 'visible' });
		const dirComputed = await page.evaluate(() => getComputedStyle(document.body).direction);
		assert(dirComputed === 'rtl', `computed body direction is ${dirComputed}`);
	});

	await step('screenshot home-ar.png', async () => {
		await page.screenshot({ path: join(ARTIFACTS, 'home-ar.png'), fullPage: true });
	});

	await step('no console errors, CSP violations or page errors so far', async () => {
		const all = [...consoleErrors.map((e) => `console: ${e}`), ...pageErrors.map((e) => `pageerror: ${e}`)];
		assert(all.length === 0, `browser reported errors:\n    ${all.join('\n    ')}`);
	});

	await step('signing out returns to the login page', async () => {
		// The Sign out control is labelled in the current language (Arabic now).
		const out = page.locator('form[action$="/logout"] [type="submit"]');
		await page.locator('details.user-menu > summary').click();
		await out.waitFor({ state: 'visible' });
		await Promise.all([
			page.waitForURL((u) => u.pathname.endsWith('/login'), { waitUntil: 'load' }),
			out.click(),
		]);
		await page.locator('form input[name="username"]').waitFor({ state: 'visible' });
		assert(await page.locator('form[action$="/logout"]').count() === 0, 'still shows a Sign out control');
		// signed out for real: / sends us back to the login page
		await page.goto(BASE_URL + '/', { waitUntil: 'load' });
		assert(path().endsWith('/login'), `after sign out, / is ${page.url()}`);
	});

	await step('no console errors, CSP violations or page errors at the end', async () => {
		const all = [...consoleErrors.map((e) => `console: ${e}`), ...pageErrors.map((e) => `pageerror: ${e}`)];
		assert(all.length === 0, `browser reported errors:\n    ${all.join('\n    ')}`);
	});

});
