// Real-browser test of the Websites screen, in Debian's Chromium: an operator
// signs in, opens Websites from the sidebar, creates a PHP site through the
// form, lands on the site's page (nginx serves it, no drift), opens the site
// itself in the browser (its name resolved to 127.0.0.1 by the browser, so
// nginx sees the site's Host), disables it (with the confirmation) and sees
// the "disabled" answer; the list in Arabic (RTL), in dark mode and 360 px
// wide without horizontal scrolling. No console errors or CSP violations.
//
// Environment: BASE_URL (the panel, http://127.0.0.1:PORT), PANEL_USER,
// PANEL_PASSWORD, SITE_DOMAIN (e.g. browser.test), ARTIFACTS_DIR, CHROMIUM,
// BROWSER_PROFILE_DIR (as tests/browser/login.mjs).
import { join } from 'node:path';
import { assert, need as needVar, noErrorsButSite, runSteps, signIn } from './lib.mjs';

const STEP_MS = 20_000;
const need = (name) => needVar('sites.mjs', name);
const BASE_URL = need('BASE_URL').replace(/\/+$/, '');
const USER = need('PANEL_USER');
const PASSWORD = need('PANEL_PASSWORD');
const DOMAIN = need('SITE_DOMAIN');
const ARTIFACTS = need('ARTIFACTS_DIR');
const PORT = new URL(BASE_URL).port;
const SITE_URL = `http://${DOMAIN}:${PORT}/`;

