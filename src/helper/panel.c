/*
 * panel.c — operations on the panel's own serving: where nginx serves it
 * (its listen lines and entrance, nginx.listen_file), the Settings screen's
 * configuration layer (panel.settings_file), and its TLS certificate.
 *
 *   panel.listen   {address, port, base_path} → the include rendered from
 *                  templates/nginx/listen.conf, written beside the old one
 *                  and swapped (with the HTTP redirect beside it, when
 *                  setup-https.sh wrote one, from templates/nginx/redirect.conf),
 *                  `nginx -t`, `nginx -s reload`; on any failure the old
 *                  files are put back and nginx's own message answered
 *   panel.settings {base_path, allow, idle_timeout, absolute_timeout} →
 *                  templates/conf/settings.cfg rendered and swapped in (the
 *                  pool reads it at its next reload)
 *   panel.tls      {} → the certificate the include names: names, issuer,
 *                  expiry (read here: the panel's user may not read it)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "aapanel/listenconf.h"
#include "aapanel/tcplisten.h"
#include "aapanel/tpl.h"
#include "ops.h"
#include "sandbox.h"
#include "spawn.h"

#define FILE_MAX 65536
#define LISTEN_WAIT_MS 5000 /* how long nginx may take to listen after a reload */

static const char *
check_address(const char *s, size_t n)
{
	(void)n;
	return ap_listen_address_ok(s) ? NULL : "must be * or an IPv4 or IPv6 address";
}

static const char *
check_base(const char *s, size_t n)
{
	char why[192];

	(void)n;
	return ap_config_setting_check("panel.base_path", s, why, sizeof(why)) ? NULL
	    : "must be / or /seg[/seg...] of letters, digits, _ and -";
}

static const char *
check_allow(const char *s, size_t n)
{
	char why[192];

	(void)n;
	return ap_config_setting_check("access.allow", s, why, sizeof(why)) ? NULL
	    : "must be addresses or networks separated by commas";
}

/* path (absolute) as a path beneath the sandbox root; NULL when it is not beneath it. */
static const char *
beneath(const struct helper_ctx *ctx, const char *path)
{
	const char *root = ctx->cfg->helper_sandbox_root;
	size_t n = strlen(root);

	if (strcmp(root, "/") == 0)
		return path[0] == '/' && path[1] != '\0' ? path + 1 : NULL;
	if (strncmp(path, root, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
		return NULL;
	return path + n + 1;
}

/* Read up to FILE_MAX bytes of name in dirfd into a NUL-terminated buffer (arena). NULL when absent. */
static char *
read_at(struct helper_ctx *ctx, int dirfd, const char *name)
{
	char *buf;
	size_t len = 0;
	ssize_t r;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	buf = ap_arena_alloc(ctx->arena, FILE_MAX + 1);
	while (len < FILE_MAX && (r = read(fd, buf + len, FILE_MAX - len)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
	close(fd);
	return buf;
}

/* Write text as name in dirfd: a new file beside it, synced, renamed over it. */
static enum ap_err
write_at(int dirfd, const char *name, const char *text, char *err, size_t errlen)
{
	char tmp[NAME_MAX + 1];
	size_t len = strlen(text), off = 0;
	int fd;

	if (snprintf(tmp, sizeof(tmp), ".%s.new", name) >= (int)sizeof(tmp)) {
		ap_errf(err, errlen, "%s: name too long", name);
		return AP_ERR_INVAL;
	}
	unlinkat(dirfd, tmp, 0);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		ap_errf(err, errlen, "%s: %s", tmp, strerror(errno));
		return AP_ERR_IO;
	}
	/* 0644 whatever the umask (the unit's UMask=0077): nginx and the
	 * panel's workers (www) read these files. */
	if (fchmod(fd, 0644) != 0) {
		ap_errf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return AP_ERR_IO;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			ap_errf(err, errlen, "%s: %s", tmp, strerror(errno));
			close(fd);
			unlinkat(dirfd, tmp, 0);
			return AP_ERR_IO;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || renameat(dirfd, tmp, dirfd, name) != 0) {
		ap_errf(err, errlen, "%s: %s", name, strerror(errno));
		unlinkat(dirfd, tmp, 0);
		return AP_ERR_IO;
	}
	return AP_OK;
}

/*
 * Open the directory of path (absolute, beneath the sandbox root) into
 * *dirfd and point *name at its last component. Sets ctx->pb on failure.
 */
static enum ap_err
open_parent(struct helper_ctx *ctx, const char *key, const char *path, int *dirfd, const char **name)
{
	const char *rel = path[0] != '\0' ? beneath(ctx, path) : NULL, *why = NULL, *slash;
	char *dir;
	enum ap_err rc;

	*dirfd = -1;
	if (rel == NULL) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s is not set or not beneath helper.sandbox_root", key);
		return AP_ERR_INVAL;
	}
	slash = strrchr(rel, '/');
	*name = slash ? slash + 1 : rel;
	dir = slash ? ap_arena_strndup(ctx->arena, rel, (size_t)(slash - rel)) : ap_arena_strdup(ctx->arena, ".");
	rc = ap_sandbox_open(ctx->sandbox_fd, dir, O_RDONLY | O_DIRECTORY, 0, dirfd, &why);
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, rc == AP_ERR_NOTFOUND ? AP_PB_NOT_FOUND : AP_PB_FAILED, NULL,
		    "%s: the directory of %s: %s", key, path, why ? why : strerror(errno));
		return rc;
	}
	return AP_OK;
}

