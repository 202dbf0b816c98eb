// The file manager's upload form with a progress bar (docs/files.md): the
// same form sent by XMLHttpRequest so that its upload progress can be shown;
// the answer's page (the folder after the redirect, or the form again with
// the reason) then replaces this one. Without script the form posts as it is.
(function () {
	'use strict';
	function start() {
		var form = document.querySelector('form[data-upload-progress]');
		if (!form || !window.XMLHttpRequest || !window.FormData) return;
		var bar = form.querySelector('progress');
		var status = form.querySelector('[data-upload-status]');
		form.addEventListener('submit', function (ev) {
			var xhr = new XMLHttpRequest();
			ev.preventDefault();
			if (bar) { bar.hidden = false; bar.value = 0; }
			var button = form.querySelector('button[type="submit"]');
			if (button) button.disabled = true;
			xhr.upload.addEventListener('progress', function (e) {
				if (!e.lengthComputable) return;
				var pct = Math.floor(e.loaded * 100 / e.total);
				if (bar) bar.value = pct;
				if (status) status.textContent = pct + '%';
			});
			xhr.addEventListener('load', function () {
				// The answer's page replaces this one: the folder the redirect led to (with its
				// one-time message, which the redirect's page consumed), or the form again with
				// the reason it was refused.
				if (xhr.responseURL) window.history.replaceState(null, '', xhr.responseURL);
				document.open();
				document.write(xhr.responseText);
				document.close();
			});
			xhr.addEventListener('error', function () {
				if (button) button.disabled = false;
				if (status) status.textContent = form.getAttribute('data-upload-failed') || 'failed';
			});
			xhr.open('POST', form.action);
			xhr.send(new FormData(form));
		});
	}
	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
