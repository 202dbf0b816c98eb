/*
 * aaPanel's small script. Every page works without it; with it:
 * - the sidebar folds away behind a menu button on narrow screens,
 * - times read "5 minutes ago" (the exact time stays on hover),
 * - secrets shown once get a Copy button.
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

	function start() {
		setupSort();
		setupNav();
		updateTimes();
		setInterval(updateTimes, 60000);
		setupCopy();
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