/* Render the template file name (below paths.templates) with model into out. */
static enum ap_err
render(struct helper_ctx *ctx, const char *name, struct json_object *model, struct ap_buf *out)
{
	char path[PATH_MAX], err[256] = "";
	char *text = NULL;
	size_t len = 0;
	struct ap_tpl_set *set = NULL;
	enum ap_err rc;

	snprintf(path, sizeof(path), "%s/%s", ctx->cfg->templates_dir, name);
	if ((rc = ap_read_file_at(AT_FDCWD, path, FILE_MAX, &text, &len)) != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot read the template %s", path);
		goto out;
	}
	if ((rc = ap_tpl_compile_string(name, text, &set, err, sizeof(err))) != AP_OK ||
	    (rc = ap_tpl_render(set, name, model, NULL, NULL, out)) != AP_OK)
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "template %s: %s", name, err);
out:
	ap_tpl_free(set);
	free(text);
	return rc;
}

/* nginx [-p P] [-c C] [-e P/error.log] ARGS...; AP_OK when it exits 0, else nginx's message in ctx->pb. */
static enum ap_err
run_nginx(struct helper_ctx *ctx, const char *a1, const char *a2)
{
	const struct ap_config *cfg = ctx->cfg;
	const char *argv[12];
	struct ap_spawn sp = { .path = cfg->nginx_binary, .argv = argv, .timeout_ms = 20000 };
	struct ap_spawn_result res;
	char err[256] = "", *elog = NULL;
	size_t n = 0;
	enum ap_err rc;

	argv[n++] = "nginx";
	if (cfg->nginx_prefix[0] != '\0') {
		elog = ap_arena_printf(ctx->arena, "%s/error.log", cfg->nginx_prefix);
		argv[n++] = "-p";
		argv[n++] = cfg->nginx_prefix;
		argv[n++] = "-e";
		argv[n++] = elog;
	}
	if (cfg->nginx_conf[0] != '\0') {
		argv[n++] = "-c";
		argv[n++] = cfg->nginx_conf;
	}
	argv[n++] = a1;
	if (a2 != NULL)
		argv[n++] = a2;
	argv[n] = NULL;
	rc = ap_spawn_run(&sp, &res, err, sizeof(err));
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "nginx: %s", err);
	} else if (!res.exited || res.exit_code != 0) {
		/* nginx's own words: its first "[emerg]" line, else the first line */
		const char *m = ap_buf_cstr(&res.err), *e = strstr(m, "[emerg]");
		size_t len;

		if (e != NULL)
			m = e;
		len = strcspn(m, "\n");
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%.*s", (int)(len > 120 ? 120 : len),
		    len > 0 ? m : "nginx failed");
		rc = AP_ERR_IO;
	}
	ap_spawn_result_free(&res);
	return rc;
}

