// Real-browser test of a job's page following the live stream (issue 19): a
// viewer opens a running backup run's page; its progress bar moves from the
// stream's `event: job` without a page load (navigations counted), the page
// polls no timer while the stream is open, and it reloads exactly once when
// the job is over, showing the result. Then the same with the stream refused
// (a proxy that drops it): the page falls back to reading the run's JSON on a
// timer, the bar still moves and it still reloads once at the end. Last, a
// database's export: its job page takes the progress from the events of its
// job id alone, then reloads once to its Download link. Debian's Chromium
// through playwright-core.
//
// Environment: BASE_URL, PANEL_USER, PANEL_PASSWORD, START_RUN (a program that
// starts a backup run and prints its id; run once signed in), START_EXPORT (the
// same for a database export: prints its job id), DATABASE_ID, ARTIFACTS_DIR
// (job-running.png, job-done.png, job-polled.png, export-done.png), CHROMIUM,
// BROWSER_PROFILE_DIR.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { assert, need as needVar, noErrorsButSite, runSteps, signIn } from './lib.mjs';

const need = (name) => needVar('jobs.mjs', name);
const BASE_URL = need('BASE_URL').replace(/\/+$/, '');
const USER = need('PANEL_USER');
const PASSWORD = need('PANEL_PASSWORD');
const START_RUN = need('START_RUN');
const START_EXPORT = need('START_EXPORT');
const DATABASE_ID = need('DATABASE_ID');
const ARTIFACTS = need('ARTIFACTS_DIR');

