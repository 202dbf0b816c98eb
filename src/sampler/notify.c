/*
 * notify.c — e-mail and webhook deliveries through libcurl (notify.h).
 * Every transfer is bounded (monitor.send_timeout), restricted to its own
 * protocols and never follows a redirect; the SMTP password is read from
 * its file for each message and wiped after use.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "aapanel/crypto.h"
#include "aapanel/log.h"
#include "aapanel/notify.h"

struct reader {
	const char *p;
	size_t left;
};

static size_t
read_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct reader *r = arg;
	size_t k = size * n < r->left ? size * n : r->left;

	memcpy(buf, r->p, k);
	r->p += k;
	r->left -= k;
	return k;
}

static size_t
discard_cb(char *buf, size_t size, size_t n, void *arg)
{
	(void)buf;
	(void)arg;
	return size * n;
}

/* The SMTP login: first line the user, second the password. */
static bool
read_credentials(const char *path, char *user, size_t ulen, char *pass, size_t plen)
{
	char buf[2048];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char *nl, *p2;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (nl == NULL)
		return false;
	*nl = '\0';
	p2 = nl + 1;
	p2[strcspn(p2, "\r\n")] = '\0';
	if (buf[0] == '\0' || strlen(buf) >= ulen || strlen(p2) >= plen) {
		explicit_bzero(buf, sizeof(buf));
		return false;
	}
	snprintf(user, ulen, "%s", buf);
	snprintf(pass, plen, "%s", p2);
	explicit_bzero(buf, sizeof(buf));
	return true;
}

static void
common_opts(CURL *c, const struct ap_config *cfg, char *errbuf)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->monitor_send_timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->monitor_send_timeout);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	if (cfg->monitor_ca_file && cfg->monitor_ca_file[0])
		curl_easy_setopt(c, CURLOPT_CAINFO, cfg->monitor_ca_file);
}

/* CRLF line ends, as SMTP wants them. */
static void
crlf(struct ap_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			ap_buf_putc(b, '\r');
		if (*s != '\r')
			ap_buf_putc(b, *s);
	}
}

static bool
send_email(const struct ap_config *cfg, const struct ap_alert_channel *ch, const char *subject, const char *body,
    char *err, size_t errlen)
{
	CURL *c = NULL;
	struct curl_slist *rcpt = NULL;
	struct ap_buf msg = { 0 };
	struct reader rd;
	char errbuf[CURL_ERROR_SIZE] = "", user[256], pass[512], date[64], from[300], to[2100], mid[96];
	CURLcode cc;
	bool ok = false;
	time_t now = time(NULL);
	struct tm tm;

	if (cfg->monitor_smtp_url == NULL || cfg->monitor_smtp_url[0] == '\0') {
		snprintf(err, errlen, "no SMTP server configured (monitor.smtp_url)");
		return false;
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	ap_random_hex(mid, 16);
	snprintf(from, sizeof(from), "<%s>", cfg->monitor_smtp_from);
	snprintf(to, sizeof(to), "<%s>", ch->target);
	ap_buf_printf(&msg,
	    "Date: %s\r\nFrom: aaPanel <%s>\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@aapanel>\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n",
	    date, cfg->monitor_smtp_from, to, subject, mid);
	crlf(&msg, body);
	if ((c = curl_easy_init()) == NULL) {
		snprintf(err, errlen, "libcurl: out of memory");
		goto out;
	}
	common_opts(c, cfg, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, cfg->monitor_smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	if (strncmp(cfg->monitor_smtp_url, "smtp://", 7) == 0)
		curl_easy_setopt(c, CURLOPT_USE_SSL, cfg->monitor_smtp_starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (cfg->monitor_smtp_credentials_file && cfg->monitor_smtp_credentials_file[0]) {
		if (!read_credentials(cfg->monitor_smtp_credentials_file, user, sizeof(user), pass, sizeof(pass))) {
			snprintf(err, errlen, "cannot read the SMTP login from monitor.smtp_credentials_file");
			goto out;
		}
		curl_easy_setopt(c, CURLOPT_USERNAME, user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, pass);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	rcpt = curl_slist_append(rcpt, to);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	rd.p = msg.data;
	rd.left = msg.len;
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &rd);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	cc = curl_easy_perform(c);
	explicit_bzero(pass, sizeof(pass));
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "SMTP: %s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	ok = true;
out:
	explicit_bzero(pass, sizeof(pass));
	curl_slist_free_all(rcpt);
	if (c)
		curl_easy_cleanup(c);
	ap_buf_free(&msg);
	return ok;
}

static bool
send_webhook(const struct ap_config *cfg, const struct ap_alert_channel *ch, const char *payload, char *err,
    size_t errlen)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char errbuf[CURL_ERROR_SIZE] = "", line[160], sig[65];
	long status = 0;
	struct ap_buf signed_text = { 0 };
	long long ts = (long long)time(NULL);
	CURLcode cc;
	bool ok = false;

	if (c == NULL) {
		snprintf(err, errlen, "libcurl: out of memory");
		return false;
	}
	ap_buf_printf(&signed_text, "%lld.%s", ts, payload);
	ap_hmac_sha256_hex(ch->secret, strlen(ch->secret), signed_text.data, signed_text.len, sig);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "User-Agent: aaPanel-sampler/" AP_VERSION);
	snprintf(line, sizeof(line), "X-Aapanel-Timestamp: %lld", ts);
	h = curl_slist_append(h, line);
	snprintf(line, sizeof(line), "X-Aapanel-Signature: sha256=%s", sig);
	h = curl_slist_append(h, line);
	h = curl_slist_append(h, "Expect:");
	common_opts(c, cfg, errbuf);
	curl_easy_setopt(c, CURLOPT_URL, ch->target);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard_cb);
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "webhook: %s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "webhook: the receiver answered HTTP %ld", status);
		goto out;
	}
	ok = true;