/* ---- panel.listen --------------------------------------------------- */

/*
 * The HTTP server's redirect beside the listen file (listen.conf →
 * listen.redirect.conf), written by setup-https.sh. Its first line names
 * the host; the new text sends HTTP to that host at the new port. Returns
 * the file's name in the listen file's directory, or NULL (*text NULL too)
 * when there is none to keep up to date (development, phase 1).
 */
static const char *
redirect_text(struct helper_ctx *ctx, int dirfd, const char *listen_name, long long port,
    char **old, struct ap_buf *text)
{
	size_t n = strlen(listen_name);
	const char *name;
	char host[256];
	struct json_object *m;
	enum ap_err rc;

	*old = NULL;
	if (n > 5 && strcmp(listen_name + n - 5, ".conf") == 0)
		n -= 5;
	name = ap_arena_printf(ctx->arena, "%.*s.redirect.conf", (int)n, listen_name);
	if ((*old = read_at(ctx, dirfd, name)) == NULL)
		return NULL;
	/* host: a DNS name or an IP literal, as setup-https.sh's --domain */
	if (sscanf(*old, "# aapanel-redirect: host=%255[A-Za-z0-9.:_-] ", host) != 1) {
		*old = NULL;
		return NULL;
	}
	m = json_object_new_object();
	json_object_object_add(m, "host", json_object_new_string(host));
	json_object_object_add(m, "port", json_object_new_int64(port));
	json_object_object_add(m, "authority", json_object_new_string(port == 443 ? host
	    : ap_arena_printf(ctx->arena, "%s:%lld", host, port)));
	rc = render(ctx, "nginx/redirect.conf", m, text);
	json_object_put(m);
	if (rc != AP_OK) {
		*old = NULL;
		return NULL;
	}
	return name;
}

enum { LISTEN_ADDRESS, LISTEN_PORT, LISTEN_BASE, LISTEN__MAX };
const struct ap_field ap_ops_panel_listen_args[LISTEN__MAX + 1] = {
	[LISTEN_ADDRESS] = { .name = "address", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 63, .check = check_address },
	[LISTEN_PORT] = { .name = "port", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED,
	    .min = 1, .max = 65535 },
	[LISTEN_BASE] = { .name = "base_path", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 255, .check = check_base },
	[LISTEN__MAX] = AP_FIELD_END,
};