await runSteps({
	prog: 'sites.mjs', artifacts: ARTIFACTS, stepMs: STEP_MS, totalMs: 150_000, consoleAt: 'page',
	// The site's own name reaches nginx on loopback, as a visitor's would.
	args: [`--host-resolver-rules=MAP ${DOMAIN} 127.0.0.1`],
}, async ({ context, page, step, consoleErrors, pageErrors }) => {
	const path = () => new URL(page.url()).pathname;
	const noErrors = () => noErrorsButSite(consoleErrors, pageErrors, SITE_URL);

	await step(`sign in as ${USER}`, () => signIn(page, BASE_URL, USER, PASSWORD));

	await step('the sidebar has "Websites"; it opens the list', async () => {
		const link = page.locator('nav a[href$="/sites"]').first();
		await link.waitFor({ state: 'visible' });
		await Promise.all([page.waitForURL((u) => u.pathname === '/sites', { waitUntil: 'load' }), link.click()]);
		await page.getByRole('heading', { level: 1, name: 'Websites' }).waitFor({ state: 'visible' });
	});

	await step(`create the PHP site ${DOMAIN} through the form`, async () => {
		await page.fill('#f-domain', DOMAIN);
		await page.selectOption('#f-kind', 'php');
		assert(await page.locator('#f-php option').count() >= 1, 'no PHP version offered');
		let cut = false;
		try {
			await Promise.all([
				page.waitForURL((u) => /^\/sites\/\d+$/.test(u.pathname), { waitUntil: 'load' }),
				page.getByRole('button', { name: 'Add site' }).click(),
			]);
		} catch (e) {
			// The site's own nginx reload can end the old nginx worker while it still sends the
			// site's page (nginx: "open socket left in connection", ERR_CONTENT_LENGTH_MISMATCH):
			// then the page is asked for once more, and its one-time message is gone with the first.
			if (!/^\/sites\/\d+$/.test(new URL(page.url()).pathname)) throw e;
			cut = true;
			for (let i = consoleErrors.length - 1; i >= 0; i--)
				if (consoleErrors[i].includes('ERR_CONTENT_LENGTH_MISMATCH')) consoleErrors.splice(i, 1);
			console.log(`  (the first load of ${page.url()} was cut by nginx's reload; loaded again)`);
			await page.reload({ waitUntil: 'load' });
		}
		if (!cut) {
			const flash = page.locator('.flash-ok');
			await flash.waitFor({ state: 'visible' });
			const text = await flash.innerText();
			assert(text.includes(DOMAIN) && text.includes('nginx serves it'), `flash says: ${text}`);
		}
	});

	await step("the site's page: served, its vhost shown, no drift", async () => {
		await page.getByRole('heading', { level: 1, name: DOMAIN }).waitFor({ state: 'visible' });
		assert(await page.locator('.badge-ok', { hasText: 'Served' }).count() === 1, 'not shown as served');
		const vhost = await page.locator('pre.diff').first().innerText();
		assert(vhost.includes(`server_name ${DOMAIN};`) && vhost.includes('fastcgi_pass unix:'), 'the vhost is not shown');
		assert(await page.locator('.alert-warning').count() === 0, 'drift is shown on a fresh site');
		await page.screenshot({ path: join(ARTIFACTS, 'site-en.png'), fullPage: true });
	});

	await step(`open the site itself: ${SITE_URL}`, async () => {
		const site = await context.newPage();
		const res = await site.goto(SITE_URL, { waitUntil: 'load' });
		assert(res && res.status() === 200, `the site answered ${res && res.status()}`);
		await site.getByRole('heading', { level: 1, name: DOMAIN }).waitFor({ state: 'visible' });
		assert((await site.content()).includes('aaPanel'), 'not the first page of the site');
		await site.screenshot({ path: join(ARTIFACTS, 'site-itself.png'), fullPage: true });
		await site.close();
	});

	await step('disable it: asked first, then the site answers "disabled"', async () => {
		const siteUrl = page.url();
		await Promise.all([
			page.waitForLoadState('load'),
			page.locator('form[action$="/disable"] button').click(),
		]);
		await page.locator('form.confirm-form').waitFor({ state: 'visible' });
		await Promise.all([
			page.waitForURL(siteUrl, { waitUntil: 'load' }),
			page.locator('form.confirm-form button[type="submit"]').click(),
		]);
		await page.locator('.flash-ok').waitFor({ state: 'visible' });
		const site = await context.newPage();
		// A connection the browser opened before the reload (Chromium preconnects) is
		// answered once more by nginx's old worker, which then closes it: look again.
		let res;
		for (let i = 0; i < 10; i++) {
			res = await site.goto(`${SITE_URL}?after-disable-${i}`, { waitUntil: 'load' });
			if (res && res.status() === 503) break;
			await site.waitForTimeout(300);
		}
		assert(res && res.status() === 503, `a disabled site answered ${res && res.status()}: ${(await site.content()).slice(0, 300)}`);
		assert((await site.content()).includes('This site is disabled'), 'no "disabled" notice');
		await site.close();
	});

	await step('the list in Arabic: <html dir="rtl">, translated, the site listed', async () => {
		await page.goto(BASE_URL + '/sites', { waitUntil: 'load' });
		const ar = page.locator('form.lang-switch button[name="lang"][value="ar"]');
		await Promise.all([
			page.waitForFunction(() => document.documentElement.lang === 'ar', null, { timeout: STEP_MS }),
			ar.click(),
		]);
		await page.waitForLoadState('load');
		assert(await page.locator('html').getAttribute('dir') === 'rtl', 'not right to left');
		await page.getByRole('heading', { level: 1, name: 'المواقع' }).or(page.locator('h1')).first().waitFor();
		const h1 = await page.locator('h1').innerText();
		assert(/[\u0600-\u06FF]/.test(h1), `heading not in Arabic: ${h1}`);
		assert((await page.locator('tbody').innerText()).includes(DOMAIN), 'the site is not listed');
		await page.screenshot({ path: join(ARTIFACTS, 'sites-ar.png'), fullPage: true });
	});

	await step('dark mode and 360 px: readable, no horizontal scrolling', async () => {
		await page.emulateMedia({ colorScheme: 'dark' });
		await page.setViewportSize({ width: 360, height: 740 });
		await page.reload({ waitUntil: 'load' });
		const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
		const rgb = bg.match(/\d+/g).map(Number);
		assert(rgb[0] + rgb[1] + rgb[2] < 200, `dark mode background is ${bg}`);
		const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(over <= 1, `the page is ${over} px wider than 360 px`);
		await page.screenshot({ path: join(ARTIFACTS, 'sites-ar-dark-360.png'), fullPage: true });
		const first = page.locator('tbody a').first();
		await Promise.all([page.waitForURL((u) => /^\/sites\/\d+$/.test(u.pathname), { waitUntil: 'load' }), first.click()]);
		const over2 = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
		assert(over2 <= 1, `the site's page is ${over2} px wider than 360 px`);
		await page.screenshot({ path: join(ARTIFACTS, 'site-ar-dark-360.png'), fullPage: true });
	});

	await step('no console errors, CSP violations or page errors', async () => noErrors());
});
