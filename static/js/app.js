/*
 * aaPanel's small script. Every page works without it; with it:
 * - the sidebar folds away behind a menu button on narrow screens,
 * - times read "5 minutes ago" (the exact time stays on hover),
 * - secrets shown once get a Copy button,
 * - the dashboard's values and charts follow the sampler's live stream,
 * - a job's page moves its progress bar from the stream's `event: job`.
 * No inline script anywhere (the CSP allows only this file).
 */
(function () {
	'use strict';
	var doc = document.documentElement;
	var lang = doc.lang || 'en';
	doc.classList.add('js');

	/* ---- the menu button on narrow screens */
	function setupNav() {
		var button = document.querySelector('.nav-toggle');
		var nav = document.getElementById('sidebar');
		if (!button || !nav || !window.matchMedia) return;
		var narrow = window.matchMedia('(max-width: 48rem)');
		function apply() {
			if (narrow.matches) {
				button.hidden = false;
				var open = button.getAttribute('aria-expanded') === 'true';
				nav.classList.toggle('collapsed', !open);
			} else {
				button.hidden = true;
				nav.classList.remove('collapsed');
			}
		}
		button.addEventListener('click', function () {
			var open = button.getAttribute('aria-expanded') === 'true';
			button.setAttribute('aria-expanded', open ? 'false' : 'true');
			apply();
		});
		if (narrow.addEventListener) narrow.addEventListener('change', apply);
		apply();
	}

	/* ---- relative times: <time datetime="2026-12-01T07:36:05Z"> */
	var units = [
		['year', 365 * 24 * 3600], ['month', 30 * 24 * 3600], ['week', 7 * 24 * 3600],
		['day', 24 * 3600], ['hour', 3600], ['minute', 60], ['second', 1]
	];
	function relative(seconds, rtf) {
		var abs = Math.abs(seconds);
		if (abs < 45) return rtf.format(0, 'second');
		for (var i = 0; i < units.length; i++) {
			if (abs >= units[i][1] || units[i][0] === 'second') {
				return rtf.format(Math.round(seconds / units[i][1]), units[i][0]);
			}
		}
		return '';
	}
	function updateTimes() {
		if (!window.Intl || !Intl.RelativeTimeFormat) return;
		var rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
		var full = new Intl.DateTimeFormat(lang, { dateStyle: 'full', timeStyle: 'long' });
		var now = Date.now();
		var times = document.querySelectorAll('time[datetime]');
		for (var i = 0; i < times.length; i++) {
			var t = times[i];
			var d = new Date(t.getAttribute('datetime'));
			if (isNaN(d.getTime())) continue;
			if (!t.dataset.exact) t.dataset.exact = t.textContent;
			t.textContent = relative((d.getTime() - now) / 1000, rtf);
			t.title = full.format(d) + ' (' + t.dataset.exact + ')';
		}
	}

	/* ---- Copy buttons: <button class="copy" data-copy="#id" hidden> */
	function setupCopy() {
		if (!navigator.clipboard) return;
		var buttons = document.querySelectorAll('button.copy[data-copy]');
		for (var i = 0; i < buttons.length; i++) {
			(function (b) {
				var target = document.querySelector(b.getAttribute('data-copy'));
				if (!target) return;
				var label = b.textContent;
				b.hidden = false;
				b.addEventListener('click', function () {
					var text = 'value' in target && target.value !== undefined ? target.value : target.innerText;
					navigator.clipboard.writeText(text.trim()).then(function () {
						b.textContent = b.getAttribute('data-done') || label;
						setTimeout(function () { b.textContent = label; }, 2000);
					});
				});
			})(buttons[i]);
		}
	}

	// Sortable tables: <table data-sortable> with <th data-sort="text|number|time">.
	// Without JavaScript the rows stay in the server's order; with it, a header
	// becomes a button that sorts this page's rows (aria-sort says how). A cell
	// may give its key in data-sort-value; a time cell's is its <time datetime>.
	function sortKey(cell, kind) {
		var v = cell.getAttribute('data-sort-value'), t;
		if (v === null && kind === 'time') {
			t = cell.querySelector('time[datetime]');
			v = t ? t.getAttribute('datetime') : '';
		}
		if (v === null) v = cell.textContent.trim();
		if (kind === 'number') return v === '' ? -Infinity : parseFloat(v);
		return v;
	}
	function setupSort() {
		var collator = window.Intl ? new Intl.Collator(lang, { numeric: true, sensitivity: 'base' }) : null;
		var tables = document.querySelectorAll('table[data-sortable]');
		for (var i = 0; i < tables.length; i++) {
			(function (table) {
				var heads = table.querySelectorAll('thead th[data-sort]');
				for (var j = 0; j < heads.length; j++) {
					(function (th) {
						var b = document.createElement('button');
						b.type = 'button';
						b.className = 'th-sort';
						while (th.firstChild) b.appendChild(th.firstChild);
						th.appendChild(b);
						th.setAttribute('aria-sort', th.getAttribute('aria-sort') || 'none');
						b.addEventListener('click', function () {
							var body = table.tBodies[0], kind = th.getAttribute('data-sort');
							var col = Array.prototype.indexOf.call(th.parentNode.children, th);
							var asc = th.getAttribute('aria-sort') !== 'ascending';
							var rows = Array.prototype.filter.call(body.rows, function (r) {
								return r.cells.length > col;
							});
							rows.sort(function (a, b2) {
								var x = sortKey(a.cells[col], kind), y = sortKey(b2.cells[col], kind), c;
								if (kind === 'number') c = x - y;
								else c = collator ? collator.compare(x, y) : (x < y ? -1 : x > y ? 1 : 0);
								return asc ? c : -c;
							});
							for (var k = 0; k < rows.length; k++) body.appendChild(rows[k]);
							for (var h = 0; h < heads.length; h++) heads[h].setAttribute('aria-sort', 'none');
							th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
						});
					})(heads[j]);
				}
			})(tables[i]);
		}
	}

	/* ---- live dashboard: the sampler's stream (server-sent events) updates the
	 * values marked data-live-value and appends points to the charts marked
	 * data-live, which the server drew as SVG. Time runs left to right in every
	 * language (the SVG is dir="ltr"). */
	function pick(d, path) {
		var i, p, arr, v = d;
		if (path.indexOf('|') >= 0) {
			p = path.split('|');
			arr = d[p[0]] || [];
			for (i = 0; i < arr.length; i++) {
				if (arr[i].name === p[1] || arr[i].mount === p[1]) return arr[i][p[2]];
			}
			return null;
		}
		p = path.split('.');
		for (i = 0; i < p.length; i++) {
			if (v === null || v === undefined) return null;
			if (Array.isArray(v) && v.length && v[0] && typeof v[0] === 'object' && 'id' in v[0]) {
				var found = null;
				for (var k = 0; k < v.length; k++) if (String(v[k].id) === p[i]) found = v[k];
				v = found;
			} else {
				v = v[p[i]];
			}
		}
		return v === undefined ? null : v;
	}
	function fmt(v, unit) {
		if (v === null || v === undefined || isNaN(v)) return '–';
		if (unit === 'pct') return v.toFixed(1) + ' %';
		if (unit === 'int') return String(Math.round(v));
		if (unit === 'plain') return v >= 100 ? v.toFixed(0) : v.toFixed(2);
		var u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], i = 0;
		while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
		return (i ? v.toFixed(1) : v.toFixed(0)) + ' ' + u[i] + (unit === 'bps' ? '/s' : '');
	}
	function niceMax(v, unit) {
		if (unit === 'pct') return 100;
		if (!(v > 0)) return unit === 'plain' ? 1 : 1024;
		var p = 1, steps = [1, 2, 2.5, 5, 10];
		if (unit !== 'plain') while (p * 1024 <= v) p *= 1024;
		var m = v / p, d = Math.pow(10, Math.floor(Math.log10(m)));
		for (var i = 0; i < steps.length; i++) if (d * steps[i] >= m) return d * steps[i] * p;
		return 10 * d * p;
	}
	// The server's time zone, as the page's labels are: data-tzoff is its offset from UTC in seconds.
	function hhmm(t, off) {
		var d = new Date((t + off) * 1000);
		return ('0' + d.getUTCHours()).slice(-2) + ':' + ('0' + d.getUTCMinutes()).slice(-2);
	}
	function updateChart(svg, d) {
		var n = function (k) { return parseFloat(svg.getAttribute('data-' + k)); };
		var t0 = n('t0'), t1 = n('t1'), x0 = n('x0'), y0 = n('y0'), pw = n('pw'), ph = n('ph');
		var unit = svg.getAttribute('data-unit'), span = t1 - t0;
		t1 = d.time;
		t0 = t1 - span;
		var lines = svg.querySelectorAll('polyline[data-live]'), all = [], max = 0, i, j;
		for (i = 0; i < lines.length; i++) {
			var vals = [], raw = (lines[i].getAttribute('data-values') || '').split(' ');
			for (j = 0; j < raw.length; j++) {
				var tv = raw[j].split(':');
				if (tv.length === 2 && +tv[0] >= t0 && +tv[0] < d.time) vals.push([+tv[0], +tv[1]]);
			}
			var v = pick(d, lines[i].getAttribute('data-live'));
			if (v !== null && !isNaN(v)) vals.push([d.time, +v]);
			for (j = 0; j < vals.length; j++) if (vals[j][1] > max) max = vals[j][1];
			all.push(vals);
			var legend = svg.parentNode.querySelector('[data-legend="' + lines[i].getAttribute('data-cls') + '"]');
			if (legend && v !== null) legend.textContent = fmt(+v, unit);
		}
		var ymax = niceMax(max, unit), labels = svg.querySelectorAll('text.axis-y'), ticks = svg.querySelectorAll('text.axis-x');
		for (i = 0; i < labels.length; i++) labels[i].textContent = fmt(ymax * i / (labels.length - 1), unit);
		for (i = 0; i < ticks.length; i++) ticks[i].textContent = hhmm(t0 + span * i / (ticks.length - 1), n('tzoff') || 0);
		for (i = 0; i < lines.length; i++) {
			var pts = [], keep = [];
			for (j = 0; j < all[i].length; j++) {
				var p = all[i][j], y = Math.max(0, Math.min(ymax, p[1]));
				pts.push((x0 + pw * (p[0] - t0) / span).toFixed(1) + ',' + (y0 + ph - ph * y / ymax).toFixed(1));
				keep.push(p[0] + ':' + p[1]);
			}
			lines[i].setAttribute('points', pts.join(' '));
			lines[i].setAttribute('data-values', keep.join(' '));
		}
		svg.setAttribute('data-t0', String(t0));
		svg.setAttribute('data-t1', String(t1));
		svg.setAttribute('data-ymax', String(ymax));
		var empty = svg.querySelector('.chart-empty');
		if (empty && max >= 0 && all.length && all[0].length) empty.parentNode.removeChild(empty);
	}
	function setupLive() {
		var head = document.querySelector('[data-stream]');
		var url = head && head.getAttribute('data-stream');
		if (!url || !window.EventSource) return;
		var status = document.querySelector('[data-live-status]');
		var stamp = document.querySelector('[data-live-time]');
		var es = new EventSource(url);
		es.addEventListener('metrics', function (ev) {
			var d, i, els;
			try { d = JSON.parse(ev.data); } catch (e) { return; }
			if (!d || !d.time) return;
			if (status) status.hidden = false;
			if (stamp) {
				var t = new Date(d.time * 1000);
				stamp.setAttribute('datetime', t.toISOString());
				stamp.textContent = t.toLocaleTimeString(lang);
			}
			els = document.querySelectorAll('[data-live-value]');
			for (i = 0; i < els.length; i++) {
				var v = pick(d, els[i].getAttribute('data-live-value'));
				if (v !== null) els[i].textContent = fmt(+v, els[i].getAttribute('data-format'));
			}
			els = document.querySelectorAll('meter[data-live-meter]');
			for (i = 0; i < els.length; i++) {
				var m = pick(d, els[i].getAttribute('data-live-meter'));
				if (m !== null) els[i].value = +m;
			}
			els = document.querySelectorAll('svg.chart-svg[data-live]');
			for (i = 0; i < els.length; i++) updateChart(els[i], d);
			document.documentElement.setAttribute('data-live-updates', String((+document.documentElement.getAttribute('data-live-updates') || 0) + 1));
		});
		es.addEventListener('error', function () {
			if (status) status.hidden = true;
		});
	}

	// A job's page (a certificate's issue or renewal, a database's import or export,
	// a backup run): the live stream's `event: job` (every host's helper jobs, the
	// sampler's relay) moves the progress bar and, for a job of another kind or
	// none named, asks the page's JSON once; the page reloads once when the job is
	// over. Without the stream (no EventSource, or not connected) the JSON is
	// polled; without JS the page's noscript refresh and its reload link.
	function setupJobPoll() {
		var box = document.querySelector('[data-job-poll]');
		if (!box || !window.fetch) return;
		var url = box.getAttribute('data-job-poll');
		var stream = box.getAttribute('data-job-stream');
		var jobId = box.getAttribute('data-job-id') || '';
		var ops = box.getAttribute('data-job-ops') || '';
		var live = false, busy = false, again = false, timer = null, over = false, refused = false;
		var root = document.documentElement;
		function count(name) { root.setAttribute(name, String((+root.getAttribute(name) || 0) + 1)); }
		function reloadOnce() {
			if (over) return;
			over = true;
			if (timer) clearTimeout(timer);
			root.setAttribute('data-job-over', '1');
			window.location.reload();
		}
		function later(ms) {
			if (timer) clearTimeout(timer);
			timer = over ? null : setTimeout(function () {
				if (live) count('data-job-live-polls'); // the slow check on the stream
				tick();
			}, ms);
		}
		function tick() {
			if (timer) { clearTimeout(timer); timer = null; }
			if (over) return;
			if (busy) { again = true; return; }
			busy = true;
			count('data-job-fetches');
			fetch(url, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
				.then(function (r) { return r.ok ? r.json() : null; })
				.then(function (d) {
					busy = false;
					if (!d) { later(live ? 20000 : 3000); return; }
					// A certificate's job, or a backup run (BackupRun: progress and state of its own).
					var j = d.job || (d.action ? d : null), bar = document.getElementById('job-progress'), out = document.getElementById('job-output');
					if (j && bar && typeof j.progress === 'number') bar.value = j.progress;
					if (j && out) out.textContent = j.output || '';
					if (d.certificate && d.certificate.state !== 'pending') { reloadOnce(); return; }
					if (d.action && d.state !== 'running') { reloadOnce(); return; }
					if (!d.certificate && !d.action && j && j.state !== 'queued' && j.state !== 'running') { reloadOnce(); return; }
					if (again) { again = false; later(200); return; }
					// On the stream, a slow check in case an event was missed; else the poll.
					later(live ? 20000 : 1000);
				})
				.catch(function () { busy = false; later(3000); });
		}
		function onJob(ev) {
			var e;
			try { e = JSON.parse(ev.data); } catch (x) { return; }
			if (!e || over) return;
			if (ops && String(e.op || '').indexOf(ops) !== 0) return;
			var mine = jobId !== '' && String(e.id) === jobId;
			if (jobId !== '' && !mine) return;
			count('data-job-events');
			var bar = document.getElementById('job-progress');
			if (mine && bar && typeof e.progress === 'number') bar.value = e.progress;
			// Ended (or a job the page cannot name moved): the page's JSON says what it means.
			if (!mine || (e.state !== 'queued' && e.state !== 'running')) tick();
		}
		if (stream && window.EventSource) {
			var es = new EventSource(stream);
			es.addEventListener('open', function () {
				live = true;
				root.setAttribute('data-job-live', '1');
				tick(); // what happened before the stream opened
			});
			es.addEventListener('job', onJob);
			es.addEventListener('error', function () {
				// Refused before it ever opened: poll now rather than at the 3 s fallback.
				if (!live) { if (!refused) { refused = true; later(1000); } return; }
				live = false; // reconnecting: poll meanwhile
				root.removeAttribute('data-job-live');
				later(1000);
			});
			window.addEventListener('pagehide', function () { es.close(); });
			later(3000); // the stream not open by then: poll
		} else {
			later(1000);
		}
	}

	// A task's run started with "Run now" (or by cron): poll the task's JSON and
	// reload once no run is going (without JS: the page's noscript refresh).
	function setupRunPoll() {
		var box = document.querySelector('[data-run-poll]');
		if (!box || !window.fetch) return;
		var url = box.getAttribute('data-run-poll');
		function tick() {
			fetch(url, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin' })
				.then(function (r) { return r.ok ? r.json() : null; })
				.then(function (d) {
					if (!d || !d.runs) { setTimeout(tick, 3000); return; }
					var going = d.runs.some(function (r) { return r.state === 'running'; });
					if (!going) { window.location.reload(); return; }
					setTimeout(tick, 1000);
				})
				.catch(function () { setTimeout(tick, 3000); });
		}
		setTimeout(tick, 1000);
	}

	function start() {
		setupJobPoll();
		setupRunPoll();
		setupSort();
		setupLive();
		setupNav();
		updateTimes();
		setInterval(updateTimes, 60000);
		setupCopy();
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