out:
	ap_buf_free(&signed_text);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return ok;
}

bool
ap_notify_send(const struct ap_config *cfg, const struct ap_alert_channel *ch, const char *subject,
    const char *body, const char *payload, char *err, size_t errlen)
{
	err[0] = '\0';
	if (ch->kind == AP_AC_EMAIL)
		return send_email(cfg, ch, subject, body, err, errlen);
	return send_webhook(cfg, ch, payload, err, errlen);
}

struct deliver {
	const struct ap_config *cfg;
	struct ap_db *db;
	int64_t now;
	int sent, failed;
	enum ap_db_rc rc;
};

static bool
deliver_one(void *p, const struct ap_alert_msg *m)
{
	struct deliver *d = p;
	struct ap_alert_channel *ch = ap_xcalloc(1, sizeof(*ch));
	char err[512] = "";
	bool ok = false;
	enum ap_db_rc rc = ap_alert_channel_get(d->db, m->channel_id, ch);

	if (rc == AP_DB_OK && ch->enabled)
		ok = ap_notify_send(d->cfg, ch, m->subject, m->body, m->payload, err, sizeof(err));
	else if (rc == AP_DB_OK)
		snprintf(err, sizeof(err), "the channel is disabled");
	else if (rc == AP_DB_ENOTFOUND)
		snprintf(err, sizeof(err), "the channel was deleted");
	else {
		d->rc = rc;
		free(ch);
		return false;
	}
	if (ok)
		d->sent++;
	else {
		d->failed++;
		AP_WARN("notification %lld (%s) to channel %lld not delivered: %s", (long long)m->id, m->kind,
		    (long long)m->channel_id, err);
	}
	d->rc = ap_alert_outbox_done(d->db, m, ok, err, d->now);
	free(ch);
	return d->rc == AP_DB_OK;
}

enum ap_db_rc
ap_notify_deliver(const struct ap_config *cfg, struct ap_db *db, const char *host, int64_t now, int *sent,
    int *failed)
{
	struct deliver d = { cfg, db, now, 0, 0, AP_DB_OK };
	enum ap_db_rc rc = ap_alert_outbox_due(db, host, now, 20, deliver_one, &d);

	if (sent)
		*sent = d.sent;
	if (failed)
		*failed = d.failed;
	return rc != AP_DB_OK ? rc : d.rc;
}

void
ap_notify_test_message(const char *host, const struct ap_alert_channel *ch, int64_t now, char **subject,
    char **body, char **payload)
{
	struct json_object *o = json_object_new_object();

	*subject = ap_xasprintf("[aaPanel %s] Test message to %s", host, ch->name);
	*body = ap_xasprintf("This is a test message from the aaPanel sampler on %s to the channel \"%s\".\n"
			     "Alerts will arrive the same way.\n",
	    host, ch->name);
	json_object_object_add(o, "event", json_object_new_string("test"));
	json_object_object_add(o, "host", json_object_new_string(host));
	json_object_object_add(o, "channel", json_object_new_string(ch->name));
	json_object_object_add(o, "sent_at", json_object_new_int64(now));
	json_object_object_add(o, "message", json_object_new_string(*subject));
	*payload = ap_xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}