enum ap_err
ap_ops_panel_listen(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct json_object *m = json_object_new_object();
	struct ap_listen cur;
	struct ap_buf text = { 0 }, rtext = { 0 };
	const char *name = NULL, *rname = NULL, *addr = a[LISTEN_ADDRESS].s, *base = a[LISTEN_BASE].s;
	char *old = NULL, *rold = NULL, err[256] = "";
	bool have_cur, not_listening = false;
	int dirfd = -1;
	enum ap_err rc;

	if ((rc = open_parent(ctx, "nginx.listen_file", ctx->cfg->nginx_listen_file, &dirfd, &name)) != AP_OK)
		goto out;
	old = read_at(ctx, dirfd, name);
	/* TLS and the certificate stay what setup-https.sh made them. */
	have_cur = old != NULL && ap_listen_parse(old, &cur);
	json_object_object_add(m, "address", json_object_new_string(addr));
	json_object_object_add(m, "port", json_object_new_int64(a[LISTEN_PORT].i));
	json_object_object_add(m, "base", json_object_new_string(base));
	json_object_object_add(m, "base_prefix", json_object_new_string(strcmp(base, "/") == 0 ? "" : base));
	json_object_object_add(m, "tls", json_object_new_boolean(have_cur && cur.tls));
	json_object_object_add(m, "tls_flag", json_object_new_string(have_cur && cur.tls ? "1" : "0"));
	json_object_object_add(m, "certificate",
	    json_object_new_string(have_cur && cur.certificate[0] ? cur.certificate : "-"));
	json_object_object_add(m, "all", json_object_new_boolean(strcmp(addr, "*") == 0));
	json_object_object_add(m, "v4", json_object_new_boolean(strcmp(addr, "*") != 0 && strchr(addr, ':') == NULL));
	json_object_object_add(m, "v6", json_object_new_boolean(strchr(addr, ':') != NULL));
	if ((rc = render(ctx, "nginx/listen.conf", m, &text)) != AP_OK)
		goto out;
	/* A port some other program holds (the worker checked it too, a moment ago). */
	if ((!have_cur || cur.port != a[LISTEN_PORT].i) && ap_tcp_listening("/proc", (int)a[LISTEN_PORT].i, addr)) {
		ap_problem_set(ctx->pb, AP_PB_CONFLICT, "port", "port %lld is in use by another program",
		    (long long)a[LISTEN_PORT].i);
		rc = AP_ERR_INVAL;
		goto out;
	}
	/* The HTTP redirect follows a TLS listen file to its new port. */
	if (have_cur && cur.tls)
		rname = redirect_text(ctx, dirfd, name, a[LISTEN_PORT].i, &rold, &rtext);
	if ((rc = write_at(dirfd, name, ap_buf_cstr(&text), err, sizeof(err))) != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", err);
		goto out;
	}
	if (rname != NULL && (rc = write_at(dirfd, rname, ap_buf_cstr(&rtext), err, sizeof(err))) != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", err);
		rname = NULL;
		goto restore;
	}
	if ((rc = run_nginx(ctx, "-t", NULL)) != AP_OK || (rc = run_nginx(ctx, "-s", "reload")) != AP_OK)
		goto restore;
	/* `-s reload` only signals: a port nginx cannot take (in use) keeps its old configuration,
	 * said only in its error log. Wait until the kernel shows it listening there. */
	for (int waited = 0; !ap_tcp_listening("/proc", (int)a[LISTEN_PORT].i, addr); waited += 50) {
		if (waited >= LISTEN_WAIT_MS) {
			not_listening = true;
			rc = AP_ERR_IO;
			goto restore;
		}
		usleep(50000);
	}
	json_object_object_add(ctx->result, "address", json_object_new_string(addr));
	json_object_object_add(ctx->result, "port", json_object_new_int64(a[LISTEN_PORT].i));
	json_object_object_add(ctx->result, "base_path", json_object_new_string(base));
	json_object_object_add(ctx->result, "tls", json_object_new_boolean(have_cur && cur.tls));
	goto out;
restore:
	/* Put the old files back (nginx's message stays in ctx->pb). */
	if (old != NULL)
		write_at(dirfd, name, old, err, sizeof(err));
	else
		unlinkat(dirfd, name, 0);
	if (rname != NULL)
		write_at(dirfd, rname, rold, err, sizeof(err));
	if (not_listening) {
		run_nginx(ctx, "-s", "reload"); /* back to the files nginx still serves */
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL,
		    "nginx did not start listening on %s port %lld within %d s (is the port in use? see nginx's "
		    "error log); the panel stays where it was", addr, (long long)a[LISTEN_PORT].i,
		    LISTEN_WAIT_MS / 1000);
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	ap_buf_free(&text);
	ap_buf_free(&rtext);
	json_object_put(m);
	return rc;
}

/* ---- panel.settings ------------------------------------------------- */

enum { SET_BASE, SET_ALLOW, SET_IDLE, SET_ABSOLUTE, SET__MAX };
const struct ap_field ap_ops_panel_settings_args[SET__MAX + 1] = {
	[SET_BASE] = { .name = "base_path", .type = AP_FIELD_TEXT,
	    .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE, .min = 1, .max = 255, .check = check_base },
	[SET_ALLOW] = { .name = "allow", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 1024, .check = check_allow },
	[SET_IDLE] = { .name = "idle_timeout", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED,
	    .min = 60, .max = 86400 },
	[SET_ABSOLUTE] = { .name = "absolute_timeout", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED,
	    .min = 300, .max = 604800 },
	[SET__MAX] = AP_FIELD_END,
};