await runSteps({ prog: 'jobs.mjs', artifacts: ARTIFACTS, stepMs: 20_000, totalMs: 150_000, consoleAt: 'page' },
async ({ page, step, consoleErrors, pageErrors }) => {
	await step(`sign in as ${USER}`, () => signIn(page, BASE_URL, USER, PASSWORD));

	let RUN = '';
	await step('a backup run is started (as a job of the helper)', async () => {
		RUN = execFileSync(START_RUN, { timeout: 20_000 }).toString().trim();
		assert(/^[0-9]+$/.test(RUN), `no run id: ${RUN}`);
	});

	let loads = 0;
	page.on('framenavigated', (f) => { if (f === page.mainFrame()) loads++; });
	const attr = (n) => page.evaluate((name) => document.documentElement.getAttribute(name), n);
	const values = [];

	await step(`the running run's page opens with its progress bar and a noscript refresh`, async () => {
		await page.goto(`${BASE_URL}/backups/runs/${RUN}`, { waitUntil: 'load' });
		await page.locator('#job-progress').waitFor({ state: 'visible' });
		const ns = await page.locator('noscript').first().evaluate((e) => e.textContent);
		assert(/http-equiv="refresh"/.test(ns), `no noscript refresh: ${ns}`);
		await page.screenshot({ path: join(ARTIFACTS, 'job-running.png'), fullPage: true });
		loads = 0;
	});

	await step('the page follows the live stream (EventSource open)', async () => {
		await page.waitForFunction(() => document.documentElement.getAttribute('data-job-live') === '1', null, { timeout: 10_000 });
	});

	await step('the progress bar moves from `event: job` without a page load', async () => {
		const t0 = Date.now();
		while (Date.now() - t0 < 60_000 && loads === 0) {
			const v = await page.evaluate(() => { const b = document.getElementById('job-progress'); return b ? b.value : null; }).catch(() => null);
			if (v !== null && values[values.length - 1] !== v) values.push(v);
			if (new Set(values).size >= 3) break;
			await page.waitForTimeout(100);
		}
		const events = +(await attr('data-job-events').catch(() => 0) || 0);
		const fetches = +(await attr('data-job-fetches').catch(() => 0) || 0);
		const secs = ((Date.now() - t0) / 1000).toFixed(1);
		console.log(`       progress seen: ${values.join(' → ')} in ${secs} s; job events taken: ${events}; JSON reads: ${fetches}; page loads: ${loads}`);
		// Reads when the stream opened and on events, none by a timer meanwhile.
		const polls = +(await attr('data-job-live-polls').catch(() => 0) || 0);
		assert(polls === 0, `${polls} timed reads of the run's JSON while the stream was open`);
		assert(loads === 0, `the page loaded ${loads} time(s) while the job ran`);
		assert(new Set(values).size >= 2, `the progress bar did not move (${values.join(', ')})`);
		assert(events >= 1, 'no `event: job` was taken from the stream');
	});

	await step('at the end the page reloads once and shows the result', async () => {
		await page.waitForFunction(() => {
			const b = document.querySelector('.kv .badge');
			return !document.getElementById('job-progress') && b && /Succeeded/.test(b.textContent);
		}, null, { timeout: 90_000 });
		await page.waitForTimeout(2500); // no reload after the one
		assert(loads === 1, `${loads} page loads after the job (1 expected)`);
		const snap = await page.locator('.kv dd bdi.mono').first().innerText();
		assert(snap.length >= 8, `no snapshot shown (${snap})`);
		await page.screenshot({ path: join(ARTIFACTS, 'job-done.png'), fullPage: true });
		noErrorsButSite(consoleErrors, pageErrors, 'none:');
	});

	await step('without the stream (refused): the page polls, the bar moves, one reload at the end', async () => {
		await page.route('**/events/metrics', (r) => r.abort());
		const run = execFileSync(START_RUN, { timeout: 20_000 }).toString().trim();
		assert(/^[0-9]+$/.test(run), `no run id: ${run}`);
		// The run's JSON read by the page's own fetch (its timer), counted across the
		// reload at the end, so a run that ends between two reads still shows the poll.
		let reads = 0, readsBeforeLoad = -1;
		const onRequest = (r) => {
			if (r.resourceType() === 'fetch' && new URL(r.url()).pathname.endsWith(`/backups/runs/${run}`)) reads++;
		};
		page.on('request', onRequest);
		await page.goto(`${BASE_URL}/backups/runs/${run}`, { waitUntil: 'load' });
		await page.locator('#job-progress').waitFor({ state: 'visible' });
		loads = 0;
		const seen = [];
		const t0 = Date.now();
		let live = null;
		while (Date.now() - t0 < 60_000 && loads === 0 && new Set(seen).size < 3) {
			const v = await page.evaluate(() => { const b = document.getElementById('job-progress'); return b ? b.value : null; }).catch(() => null);
			if (v !== null && seen[seen.length - 1] !== v) seen.push(v);
			if (loads === 0) live = await attr('data-job-live').catch(() => null);
			await page.waitForTimeout(100);
		}
		if (loads > 0) readsBeforeLoad = reads;
		console.log(`       progress seen: ${seen.join(' → ')}; JSON reads: ${reads}; page loads: ${loads}`);
		assert(live === null, 'the page says it follows a stream that was refused');
		assert(reads >= 1, 'the page never read the run\'s JSON while the stream was refused');
		assert(new Set(seen).size >= 2, `the progress bar did not move (${seen.join(', ')})`);
		await page.waitForFunction(() => {
			const b = document.querySelector('.kv .badge');
			return !document.getElementById('job-progress') && b && /Succeeded/.test(b.textContent);
		}, null, { timeout: 90_000 });
		await page.waitForTimeout(2500);
		page.off('request', onRequest);
		// A reload only once the run was over: the page that loaded shows it done (above),
		// and it was the JSON read that said so (one read at least before that load).
		assert(loads === 1, `${loads} page loads after the job (1 expected)`);
		assert(readsBeforeLoad !== 0, 'the page reloaded before it read the run\'s JSON');
		await page.screenshot({ path: join(ARTIFACTS, 'job-polled.png'), fullPage: true });
		await page.unroute('**/events/metrics');
	});

	await step("a database's export: the event of its job id moves the bar itself, one reload, the Download link", async () => {
		const job = execFileSync(START_EXPORT, { timeout: 20_000 }).toString().trim();
		assert(/^[0-9]+$/.test(job), `no job id: ${job}`);
		await page.goto(`${BASE_URL}/databases/${DATABASE_ID}/jobs/${job}`, { waitUntil: 'load' });
		loads = 0;
		const seen = [];
		let live = null;
		const t0 = Date.now();
		while (Date.now() - t0 < 60_000 && loads === 0 && new Set(seen).size < 3) {
			const v = await page.evaluate(() => { const b = document.getElementById('job-progress'); return b ? b.value : null; }).catch(() => null);
			if (v !== null && seen[seen.length - 1] !== v) seen.push(v);
			if (live === null) live = await attr('data-job-live').catch(() => null);
			await page.waitForTimeout(100);
		}
		const events = +(await attr('data-job-events').catch(() => 0) || 0);
		const fetches = +(await attr('data-job-fetches').catch(() => 0) || 0);
		console.log(`       progress seen: ${seen.join(' → ')}; job events taken: ${events}; JSON reads: ${fetches}; page loads: ${loads}`);
		assert(loads === 0, `the page loaded ${loads} time(s) while the job ran (it may have ended too soon: ${seen.join(', ')})`);
		assert(live === '1', 'the page did not follow the stream');
		assert(new Set(seen).size >= 2, `the progress bar did not move (${seen.join(', ')})`);
		assert(events >= 1, 'no `event: job` of this job was taken');
		assert(fetches <= 1, `${fetches} JSON reads while it ran (one when the stream opened)`);
		await page.locator('a[download]').waitFor({ state: 'visible', timeout: 90_000 });
		await page.waitForTimeout(2500);
		assert(loads === 1, `${loads} page loads after the job (1 expected)`);
		assert(await page.getByText('The export is ready.').isVisible(), 'no "The export is ready."');
		await page.screenshot({ path: join(ARTIFACTS, 'export-done.png'), fullPage: true });
	});
});
