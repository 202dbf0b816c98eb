// The log viewer's follow view (docs/files.md, "Logs"): the new lines of the
// log from the live stream (Server-Sent Events from the sampler, never a
// worker), filtered like the page (plain text, error level), appended to the
// lines shown. Without script the page reloads itself every two seconds.
(function () {
	'use strict';
	var LEVELS = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug'];
	var MAX_LINES = 5000;

	function start() {
		var pre = document.querySelector('pre[data-log-stream]');
		if (!pre || !window.EventSource) return;
		var search = pre.getAttribute('data-log-search') || '';
		var level = LEVELS.indexOf(pre.getAttribute('data-log-level') || '');
		var status = document.querySelector('[data-log-status]');
		var empty = document.querySelector('[data-log-empty]');
		var failures = 0, got = 0;

		function wanted(line) {
			if (search && line.indexOf(search) < 0) return false;
			if (level >= 0) {
				var m = /\[([a-z]+)\]/.exec(line);
				var l = m ? LEVELS.indexOf(m[1]) : -1;
				if (l < 0 || l > level) return false;
			}
			return true;
		}
		var es = new EventSource(pre.getAttribute('data-log-stream'));
		es.addEventListener('open', function () {
			failures = 0;
			if (status) status.hidden = false;
		});
		es.addEventListener('lines', function (ev) {
			var lines = ev.data.split('\n'), add = '';
			for (var i = 0; i < lines.length; i++)
				if (wanted(lines[i])) add += lines[i] + '\n';
			if (!add) return;
			var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
			pre.appendChild(document.createTextNode(add)); // text, never markup
			while (pre.childNodes.length > MAX_LINES) pre.removeChild(pre.firstChild);
			pre.hidden = false;
			if (empty) empty.hidden = true;
			if (atEnd) pre.scrollTop = pre.scrollHeight;
			got++;
			pre.setAttribute('data-log-events', String(got));
		});
		es.addEventListener('error', function () {
			if (status) status.hidden = true;
			// The stream cannot be had (the sampler is off): follow by reloading, as without script.
			if (++failures >= 3) {
				es.close();
				setTimeout(function () { window.location.reload(); }, 2000);
			}
		});
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