enum ap_err
ap_ops_panel_settings(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct json_object *m = json_object_new_object();
	struct ap_buf text = { 0 };
	const char *name = NULL;
	char err[256] = "";
	int dirfd = -1;
	enum ap_err rc;

	if ((rc = open_parent(ctx, "panel.settings_file", ctx->cfg->settings_file, &dirfd, &name)) != AP_OK)
		goto out;
	json_object_object_add(m, "base_path", json_object_new_string(a[SET_BASE].s));
	json_object_object_add(m, "allow", json_object_new_string(a[SET_ALLOW].present ? a[SET_ALLOW].s : ""));
	json_object_object_add(m, "idle_timeout", json_object_new_int64(a[SET_IDLE].i));
	json_object_object_add(m, "absolute_timeout", json_object_new_int64(a[SET_ABSOLUTE].i));
	if ((rc = render(ctx, "conf/settings.cfg", m, &text)) != AP_OK)
		goto out;
	if ((rc = write_at(dirfd, name, ap_buf_cstr(&text), err, sizeof(err))) != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", err);
		goto out;
	}
	json_object_object_foreach(m, k, v) {
		json_object_object_add(ctx->result, k, json_object_get(v));
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	ap_buf_free(&text);
	json_object_put(m);
	return rc;
}

/* ---- panel.tls ------------------------------------------------------ */

const struct ap_field ap_ops_panel_tls_args[] = { AP_FIELD_END };

static void
add_names(struct json_object *names, X509 *x)
{
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);

	for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans) && i < 100; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);

		if (g->type == GEN_DNS) {
			const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
			int l = ASN1_STRING_length(g->d.dNSName);

			json_object_array_add(names, json_object_new_string_len((const char *)d, l));
		}
	}
	GENERAL_NAMES_free(sans);
}

enum ap_err
ap_ops_panel_tls(struct helper_ctx *ctx)
{
	struct ap_listen cur;
	const char *name = NULL, *rel, *why = NULL;
	char *text, buf[256];
	int dirfd = -1, fd = -1;
	FILE *f = NULL;
	X509 *x = NULL;
	struct tm tm;
	enum ap_err rc;

	if ((rc = open_parent(ctx, "nginx.listen_file", ctx->cfg->nginx_listen_file, &dirfd, &name)) != AP_OK)
		goto out;
	text = read_at(ctx, dirfd, name);
	json_object_object_add(ctx->result, "tls", json_object_new_boolean(false));
	if (text == NULL || !ap_listen_parse(text, &cur) || !cur.tls || cur.certificate[0] == '\0')
		goto out;
	json_object_object_add(ctx->result, "tls", json_object_new_boolean(true));
	json_object_object_add(ctx->result, "certificate", json_object_new_string(cur.certificate));
	if ((rel = beneath(ctx, cur.certificate)) == NULL ||
	    ap_sandbox_open(ctx->sandbox_fd, rel, O_RDONLY, 0, &fd, &why) != AP_OK ||
	    (f = fdopen(fd, "r")) == NULL) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "cannot read the certificate %s", cur.certificate);
		rc = AP_ERR_IO;
		goto out;
	}
	fd = -1;
	if ((x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s is not a PEM certificate", cur.certificate);
		rc = AP_ERR_IO;
		goto out;
	}
	{
		struct json_object *names = json_object_new_array();

		add_names(names, x);
		json_object_object_add(ctx->result, "names", names);
	}
	X509_NAME_oneline(X509_get_issuer_name(x), buf, sizeof(buf));
	json_object_object_add(ctx->result, "issuer", json_object_new_string(buf));
	json_object_object_add(ctx->result, "not_after", json_object_new_int64((int64_t)timegm(&tm)));
out:
	X509_free(x);
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
