// Real-browser test of the file manager (issue 16's scenario), in Debian's
// Chromium: an operator signs in, opens the site's Files page, uploads a file
// through the form (the browser's upload throttled to 16 KiB/s, so the
// progress bar is seen moving), finds it listed, edits it in the editor and
// saves, then opens the site itself (its name resolved to 127.0.0.1 by the
// browser) and sees the change served by nginx; last, follows the site's
// access log and sees a request made to the site appear without a reload
// (the live stream). No console errors or CSP violations.
//
// Environment: BASE_URL (the panel, http://127.0.0.1:PORT), PANEL_USER,
// PANEL_PASSWORD, SITE_DOMAIN, SITE_ID, UPLOAD_FILE (the file to upload),
// ARTIFACTS_DIR, CHROMIUM, BROWSER_PROFILE_DIR (as tests/browser/login.mjs).
import { join } from 'node:path';
import { assert, need as needVar, noErrorsButSite, runSteps, signIn } from './lib.mjs';

const need = (name) => needVar('files.mjs', name);
const BASE_URL = need('BASE_URL').replace(/\/+$/, '');
const USER = need('PANEL_USER');
const PASSWORD = need('PANEL_PASSWORD');
const DOMAIN = need('SITE_DOMAIN');
const SID = need('SITE_ID');
const UPLOAD = need('UPLOAD_FILE');
const ARTIFACTS = need('ARTIFACTS_DIR');
const PORT = new URL(BASE_URL).port;
const SITE_URL = `http://${DOMAIN}:${PORT}/`;

await runSteps({
	prog: 'files.mjs', artifacts: ARTIFACTS, stepMs: 20_000, totalMs: 150_000, consoleAt: 'page',
	// The site's own name reaches nginx on loopback, as a visitor's would.
	args: [`--host-resolver-rules=MAP ${DOMAIN} 127.0.0.1`],
}, async ({ context, page, step, consoleErrors, pageErrors }) => {
	const path = () => new URL(page.url()).pathname;
	const noErrors = () => noErrorsButSite(consoleErrors, pageErrors, SITE_URL);

	await step(`sign in as ${USER}`, () => signIn(page, BASE_URL, USER, PASSWORD));

	await step("the site's page links its files; the Files page opens", async () => {
		await page.goto(`${BASE_URL}/sites/${SID}`, { waitUntil: 'load' });
		const link = page.locator(`a[href$="/sites/${SID}/files"]`).first();
		await Promise.all([page.waitForURL((u) => u.pathname === `/sites/${SID}/files`, { waitUntil: 'load' }), link.click()]);
		await page.locator('h1', { hasText: DOMAIN }).waitFor({ state: 'visible' });
	});

	await step('upload a file through the form: the progress bar moves, then the folder lists it', async () => {
		const cdp = await context.newCDPSession(page);
		await cdp.send('Network.enable');
		await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 16 * 1024 });
		await page.setInputFiles('#f-files', UPLOAD);
		const seen = [];
		const done = page.waitForURL((u) => u.pathname === `/sites/${SID}/files` && u.search.includes('path='), { waitUntil: 'load' }).catch(() => null);
		await page.locator('form[data-upload-progress] button[type="submit"]').click();
		// Watch the bar while the browser sends the file.
		for (let i = 0; i < 100; i++) {
			const v = await page.evaluate(() => {
				const b = document.querySelector('#f-upload-progress');
				return b && !b.hidden ? b.value : null;
			}).catch(() => null);
			if (v !== null) seen.push(v);
			if (v !== null && v >= 100) break;
			await page.waitForTimeout(50);
		}
		await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
		assert(seen.some((v) => v > 0 && v < 100), `the progress bar was not seen between 0 and 100 % (saw ${JSON.stringify(seen.slice(0, 20))})`);
		await done;
		await page.waitForLoadState('load');
		await page.locator('tbody th', { hasText: 'greeting.html' }).waitFor({ state: 'visible' });
		await page.locator('.flash-ok').first().waitFor({ state: 'visible' });
		await page.screenshot({ path: join(ARTIFACTS, 'files-uploaded.png'), fullPage: true });
	});

	await step('edit it in the editor and save', async () => {
		const row = page.locator('tbody tr', { has: page.locator('th', { hasText: 'greeting.html' }) });
		await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/files/edit'), { waitUntil: 'load' }), row.locator('a', { hasText: 'Edit' }).click()]);
		const ta = page.locator('#f-content');
		const text = await ta.inputValue();
		assert(text.includes('hello from the upload'), 'the editor does not show the uploaded text');
		await ta.fill(text.replace('hello from the upload', 'edited in the browser'));
		await Promise.all([page.waitForLoadState('load'), page.locator('form button[type="submit"]', { hasText: 'Save' }).click()]);
		await page.waitForURL((u) => u.pathname === `/sites/${SID}/files`, { waitUntil: 'load' });
		await page.locator('.flash-ok').first().waitFor({ state: 'visible' });
		await page.screenshot({ path: join(ARTIFACTS, 'editor-saved.png'), fullPage: true });
	});

	await step(`the site serves the change: ${SITE_URL}greeting.html`, async () => {
		const site = await context.newPage();
		const res = await site.goto(`${SITE_URL}greeting.html`, { waitUntil: 'load' });
		assert(res && res.status() === 200, `the site answered ${res && res.status()}`);
		const msg = await site.locator('#msg').innerText();
		assert(msg === 'edited in the browser', `the site shows: ${msg}`);
		await site.screenshot({ path: join(ARTIFACTS, 'site-changed.png') });
		await site.close();
	});

	await step("follow the site's access log: a new request appears without a reload", async () => {
		await page.goto(`${BASE_URL}/sites/${SID}/logs/access?follow=true`, { waitUntil: 'load' });
		await page.locator('[data-log-status]').waitFor({ state: 'visible' });
		const mark = `follow-${Date.now()}`;
		const site = await context.newPage();
		await site.goto(`${SITE_URL}${mark}`, { waitUntil: 'load' });
		await site.close();
		const t0 = Date.now();
		await page.locator('pre.log', { hasText: mark }).waitFor({ state: 'visible', timeout: 5000 });
		const ms = Date.now() - t0;
		assert(ms < 2000, `the line took ${ms} ms`);
		console.log(`  (the request's line appeared ${ms} ms after it)`);
		await page.screenshot({ path: join(ARTIFACTS, 'log-followed.png'), fullPage: true });
	});

	await step('no console errors, CSP violations or page errors', async () => noErrors());
});
