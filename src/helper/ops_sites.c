/*
 * ops_sites.c — websites on the system: nginx vhosts, PHP-FPM pools,
 * document roots, per-site system users (docs/sites.md).
 *
 *   site.apply    (job) render the site's vhost (and its PHP pool), write it
 *                 beside the old one, test (php-fpm -t, nginx -t), swap,
 *                 reload; any failure puts the old files back and answers
 *                 with the tool's own message
 *   site.disable  (job) the same with the "disabled" vhost (503), no pool
 *   site.remove   (job) vhost, pool and logs gone; with delete_files the
 *                 site's home and its system user too
 *   site.inspect  the vhost (and pool) on disk against what the panel would
 *                 write: drift and its diff
 *   php.versions  the PHP-FPM versions installed (/usr/sbin/php-fpmX.Y)
 *   cert.upload   (job) a certificate, its key and chain checked (certcheck.h),
 *                 written with the vhost's TLS server in one transaction
 *   cert.issue    (job) certbot certonly --webroot for the site's names, then
 *                 the vhost's TLS server (docs/certificates.md)
 *   cert.renew    (job) certbot renew --force-renewal; its deploy hook reloads nginx
 *   cert.remove   (job) the TLS server gone, the files and certbot's lineage too
 *   cert.inspect  the certificate a site's vhost uses, as read on disk (never the key)
 *
 * A site has TLS when a certificate is on disk for its domain: an upload in
 * <certs.dir>/<domain>/ (fullchain.pem, privkey.pem 0640 root:nginx group)
 * or else certbot's lineage <certbot_dir>/live/<domain>/. Every render looks,
 * so an edit of the site keeps its HTTPS and site.inspect sees no drift.
 *
 * Every config text comes from a template (templates/nginx/NAME.tpl, the
 * project's template engine); every value in it passed the argument table's
 * strict checks (valid.h), which allow none of the characters the engine
 * escapes or nginx would give meaning to. The system user of a site is
 * derived here from its domain, never taken from the request, so no request
 * can make a site run as an existing account.
 *
 * The panel's worker probes the site afterwards (the helper has no network):
 * the result says which port and revision to look for.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/certcheck.h"
#include "aapanel/log.h"
#include "aapanel/sitecheck.h"
#include "aapanel/textdiff.h"
#include "aapanel/tpl.h"
#include "jobs.h"
#include "ops.h"
#include "sandbox.h"
#include "sitefs.h"
#include "spawn.h"
#include "valid.h"

#define FILE_MAX (256 * 1024)
#define LOCK_NAME ".aapanel-sites.lock"
#define LOCK_WAIT_MS 30000
#define SOCKET_WAIT_MS 5000
#define USERADD "/usr/sbin/useradd"
#define USERDEL "/usr/sbin/userdel"
#define NOLOGIN "/usr/sbin/nologin"
#define PHP_FPM_DIR "/usr/sbin"
#define MAX_PHP 16

static const char *const kinds[] = { "static", "php", "proxy", NULL };
enum { KIND_STATIC, KIND_PHP, KIND_PROXY };

/* ---- argument tables -------------------------------------------------- */

enum {
	SA_DOMAIN, SA_ALIASES, SA_KIND, SA_ROOT, SA_INDEX, SA_PHP, SA_UPSTREAM, SA_HTTPS,
	SA_E404, SA_E50X, SA_REVISION, SA_ENABLED, SA__MAX
};
/* The site's arguments: site.apply's, and the first ones of the certificate operations. */
#define SITE_ARG_ROWS \
	[SA_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED, \
	.check = ap_valid_domain }, \
	[SA_ALIASES] = { .name = "aliases", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 2048, .check = ap_check_domain_list }, \
	[SA_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, \
	.choices = kinds }, \
	[SA_ROOT] = { .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 255, .check = ap_check_site_path }, \
	[SA_INDEX] = { .name = "index", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 600, .check = ap_check_index_files }, \
	[SA_PHP] = { .name = "php", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 5, .check = ap_check_php_version }, \
	[SA_UPSTREAM] = { .name = "upstream", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 512, .check = ap_check_upstream }, \
	[SA_HTTPS] = { .name = "https_redirect", .type = AP_FIELD_BOOL }, \
	[SA_E404] = { .name = "error_404", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 255, .check = ap_check_uri_path }, \
	[SA_E50X] = { .name = "error_50x", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, \
	.max = 255, .check = ap_check_uri_path }, \
	[SA_REVISION] = { .name = "revision", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, \
	.min = 1, .max = 2147483647 }, \
	[SA_ENABLED] = { .name = "enabled", .type = AP_FIELD_BOOL } 
const struct ap_field ap_ops_site_apply_args[SA__MAX + 1] = {
	SITE_ARG_ROWS,
	[SA__MAX] = AP_FIELD_END,
};

/* cert.upload: the site, then the PEM texts (the key never leaves this process but to its file). */
enum { CU_CERT = SA__MAX, CU_KEY, CU_CHAIN, CU__MAX };
const struct ap_field ap_ops_cert_upload_args[CU__MAX + 1] = {
	SITE_ARG_ROWS,
	[CU_CERT] = { .name = "cert", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = AP_CERT_PEM_MAX, .check = ap_check_pem_text },
	[CU_KEY] = { .name = "key", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED, .min = 1,
	    .max = AP_CERT_PEM_MAX, .check = ap_check_pem_text },
	[CU_CHAIN] = { .name = "chain", .type = AP_FIELD_TEXT, .max = AP_CERT_PEM_MAX,
	    .check = ap_check_pem_text },
	[CU__MAX] = AP_FIELD_END,
};

enum { SR_DOMAIN, SR_DELETE_FILES, SR__MAX };
const struct ap_field ap_ops_site_remove_args[SR__MAX + 1] = {
	[SR_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .check = ap_valid_domain },
	[SR_DELETE_FILES] = { .name = "delete_files", .type = AP_FIELD_BOOL },
	[SR__MAX] = AP_FIELD_END,
};

/* ---- what a site is, resolved --------------------------------------- */

struct site {
	const struct ap_config *cfg;
	struct ap_arena *a;
	int rootfd;
	const char *domain, *aliases, *root_rel, *index, *php, *upstream, *e404, *e50x;
	int kind;
	bool https, enabled;
	long long revision;
	/* derived */
	char name[33];   /* pool and system user: s_<domain part>_<hash> */
	char user[64], group[64];
	uid_t uid;
	gid_t gid, nginx_gid;
	const char *home_rel, *docroot_rel, *vhost_dir_rel, *vhost_file, *log_dir_rel;
	const char *sock_rel;
	/* TLS: what tls_detect found on disk (no_tls: render without, cert.remove) */
	bool no_tls;
	const char *tls_source; /* NULL none, "upload", "acme" */
	const char *tls_cert, *tls_key; /* absolute paths, as nginx reads them */
};

/* certbot's --config-dir: certs.certbot_dir, or certbot's own. */
static const char *
certbot_dir(const struct ap_config *c)
{
	return c->certs_certbot_dir[0] ? c->certs_certbot_dir : "/etc/letsencrypt";
}

/* The sandbox root and rel joined: the path as nginx, php-fpm and useradd see it. */
static const char *
abs_of(const struct site *s, const char *rel)
{
	const char *r = s->cfg->helper_sandbox_root;

	return strcmp(r, "/") == 0 ? ap_arena_printf(s->a, "/%s", rel)
				   : ap_arena_printf(s->a, "%s/%s", r, rel);
}

/* "{version}" in a configured path replaced by v. Arena. */
static const char *
with_version(struct ap_arena *a, const char *tmpl, const char *v)
{
	const char *p = strstr(tmpl, "{version}");

	if (p == NULL)
		return tmpl;
	return ap_arena_printf(a, "%.*s%s%s", (int)(p - tmpl), tmpl, v, p + strlen("{version}"));
}

/* s_<up to 21 characters of the domain, . and - as _>_<8 hex of FNV-1a>: at most 32. */
static void
derive_name(const char *domain, char out[33])
{
	uint32_t h = 2166136261u;
	size_t o = 2;

	for (const char *p = domain; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 16777619u;
	}
	out[0] = 's';
	out[1] = '_';
	for (const char *p = domain; *p && o < 23; p++)
		out[o++] = (*p == '.' || *p == '-') ? '_' : *p;
	snprintf(out + o, 33 - o, "_%08x", h);
}

static void
site_paths(struct site *s)
{
	const struct ap_config *c = s->cfg;

	derive_name(s->domain, s->name);
	s->home_rel = ap_arena_printf(s->a, "%s/%s", c->sites_web_root, s->domain);
	s->docroot_rel = ap_arena_printf(s->a, "%s/%s", s->home_rel,
	    s->root_rel != NULL && s->root_rel[0] ? s->root_rel : "public");
	s->vhost_dir_rel = c->sites_vhost_dir;
	s->vhost_file = ap_arena_printf(s->a, "%s.conf", s->domain);
	s->log_dir_rel = c->sites_log_dir;
	s->sock_rel = ap_arena_printf(s->a, "%s/%s.sock", c->sites_php_socket_dir, s->name);
}

/* The uploads' directory of the site, beneath the sandbox: <certs.dir>/<domain>. Arena. */
static const char *
cert_dir_rel(const struct site *s)
{
	return ap_arena_printf(s->a, "%s/%s", s->cfg->certs_dir, s->domain);
}

/* Which certificate the site's TLS server uses: an upload, else certbot's lineage, else none. */
static void
tls_detect(struct site *s)
{
	const char *why = NULL, *live;
	struct stat st;
	int fd = -1;

	s->tls_source = s->tls_cert = s->tls_key = NULL;
	if (s->no_tls)
		return;
	if (ap_fs_dir(s->rootfd, cert_dir_rel(s), false, 0, &fd, &why) == AP_OK) {
		bool both = fstatat(fd, "fullchain.pem", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && fstatat(fd, "privkey.pem", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode);

		close(fd);
		if (both) {
			s->tls_source = "upload";
			s->tls_cert = abs_of(s, ap_arena_printf(s->a, "%s/fullchain.pem", cert_dir_rel(s)));
			s->tls_key = abs_of(s, ap_arena_printf(s->a, "%s/privkey.pem", cert_dir_rel(s)));
			return;
		}
	}
	live = ap_arena_printf(s->a, "%s/live/%s", certbot_dir(s->cfg), s->domain);
	if (stat(ap_arena_printf(s->a, "%s/fullchain.pem", live), &st) == 0 &&
	    stat(ap_arena_printf(s->a, "%s/privkey.pem", live), &st) == 0) {
		s->tls_source = "acme";
		s->tls_cert = ap_arena_printf(s->a, "%s/fullchain.pem", live);
		s->tls_key = ap_arena_printf(s->a, "%s/privkey.pem", live);
	}
}

static void
site_from_args(struct site *s, const struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;

	memset(s, 0, sizeof(*s));
	s->cfg = ctx->cfg;
	s->a = ctx->arena;
	s->rootfd = ctx->sandbox_fd;
	s->domain = a[SA_DOMAIN].s;
	s->aliases = a[SA_ALIASES].present ? a[SA_ALIASES].s : "";
	s->kind = (int)a[SA_KIND].i;
	s->root_rel = a[SA_ROOT].present ? a[SA_ROOT].s : "";
	s->index = a[SA_INDEX].present && a[SA_INDEX].len > 0 ? a[SA_INDEX].s
	    : s->kind == KIND_PHP ? "index.php index.html index.htm" : "index.html index.htm";
	s->php = a[SA_PHP].present ? a[SA_PHP].s : "";
	s->upstream = a[SA_UPSTREAM].present ? a[SA_UPSTREAM].s : "";
	s->e404 = a[SA_E404].present ? a[SA_E404].s : "";
	s->e50x = a[SA_E50X].present ? a[SA_E50X].s : "";
	s->https = a[SA_HTTPS].b;
	s->revision = a[SA_REVISION].i;
	s->enabled = a[SA_ENABLED].b;
	site_paths(s);
}

/* ---- templates ------------------------------------------------------ */

static struct ap_tpl_set *T_set;

/* templates/nginx/<name>.tpl, compiled once per process. */
static enum ap_err
templates(const struct ap_config *cfg, struct ap_problem *pb)
{
	static const char *const names[] = { "vhost", "vhost-body", "disabled", "php-pool", "index" };
	char *texts[AP_NELEM(names)] = { NULL };
	char err[256];
	enum ap_err rc = AP_ERR_IO;

	if (T_set != NULL)
		return AP_OK;
	for (size_t i = 0; i < AP_NELEM(names); i++) {
		char path[PATH_MAX];
		struct ap_buf b = { 0 };
		int dfd;

		snprintf(path, sizeof(path), "%s/nginx", cfg->templates_dir);
		dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s.tpl", names[i]);
		if (dfd < 0 || ap_fs_read(dfd, path, FILE_MAX, &b) != AP_OK) {
			if (dfd >= 0)
				close(dfd);
			ap_buf_free(&b);
			ap_problem_set(pb, AP_PB_FAILED, NULL, "cannot read the template %s/nginx/%s.tpl",
			    cfg->templates_dir, names[i]);
			goto out;
		}
		close(dfd);
		texts[i] = ap_xstrdup(ap_buf_cstr(&b));
		ap_buf_free(&b);
	}
	if (ap_tpl_compile_strings(names, (const char *const *)texts, AP_NELEM(names), &T_set, err,
		sizeof(err)) != AP_OK) {
		ap_problem_set(pb, AP_PB_FAILED, NULL, "templates/nginx: %s", err);
		goto out;
	}
	rc = AP_OK;
out:
	for (size_t i = 0; i < AP_NELEM(names); i++)
		free(texts[i]);
	return rc;
}

static void
put(struct json_object *m, const char *k, const char *v)
{
	json_object_object_add(m, k, json_object_new_string(v != NULL ? v : ""));
}

static void
put_bool(struct json_object *m, const char *k, bool v)
{
	json_object_object_add(m, k, json_object_new_boolean(v));
}

/* The model every template of a site is rendered with. Owned. */
static struct json_object *
site_model(const struct site *s)
{
	const struct ap_config *c = s->cfg;
	struct json_object *m = json_object_new_object(), *listen = json_object_new_array();
	const char *addr = c->sites_listen_address;

	if (addr[0] == '\0') {
		json_object_array_add(listen, json_object_new_string(
		    ap_arena_printf(s->a, "%d", c->sites_http_port)));
		json_object_array_add(listen, json_object_new_string(
		    ap_arena_printf(s->a, "[::]:%d", c->sites_http_port)));
	} else {
		json_object_array_add(listen, json_object_new_string(ap_arena_printf(s->a,
		    strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, c->sites_http_port)));
	}
	json_object_object_add(m, "listen", listen);
	put(m, "acme_root", abs_of(s, c->certs_acme_webroot));
	put(m, "https_port_suffix", c->certs_https_port == 443 ? ""
	    : ap_arena_printf(s->a, ":%d", c->certs_https_port));
	if (s->tls_source != NULL) {
		struct json_object *tl = json_object_new_array();

		if (addr[0] == '\0') {
			json_object_array_add(tl, json_object_new_string(
			    ap_arena_printf(s->a, "%d", c->certs_https_port)));
			json_object_array_add(tl, json_object_new_string(
			    ap_arena_printf(s->a, "[::]:%d", c->certs_https_port)));
		} else {
			json_object_array_add(tl, json_object_new_string(ap_arena_printf(s->a,
			    strchr(addr, ':') ? "[%s]:%d" : "%s:%d", addr, c->certs_https_port)));
		}
		json_object_object_add(m, "tls_listen", tl);
		put_bool(m, "tls", true);
		put(m, "tls_source", strcmp(s->tls_source, "acme") == 0 ? "issued by ACME (certbot)"
								      : "uploaded");
		put(m, "tls_cert", s->tls_cert);
		put(m, "tls_key", s->tls_key);
	}
	put(m, "domain", s->domain);
	put(m, "names", s->aliases[0] ? ap_arena_printf(s->a, "%s %s", s->domain, s->aliases)
				       : s->domain);
	put(m, "kind", kinds[s->kind]);
	json_object_object_add(m, "revision", json_object_new_int64(s->revision));
	put(m, "root", abs_of(s, s->docroot_rel));
	put(m, "home", abs_of(s, s->home_rel));
	put(m, "index", s->index);
	put(m, "access_log", abs_of(s, ap_arena_printf(s->a, "%s/%s.access.log", s->log_dir_rel,
	    s->domain)));
	put(m, "error_log", abs_of(s, ap_arena_printf(s->a, "%s/%s.error.log", s->log_dir_rel,
	    s->domain)));
	put_bool(m, "static", s->kind == KIND_STATIC);
	put_bool(m, "php", s->kind == KIND_PHP);
	put_bool(m, "proxy", s->kind == KIND_PROXY);
	put_bool(m, "https_redirect", s->https);
	put_bool(m, "intercept", s->e404[0] || s->e50x[0]);
	if (s->e404[0])
		put(m, "error_404", s->e404);
	if (s->e50x[0])
		put(m, "error_50x", s->e50x);
	put(m, "php_version", s->php);
	put(m, "php_socket", abs_of(s, s->sock_rel));
	put(m, "pool", s->name);
	put(m, "user", s->user);
	put(m, "group", s->group);
	put(m, "listen_group", c->sites_system_users ? c->sites_nginx_group : s->group);
	put(m, "upstream", s->upstream);
	if (strncmp(s->upstream, "unix:", 5) == 0)
		put(m, "proxy_pass", ap_arena_printf(s->a, "http://unix:%s:", s->upstream + 5));
	else
		put(m, "proxy_pass", s->upstream);
	return m;
}

static enum ap_err
render(const struct site *s, const char *name, struct ap_buf *out, struct ap_problem *pb)
{
	struct json_object *m;
	enum ap_err rc;

	if ((rc = templates(s->cfg, pb)) != AP_OK)
		return rc;
	tls_detect((struct site *)s);
	m = site_model(s);
	rc = ap_tpl_render(T_set, name, m, NULL, NULL, out);
	json_object_put(m);
	if (rc != AP_OK)
		ap_problem_set(pb, AP_PB_FAILED, NULL, "rendering templates/nginx/%s.tpl failed", name);
	return rc;
}

/* ---- programs ------------------------------------------------------- */

/* The tool's own message: stderr (else stdout), trimmed, at most 1 KiB. Arena. */
static const char *
tool_message(struct ap_arena *a, const struct ap_spawn_result *r)
{
	const struct ap_buf *b = r->err.len > 0 ? &r->err : &r->out;
	size_t n = b->len;

	while (n > 0 && (b->data[n - 1] == '\n' || b->data[n - 1] == ' '))
		n--;
	if (n > 1024)
		n = 1024;
	return n > 0 ? ap_arena_printf(a, "%.*s", (int)n, b->data) : "";
}

/* Run argv; on a non-zero exit fill pb (failed, the tool's message with what). */
static enum ap_err
run(struct helper_ctx *ctx, const char *const *argv, const char *what, int timeout_ms)
{
	struct ap_spawn sp = { .path = argv[0], .argv = argv, .timeout_ms = timeout_ms,
		.max_output = 16 * 1024 };
	struct ap_spawn_result res;
	char err[256];
	enum ap_err rc = ap_spawn_run(&sp, &res, err, sizeof(err));

	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s: %s", what, err);
	} else if (!res.exited || res.exit_code != 0) {
		const char *msg = tool_message(ctx->arena, &res);

		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", msg[0] ? msg
		    : ap_arena_printf(ctx->arena, "%s failed (%s %d)", what,
			  res.exited ? "exit" : "signal", res.exited ? res.exit_code : res.signal));
		rc = AP_ERR_IO;
	} else {
		char line[160];

		snprintf(line, sizeof(line), "%s: ok\n", what);
		ap_job_output(ctx->job, line, strlen(line));
	}
	ap_spawn_result_free(&res);
	return rc;
}

static enum ap_err
nginx_cmd(struct helper_ctx *ctx, const char *what, const char *a1, const char *a2)
{
	const struct ap_config *c = ctx->cfg;
	const char *argv[10];
	int n = 0;

	argv[n++] = c->sites_nginx;
	if (c->sites_nginx_prefix[0]) {
		argv[n++] = "-p";
		argv[n++] = c->sites_nginx_prefix;
	}
	argv[n++] = "-c";
	argv[n++] = c->sites_nginx_conf;
	argv[n++] = a1;
	if (a2 != NULL)
		argv[n++] = a2;
	argv[n] = NULL;
	return run(ctx, argv, what, 20000);
}

static enum ap_err
nginx_test(struct helper_ctx *ctx)
{
	return nginx_cmd(ctx, "nginx -t", "-t", "-q");
}

static enum ap_err
nginx_reload(struct helper_ctx *ctx)
{
	return nginx_cmd(ctx, "nginx -s reload", "-s", "reload");
}

static const char *
fpm_binary(struct ap_arena *a, const char *v)
{
	return ap_arena_printf(a, "%s/php-fpm%s", PHP_FPM_DIR, v);
}

static enum ap_err
php_test(struct helper_ctx *ctx, const char *v, bool as_root)
{
	const char *bin = fpm_binary(ctx->arena, v);
	const char *conf = with_version(ctx->arena, ctx->cfg->sites_php_fpm_conf, v);
	const char *argv[] = { bin, "-t", "-y", conf, as_root ? "-R" : NULL, NULL };

	return run(ctx, argv, ap_arena_printf(ctx->arena, "php-fpm%s -t", v), 20000);
}

/*
 * SIGUSR2 to the php-fpm master of version v (a graceful reload), found
 * through its pid file and checked to be that program.
 */
static enum ap_err
php_reload(struct helper_ctx *ctx, const char *v)
{
	const char *pidfile = with_version(ctx->arena, ctx->cfg->sites_php_fpm_pid, v);
	const char *bin = fpm_binary(ctx->arena, v);
	char buf[32], exe[PATH_MAX], proc[64];
	long long pid = 0;
	const char *e;
	ssize_t n;
	int fd = open(pidfile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (n <= 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "php",
		    "php-fpm %s is not running (no pid file %s)", v, pidfile);
		return AP_ERR_IO;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	snprintf(proc, sizeof(proc), "/proc/%s/exe", buf);
	if (!ap_strtonum(buf, 2, 4194304, &pid, &e) || (n = readlink(proc, exe, sizeof(exe) - 1)) <= 0 ||
	    (exe[n] = '\0', strcmp(exe, bin) != 0)) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "php",
		    "php-fpm %s is not running (the pid in %s is not %s)", v, pidfile, bin);
		return AP_ERR_IO;
	}
	if (kill((pid_t)pid, SIGUSR2) != 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "php", "php-fpm %s: cannot signal pid %lld: %s",
		    v, pid, strerror(errno));
		return AP_ERR_IO;
	}
	ap_job_output(ctx->job, "php-fpm reload: ok\n", 19);
	return AP_OK;
}

/* The installed PHP-FPM versions, sorted ("8.2"); returns how many. Arena strings. */
static size_t
php_versions(struct ap_arena *a, const char *out[MAX_PHP])
{
	struct dirent *e;
	size_t n = 0;
	DIR *d = opendir(PHP_FPM_DIR);

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < MAX_PHP) {
		const char *v = e->d_name + 7;

		if (strncmp(e->d_name, "php-fpm", 7) != 0 || ap_check_php_version(v, strlen(v)) != NULL)
			continue;
		if (faccessat(dirfd(d), e->d_name, X_OK, 0) != 0)
			continue;
		out[n++] = ap_arena_strdup(a, v);
	}
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(out[j - 1], out[j]) > 0; j--) {
			const char *t = out[j];

			out[j] = out[j - 1];
			out[j - 1] = t;
		}
	return n;
}

static bool
php_installed(struct ap_arena *a, const char *v)
{
	const char *vs[MAX_PHP];
	size_t n = php_versions(a, vs);

	for (size_t i = 0; i < n; i++)
		if (strcmp(vs[i], v) == 0)
			return true;
	return false;
}

/* ---- the site's user ------------------------------------------------ */

static const char *
gecos_of(struct ap_arena *a, const char *domain)
{
	return ap_arena_printf(a, "aapanel site %s", domain);
}

/*
 * Who the site runs as: with sites.system_users its own system user
 * (created now when missing: *created), else the helper's own user.
 */
static enum ap_err
site_user(struct helper_ctx *ctx, struct site *s, bool create, bool *created)
{
	const struct ap_config *c = ctx->cfg;
	struct passwd *pw;
	struct group *gr;

	*created = false;
	if (!c->sites_system_users) {
		pw = getpwuid(geteuid());
		gr = getgrgid(getegid());
		snprintf(s->user, sizeof(s->user), "%s", pw ? pw->pw_name : "nobody");
		snprintf(s->group, sizeof(s->group), "%s", gr ? gr->gr_name : s->user);
		s->uid = geteuid();
		s->gid = s->nginx_gid = getegid();
		return AP_OK;
	}
	if ((gr = getgrnam(c->sites_nginx_group)) == NULL) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "sites.nginx_group: no group named %s",
		    c->sites_nginx_group);
		return AP_ERR_IO;
	}
	s->nginx_gid = gr->gr_gid;
	pw = getpwnam(s->name);
	if (pw == NULL && create) {
		const char *argv[] = { USERADD, "--system", "--user-group", "--no-create-home",
			"--home-dir", abs_of(s, s->home_rel), "--shell", NOLOGIN, "--comment",
			gecos_of(s->a, s->domain), s->name, NULL };

		if (run(ctx, argv, "useradd", 20000) != AP_OK)
			return AP_ERR_IO;
		*created = true;
		pw = getpwnam(s->name);
	}
	if (pw == NULL) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "the system user %s does not exist", s->name);
		return AP_ERR_IO;
	}
	/* Only a user made for this very site: never an account that was there before. */
	if (strcmp(pw->pw_gecos, gecos_of(s->a, s->domain)) != 0 || pw->pw_uid == 0) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, "domain",
		    "the system user %s exists and was not made for this site", s->name);
		return AP_ERR_IO;
	}
	snprintf(s->user, sizeof(s->user), "%s", pw->pw_name);
	gr = getgrgid(pw->pw_gid);
	snprintf(s->group, sizeof(s->group), "%s", gr ? gr->gr_name : pw->pw_name);
	s->uid = pw->pw_uid;
	s->gid = pw->pw_gid;
	return AP_OK;
}

static void
user_remove(struct helper_ctx *ctx, struct site *s)
{
	const char *argv[] = { USERDEL, s->name, NULL };
	struct passwd *pw = getpwnam(s->name);

	if (!ctx->cfg->sites_system_users || pw == NULL ||
	    strcmp(pw->pw_gecos, gecos_of(s->a, s->domain)) != 0)
		return;
	if (run(ctx, argv, "userdel", 20000) != AP_OK) {
		AP_WARN("userdel %s: %s", s->name, ctx->pb->reason);
		ap_problem_clear(ctx->pb);
	}
}

/* ---- the site's directories ----------------------------------------- */

static enum ap_err
fs_fail(struct helper_ctx *ctx, const char *field, const char *path, const char *why)
{
	ap_problem_set(ctx->pb, AP_PB_FAILED, field, "%s: %s", path,
	    why != NULL ? why : strerror(errno));
	return AP_ERR_IO;
}

/*
 * A directory of the site (sub: relative to the web root, "<domain>/..."),
 * made when missing (*made), owned and moded as given. Beneath the web root
 * no symlink is followed: the site's user owns its home and could otherwise
 * point public/ anywhere and have the helper chown it.
 */
static enum ap_err
site_dir(struct helper_ctx *ctx, struct site *s, const char *sub, uid_t uid, gid_t gid,
    mode_t mode, bool *made)
{
	const char *why = NULL, *shown = abs_of(s, ap_arena_printf(s->a, "%s/%s",
	    ctx->cfg->sites_web_root, sub));
	int wfd = -1, fd = -1;
	enum ap_err rc = ap_fs_dir(s->rootfd, ctx->cfg->sites_web_root, true, 0755, &wfd, &why);

	*made = false;
	if (rc != AP_OK)
		return fs_fail(ctx, "root", abs_of(s, ctx->cfg->sites_web_root), why);
	rc = ap_fs_dir_nofollow(wfd, sub, false, 0, &fd, &why);
	if (rc == AP_ERR_NOTFOUND) {
		rc = ap_fs_dir_nofollow(wfd, sub, true, 0755, &fd, &why);
		*made = rc == AP_OK;
	}
	close(wfd);
	if (rc != AP_OK)
		return fs_fail(ctx, "root", shown, why);
	if (ctx->cfg->sites_system_users && fchown(fd, uid, gid) != 0) {
		close(fd);
		return fs_fail(ctx, "root", shown, NULL);
	}
	if (fchmod(fd, mode) != 0) {
		close(fd);
		return fs_fail(ctx, "root", shown, NULL);
	}
	close(fd);
	return AP_OK;
}

/* home (user:nginx 0750), tmp (0700), log (0750), the document root with a first index page. */
static enum ap_err
site_dirs(struct helper_ctx *ctx, struct site *s, bool *made_home)
{
	bool sys = ctx->cfg->sites_system_users, made;
	mode_t dmode = sys ? 0750 : 0755;
	const char *d = s->domain, *doc = ap_arena_printf(s->a, "%s/%s", d,
	    s->root_rel != NULL && s->root_rel[0] ? s->root_rel : "public");
	struct ap_buf page = { 0 };
	const char *why = NULL;
	enum ap_err rc;
	int wfd = -1, fd = -1;

	if ((rc = site_dir(ctx, s, d, s->uid, s->nginx_gid, dmode, made_home)) != AP_OK ||
	    (rc = site_dir(ctx, s, ap_arena_printf(s->a, "%s/tmp", d), s->uid, s->gid,
		 sys ? 0700 : 0755, &made)) != AP_OK ||
	    (rc = site_dir(ctx, s, ap_arena_printf(s->a, "%s/log", d), s->uid, s->nginx_gid, dmode,
		 &made)) != AP_OK ||
	    (rc = site_dir(ctx, s, doc, s->uid, s->nginx_gid, dmode, &made)) != AP_OK)
		return rc;
	if (!made)
		return AP_OK;
	/* A new document root gets the default page, in both languages. */
	if ((rc = render(s, "index", &page, ctx->pb)) != AP_OK)
		goto out;
	rc = ap_fs_dir(s->rootfd, ctx->cfg->sites_web_root, false, 0, &wfd, &why);
	if (rc == AP_OK)
		rc = ap_fs_dir_nofollow(wfd, doc, false, 0, &fd, &why);
	if (rc == AP_OK)
		rc = ap_fs_write(fd, "index.html", page.data, page.len, sys ? 0640 : 0644);
	if (rc == AP_OK && sys && fchownat(fd, "index.html", s->uid, s->nginx_gid, AT_SYMLINK_NOFOLLOW) != 0)
		rc = AP_ERR_IO;
	if (rc != AP_OK)
		fs_fail(ctx, "root", abs_of(s, s->docroot_rel), why);
out:
	if (wfd >= 0)
		close(wfd);
	if (fd >= 0)
		close(fd);
	ap_buf_free(&page);
	return rc;
}

/* ---- transactions over several files -------------------------------- */

#define TX_MAX (MAX_PHP + 4)

struct tx {
	int dirfd[TX_MAX];
	const char *name[TX_MAX];
	const char *php[TX_MAX]; /* the PHP version whose pool this is, or NULL */
	size_t n;
};

static enum ap_err
tx_add_mode(struct helper_ctx *ctx, struct tx *t, int dirfd, const char *name, const char *data,
    size_t len, const char *php, const char *shown, mode_t mode)
{
	if (t->n == TX_MAX || ap_fs_swap_begin(dirfd, name, data, len, mode) != AP_OK) {
		close(dirfd);
		return fs_fail(ctx, NULL, shown, NULL);
	}
	t->dirfd[t->n] = dirfd;
	t->name[t->n] = name;
	t->php[t->n] = php;
	t->n++;
	return AP_OK;
}

static enum ap_err
tx_add(struct helper_ctx *ctx, struct tx *t, int dirfd, const char *name, const char *data,
    size_t len, const char *php, const char *shown)
{
	return tx_add_mode(ctx, t, dirfd, name, data, len, php, shown, 0644);
}

static void
tx_end(struct tx *t, bool commit)
{
	for (size_t i = t->n; i-- > 0;) {
		if (commit)
			ap_fs_swap_commit(t->dirfd[i], t->name[i]);
		else
			ap_fs_swap_rollback(t->dirfd[i], t->name[i]);
		close(t->dirfd[i]);
	}
	t->n = 0;
}

static const char *
pool_dir_rel(const struct site *s, const char *v)
{
	return with_version(s->a, s->cfg->sites_php_pool_dir, v);
}

/*
 * Take the lock over every site's files and roll back whatever an
 * interrupted operation left (a killed helper or job): the vhost directory
 * and every installed version's pool directory. *vhost_fd: that directory.
 */
static int
lock_and_recover(struct helper_ctx *ctx, struct site *s, int *vhost_fd)
{
	const char *vs[MAX_PHP], *why = NULL;
	size_t nv = php_versions(s->a, vs);
	int lock, fd;

	*vhost_fd = -1;
	if (ap_fs_dir(s->rootfd, s->vhost_dir_rel, true, 0755, vhost_fd, &why) != AP_OK) {
		fs_fail(ctx, NULL, abs_of(s, s->vhost_dir_rel), why);
		return -1;
	}
	if ((lock = ap_fs_lock(*vhost_fd, LOCK_NAME, LOCK_WAIT_MS)) < 0) {
		ap_problem_set(ctx->pb, AP_PB_BUSY, NULL,
		    "another site operation is still running; try again in a moment");
		close(*vhost_fd);
		*vhost_fd = -1;
		return -1;
	}
	if (ap_fs_recover(*vhost_fd) > 0)
		AP_WARN("rolled back an interrupted change in %s", abs_of(s, s->vhost_dir_rel));
	for (size_t i = 0; i < nv; i++) {
		if (ap_fs_dir(s->rootfd, pool_dir_rel(s, vs[i]), false, 0, &fd, &why) != AP_OK)
			continue;
		if (ap_fs_recover(fd) > 0)
			AP_WARN("rolled back an interrupted change in %s", abs_of(s, pool_dir_rel(s, vs[i])));
		close(fd);
	}
	return lock;
}

/*
 * Pools of this site in every installed version's pool directory: keep
 * (rewrite) the one of version keep (NULL = none), remove the others.
 * Versions whose php-fpm must reload are marked in reload[].
 */
static enum ap_err
pools(struct helper_ctx *ctx, struct site *s, struct tx *t, const char *keep, bool *reload,
    const char **vs, size_t nv)
{
	const char *file = ap_arena_printf(s->a, "%s.conf", s->name), *why = NULL;
	struct stat st;
	enum ap_err rc;

	for (size_t i = 0; i < nv; i++) {
		bool mine = keep != NULL && strcmp(keep, vs[i]) == 0;
		const char *dir = pool_dir_rel(s, vs[i]);
		int fd = -1;

		reload[i] = false;
		rc = ap_fs_dir(s->rootfd, dir, mine, 0755, &fd, &why);
		if (rc == AP_ERR_NOTFOUND && !mine)
			continue;
		if (rc != AP_OK)
			return fs_fail(ctx, "php", abs_of(s, dir), why);
		if (mine) {
			struct ap_buf b = { 0 };

			if ((rc = render(s, "php-pool", &b, ctx->pb)) == AP_OK)
				rc = tx_add(ctx, t, fd, file, b.data, b.len, vs[i],
				    abs_of(s, ap_arena_printf(s->a, "%s/%s", dir, file)));
			else
				close(fd);
			ap_buf_free(&b);
			if (rc != AP_OK)
				return rc;
			reload[i] = true;
		} else if (fstatat(fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if ((rc = tx_add(ctx, t, fd, file, NULL, 0, vs[i],
				 abs_of(s, ap_arena_printf(s->a, "%s/%s", dir, file)))) != AP_OK)
				return rc;
			reload[i] = true;
		} else {
			close(fd);
		}
	}
	return AP_OK;
}

/* Wait until the pool's socket exists (present) or is gone; false after SOCKET_WAIT_MS. */
static bool
wait_socket(const struct site *s, bool present)
{
	uint64_t deadline = ap_now_ms() + SOCKET_WAIT_MS;
	const char *path = abs_of(s, s->sock_rel);
	struct stat st;

	for (;;) {
		bool there = stat(path, &st) == 0 && S_ISSOCK(st.st_mode);

		if (there == present)
			return true;
		if (ap_now_ms() >= deadline)
			return false;
		usleep(10000);
	}
}

/*
 * The whole change: pools then vhost written beside the old ones and
 * swapped, both tested, php-fpm and nginx reloaded; any failure rolls every
 * file back (and reloads what was reloaded already). vhost: the text, or
 * NULL to remove it. keep_php: the version whose pool the site keeps.
 */
static enum ap_err
change_tx(struct helper_ctx *ctx, struct site *s, int vhost_fd, const struct ap_buf *vhost,
    const char *keep_php, struct tx *pre)
{
	const char *vs[MAX_PHP];
	size_t nv = php_versions(s->a, vs);
	bool reload[MAX_PHP] = { false }, reloaded[MAX_PHP] = { false };
	struct tx t = { .n = 0 };
	enum ap_err rc;
	int dfd;

	if (pre != NULL) {
		t = *pre;
		pre->n = 0;
	}

	if ((rc = pools(ctx, s, &t, keep_php, reload, vs, nv)) != AP_OK)
		goto fail;
	ap_job_progress(ctx->job, 40);
	for (size_t i = 0; i < nv; i++)
		if (reload[i] && keep_php != NULL && strcmp(vs[i], keep_php) == 0 &&
		    (rc = php_test(ctx, vs[i], s->uid == 0)) != AP_OK)
			goto fail;
	if ((dfd = dup(vhost_fd)) < 0) {
		rc = fs_fail(ctx, NULL, abs_of(s, s->vhost_dir_rel), NULL);
		goto fail;
	}
	rc = tx_add(ctx, &t, dfd, s->vhost_file, vhost ? vhost->data : NULL, vhost ? vhost->len : 0,
	    NULL, abs_of(s, ap_arena_printf(s->a, "%s/%s", s->vhost_dir_rel, s->vhost_file)));
	if (rc != AP_OK)
		goto fail;
	ap_job_progress(ctx->job, 55);
	if ((rc = nginx_test(ctx)) != AP_OK)
		goto fail;
	ap_job_progress(ctx->job, 70);
	for (size_t i = 0; i < nv; i++) {
		if (!reload[i])
			continue;
		if ((rc = php_reload(ctx, vs[i])) != AP_OK)
			goto fail;
		reloaded[i] = true;
	}
	if (keep_php != NULL && !wait_socket(s, true)) {
		rc = AP_ERR_IO;
		ap_problem_set(ctx->pb, AP_PB_FAILED, "php",
		    "php-fpm %s did not open the pool's socket %s (see its log)", keep_php,
		    abs_of(s, s->sock_rel));
		goto fail;
	}
	ap_job_progress(ctx->job, 85);
	if ((rc = nginx_reload(ctx)) != AP_OK)
		goto fail;
	tx_end(&t, true);
	return AP_OK;
fail:
	tx_end(&t, false);
	/* php-fpm already serves the new pool files: back to the old ones. */
	for (size_t i = 0; i < nv; i++)
		if (reloaded[i]) {
			struct ap_problem keep = *ctx->pb;

			php_reload(ctx, vs[i]);
			*ctx->pb = keep;
		}
	return rc;
}

static enum ap_err
change(struct helper_ctx *ctx, struct site *s, int vhost_fd, const struct ap_buf *vhost,
    const char *keep_php)
{
	return change_tx(ctx, s, vhost_fd, vhost, keep_php, NULL);
}

static void
result_common(struct helper_ctx *ctx, const struct site *s)
{
	struct json_object *r = ctx->result;

	json_object_object_add(r, "domain", json_object_new_string(s->domain));
	json_object_object_add(r, "revision", json_object_new_int64(s->revision));
	json_object_object_add(r, "port", json_object_new_int64(ctx->cfg->sites_http_port));
	json_object_object_add(r, "vhost", json_object_new_string(
	    abs_of(s, ap_arena_printf(s->a, "%s/%s", s->vhost_dir_rel, s->vhost_file))));
	json_object_object_add(r, "home", json_object_new_string(abs_of(s, s->home_rel)));
	json_object_object_add(r, "root", json_object_new_string(abs_of(s, s->docroot_rel)));
	json_object_object_add(r, "user", json_object_new_string(s->user));
	json_object_object_add(r, "uid", json_object_new_int64((int64_t)s->uid));
}

/* ---- site.apply ----------------------------------------------------- */

static enum ap_err
check_spec(struct helper_ctx *ctx, const struct site *s)
{
	if (s->kind == KIND_PHP && s->php[0] == '\0')
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "php", "is required for a PHP site");
	if (s->kind == KIND_PHP && !php_installed(s->a, s->php))
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "php",
		    "PHP-FPM %s is not installed (%s/php-fpm%s)", s->php, PHP_FPM_DIR, s->php);
	if (s->kind == KIND_PROXY && s->upstream[0] == '\0')
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "upstream",
		    "is required for a reverse proxy");
	return AP_OK;
}

enum ap_err
ap_ops_site_apply(struct helper_ctx *ctx)
{
	struct ap_buf vhost = { 0 };
	bool user_made = false, home_made = false;
	struct site s;
	enum ap_err rc;
	int lock = -1, vfd = -1;

	site_from_args(&s, ctx);
	if ((rc = check_spec(ctx, &s)) != AP_OK)
		return rc;
	if ((lock = lock_and_recover(ctx, &s, &vfd)) < 0)
		return AP_ERR_IO;
	ap_job_progress(ctx->job, 10);
	{
		/* nginx opens the site's logs there (as root in production). */
		const char *why = NULL;
		int lfd = -1;

		if (ap_fs_dir(s.rootfd, s.log_dir_rel, true, 0755, &lfd, &why) != AP_OK) {
			rc = fs_fail(ctx, NULL, abs_of(&s, s.log_dir_rel), why);
			goto out;
		}
		close(lfd);
		/* php-fpm binds the pool's socket there: a missing directory would end
		 * the whole master at its reload (php-fpm -t does not bind). */
		if (s.kind == KIND_PHP &&
		    ap_fs_dir(s.rootfd, ctx->cfg->sites_php_socket_dir, true, 0755, &lfd, &why) != AP_OK) {
			rc = fs_fail(ctx, "php", abs_of(&s, ctx->cfg->sites_php_socket_dir), why);
			goto out;
		}
		if (s.kind == KIND_PHP)
			close(lfd);
	}
	if ((rc = site_user(ctx, &s, s.enabled, &user_made)) != AP_OK)
		goto out;
	if (s.enabled && (rc = site_dirs(ctx, &s, &home_made)) != AP_OK)
		goto undo;
	ap_job_progress(ctx->job, 30);
	if ((rc = render(&s, s.enabled ? "vhost" : "disabled", &vhost, ctx->pb)) != AP_OK)
		goto undo;
	rc = change(ctx, &s, vfd, &vhost, s.enabled && s.kind == KIND_PHP ? s.php : NULL);
	if (rc != AP_OK)
		goto undo;
	result_common(ctx, &s);
	json_object_object_add(ctx->result, "enabled", json_object_new_boolean(s.enabled));
	json_object_object_add(ctx->result, "user_created", json_object_new_boolean(user_made));
	if (s.kind == KIND_PHP && s.enabled)
		json_object_object_add(ctx->result, "php_socket",
		    json_object_new_string(abs_of(&s, s.sock_rel)));
	goto out;
undo:
	/* A first apply that failed leaves nothing of the site behind. */
	if (home_made) {
		int wfd = -1;
		const char *why, *slash = strrchr(s.home_rel, '/');

		if (ap_fs_dir(s.rootfd, ctx->cfg->sites_web_root, false, 0, &wfd, &why) == AP_OK) {
			ap_fs_remove_tree(wfd, slash + 1);
			close(wfd);
		}
	}
	if (user_made) {
		struct ap_problem keep = *ctx->pb;

		user_remove(ctx, &s);
		*ctx->pb = keep;
	}
out:
	ap_buf_free(&vhost);
	if (vfd >= 0)
		close(vfd);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* ---- site.remove ---------------------------------------------------- */

static void cert_files_drop(struct helper_ctx *ctx, const struct site *s, bool acme);
static bool has_lineage(const struct site *s);

enum ap_err
ap_ops_site_remove(struct helper_ctx *ctx)
{
	struct site s;
	struct stat st;
	bool made;
	enum ap_err rc;
	int lock, vfd = -1, lfd = -1, wfd = -1;
	const char *why;

	memset(&s, 0, sizeof(s));
	s.cfg = ctx->cfg;
	s.a = ctx->arena;
	s.rootfd = ctx->sandbox_fd;
	s.domain = ctx->args[SR_DOMAIN].s;
	s.aliases = s.root_rel = s.php = s.upstream = s.e404 = s.e50x = "";
	site_paths(&s);
	if ((lock = lock_and_recover(ctx, &s, &vfd)) < 0)
		return AP_ERR_IO;
	if (fstatat(vfd, s.vhost_file, &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT &&
	    !ctx->args[SR_DELETE_FILES].b) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "domain", "no vhost for this domain");
		rc = AP_ERR_NOTFOUND;
		goto out;
	}
	ap_job_progress(ctx->job, 20);
	if ((rc = change(ctx, &s, vfd, NULL, NULL)) != AP_OK)
		goto out;
	/* Its certificate goes with it (docs/certificates.md): a new site of the same domain
	 * would otherwise be served with the old one's key at its first render. */
	cert_files_drop(ctx, &s, has_lineage(&s));
	/* Its logs go with it; its files and its user only when asked. */
	if (ap_fs_dir(s.rootfd, s.log_dir_rel, false, 0, &lfd, &why) == AP_OK) {
		ap_fs_unlink(lfd, ap_arena_printf(s.a, "%s.access.log", s.domain));
		ap_fs_unlink(lfd, ap_arena_printf(s.a, "%s.error.log", s.domain));
	}
	if (ctx->args[SR_DELETE_FILES].b) {
		if (ap_fs_dir(s.rootfd, ctx->cfg->sites_web_root, false, 0, &wfd, &why) == AP_OK &&
		    ap_fs_remove_tree(wfd, s.domain) != AP_OK) {
			rc = fs_fail(ctx, NULL, abs_of(&s, s.home_rel), NULL);
			goto out;
		}
		user_remove(ctx, &s);
	}
	(void)made;
	json_object_object_add(ctx->result, "domain", json_object_new_string(s.domain));
	json_object_object_add(ctx->result, "files_deleted",
	    json_object_new_boolean(ctx->args[SR_DELETE_FILES].b));
out:
	if (wfd >= 0)
		close(wfd);
	if (lfd >= 0)
		close(lfd);
	close(vfd);
	close(lock);
	return rc;
}

/* ---- site.inspect --------------------------------------------------- */

/* The file on disk against the rendered text: content, drift, diff. */
static void
compare(struct helper_ctx *ctx, struct site *s, int dirfd, const char *name, const char *shown,
    const struct ap_buf *want, struct json_object *o, struct ap_buf *diff, bool *drift)
{
	struct ap_buf have = { 0 };
	enum ap_err rc = dirfd >= 0 ? ap_fs_read(dirfd, name, FILE_MAX, &have) : AP_ERR_NOTFOUND;

	json_object_object_add(o, "path", json_object_new_string(shown));
	json_object_object_add(o, "exists", json_object_new_boolean(rc == AP_OK));
	json_object_object_add(o, "content", json_object_new_string_len(
	    have.data ? have.data : "", (int)have.len));
	if (rc == AP_OK && !ap_utf8_valid(have.data, have.len)) {
		have.len = 0;
		ap_buf_puts(&have, "(not UTF-8 text)\n");
	}
	if (rc != AP_OK || have.len != want->len || memcmp(have.data, want->data, want->len) != 0) {
		*drift = true;
		ap_textdiff(want->data ? want->data : "", want->len, have.data ? have.data : "",
		    have.len, ap_arena_printf(s->a, "%s (panel)", shown),
		    ap_arena_printf(s->a, "%s (%s)", shown, rc == AP_OK ? "on disk" : "missing"), diff);
	}
	(void)ctx;
	ap_buf_free(&have);
}

enum ap_err
ap_ops_site_inspect(struct helper_ctx *ctx)
{
	struct ap_buf vhost = { 0 }, pool = { 0 }, diff = { 0 };
	struct json_object *vo = json_object_new_object(), *po = NULL;
	bool drift = false, made;
	const char *why = NULL;
	struct site s;
	enum ap_err rc;
	int vfd = -1, pfd = -1;

	site_from_args(&s, ctx);
	if ((rc = site_user(ctx, &s, false, &made)) != AP_OK) {
		/* The user is missing: render with its name, say so. */
		ap_problem_clear(ctx->pb);
		snprintf(s.user, sizeof(s.user), "%s", s.name);
		snprintf(s.group, sizeof(s.group), "%s", s.name);
		drift = true;
		json_object_object_add(ctx->result, "user_missing", json_object_new_boolean(true));
	}
	if ((rc = render(&s, s.enabled ? "vhost" : "disabled", &vhost, ctx->pb)) != AP_OK)
		goto out;
	ap_fs_dir(s.rootfd, s.vhost_dir_rel, false, 0, &vfd, &why);
	compare(ctx, &s, vfd, s.vhost_file,
	    abs_of(&s, ap_arena_printf(s.a, "%s/%s", s.vhost_dir_rel, s.vhost_file)), &vhost, vo,
	    &diff, &drift);
	if (s.enabled && s.kind == KIND_PHP) {
		const char *dir = pool_dir_rel(&s, s.php), *file = ap_arena_printf(s.a, "%s.conf", s.name);

		po = json_object_new_object();
		if ((rc = render(&s, "php-pool", &pool, ctx->pb)) != AP_OK)
			goto out;
		ap_fs_dir(s.rootfd, dir, false, 0, &pfd, &why);
		compare(ctx, &s, pfd, file, abs_of(&s, ap_arena_printf(s.a, "%s/%s", dir, file)), &pool,
		    po, &diff, &drift);
	}
	json_object_object_add(ctx->result, "vhost", vo);
	vo = NULL;
	if (po != NULL) {
		json_object_object_add(ctx->result, "pool", po);
		po = NULL;
	}
	json_object_object_add(ctx->result, "drift", json_object_new_boolean(drift));
	json_object_object_add(ctx->result, "diff",
	    json_object_new_string_len(diff.data ? diff.data : "", (int)diff.len));
	json_object_object_add(ctx->result, "port", json_object_new_int64(ctx->cfg->sites_http_port));
out:
	json_object_put(vo);
	json_object_put(po);
	if (vfd >= 0)
		close(vfd);
	if (pfd >= 0)
		close(pfd);
	ap_buf_free(&vhost);
	ap_buf_free(&pool);
	ap_buf_free(&diff);
	return rc;
}

/* ---- php.versions --------------------------------------------------- */

enum ap_err
ap_ops_php_versions(struct helper_ctx *ctx)
{
	const char *vs[MAX_PHP];
	size_t n = php_versions(ctx->arena, vs);
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(vs[i]));
	json_object_object_add(ctx->result, "versions", arr);
	json_object_object_add(ctx->result, "port", json_object_new_int64(ctx->cfg->sites_http_port));
	json_object_object_add(ctx->result, "system_users",
	    json_object_new_boolean(ctx->cfg->sites_system_users));
	return AP_OK;
}

/* ---- certificates (docs/certificates.md) ------------------------------ */

enum { CR_DOMAIN, CR__MAX };
const struct ap_field ap_ops_cert_domain_args[CR__MAX + 1] = {
	[CR_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .flags = AP_FIELD_REQUIRED,
	    .check = ap_valid_domain },
	[CR__MAX] = AP_FIELD_END,
};

#define CERTBOT_TIMEOUT_MS 300000

/* The certificate's facts into the result (never anything of the key). */
static void
put_info(struct json_object *r, const struct ap_cert_info *in, const char *source)
{
	put(r, "source", source);
	put(r, "names", in->names);
	put(r, "subject", in->subject);
	put(r, "issuer", in->issuer);
	put(r, "serial", in->serial);
	json_object_object_add(r, "not_before", json_object_new_int64(in->not_before));
	json_object_object_add(r, "not_after", json_object_new_int64(in->not_after));
}

/* The certificate the site uses now, read from disk: AP_ERR_NOTFOUND when it has none. */
static enum ap_err
current_info(struct site *s, struct ap_cert_info *in)
{
	struct ap_buf b = { 0 };
	char why[128];
	enum ap_err rc = AP_ERR_NOTFOUND;
	int fd;

	tls_detect(s);
	if (s->tls_source == NULL)
		return AP_ERR_NOTFOUND;
	/* An upload beneath the sandbox; certbot's lineage where certbot keeps it (links). */
	if (strcmp(s->tls_source, "upload") == 0) {
		const char *w;

		if (ap_fs_dir(s->rootfd, cert_dir_rel(s), false, 0, &fd, &w) != AP_OK)
			return AP_ERR_NOTFOUND;
	} else if ((fd = open(ap_arena_printf(s->a, "%s/live/%s", certbot_dir(s->cfg), s->domain),
			O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		return AP_ERR_NOTFOUND;
	}
	if (strcmp(s->tls_source, "upload") == 0)
		rc = ap_fs_read(fd, "fullchain.pem", FILE_MAX, &b);
	else {
		/* live/<domain>/fullchain.pem is certbot's link into archive/. */
		int cfd = openat(fd, "fullchain.pem", O_RDONLY | O_CLOEXEC);
		char chunk[4096];
		ssize_t n;

		rc = cfd < 0 ? AP_ERR_NOTFOUND : AP_OK;
		while (cfd >= 0 && (n = read(cfd, chunk, sizeof(chunk))) > 0 && b.len < FILE_MAX)
			ap_buf_append(&b, chunk, (size_t)n);
		if (cfd >= 0)
			close(cfd);
	}
	close(fd);
	if (rc == AP_OK && ap_cert_info_pem(b.data, b.len, in, why, sizeof(why)) != AP_OK)
		rc = AP_ERR_INVAL;
	ap_buf_free(&b);
	return rc;
}

/* The vhost rendered again (TLS as on disk, staged files included) and swapped with pre. */
static enum ap_err
cert_apply(struct helper_ctx *ctx, struct site *s, int vfd, struct tx *pre)
{
	struct ap_buf vhost = { 0 };
	bool made;
	enum ap_err rc;

	if ((rc = site_user(ctx, s, false, &made)) != AP_OK ||
	    (rc = render(s, s->enabled ? "vhost" : "disabled", &vhost, ctx->pb)) != AP_OK) {
		tx_end(pre, false);
		ap_buf_free(&vhost);
		return rc;
	}
	rc = change_tx(ctx, s, vfd, &vhost, s->enabled && s->kind == KIND_PHP ? s->php : NULL, pre);
	ap_buf_free(&vhost);
	return rc;
}

/* The site's uploads directory (made 0750, root:nginx group), recovered; *fd owned. */
static enum ap_err
cert_dir(struct helper_ctx *ctx, struct site *s, bool create, int *fd)
{
	const char *why = NULL;
	struct group *gr;
	enum ap_err rc = ap_fs_dir(s->rootfd, cert_dir_rel(s), create, 0750, fd, &why);

	if (rc == AP_ERR_NOTFOUND && !create)
		return rc;
	if (rc != AP_OK)
		return fs_fail(ctx, NULL, abs_of(s, cert_dir_rel(s)), why);
	if (geteuid() == 0 && (gr = getgrnam(ctx->cfg->sites_nginx_group)) != NULL &&
	    (fchown(*fd, 0, gr->gr_gid) != 0 || fchmod(*fd, 0750) != 0)) {
		close(*fd);
		*fd = -1;
		return fs_fail(ctx, NULL, abs_of(s, cert_dir_rel(s)), NULL);
	}
	ap_fs_recover(*fd);
	return AP_OK;
}

/* The upload's files removed in the transaction (when there are any). */
static enum ap_err
stage_upload_removal(struct helper_ctx *ctx, struct site *s, struct tx *t)
{
	static const char *const files[] = { "fullchain.pem", "privkey.pem" };
	struct stat st;
	int fd = -1;

	if (cert_dir(ctx, s, false, &fd) != AP_OK)
		return AP_OK;
	for (size_t i = 0; i < AP_NELEM(files); i++) {
		int dfd;
		enum ap_err rc;

		if (fstatat(fd, files[i], &st, AT_SYMLINK_NOFOLLOW) != 0 || (dfd = dup(fd)) < 0)
			continue;
		rc = tx_add(ctx, t, dfd, files[i], NULL, 0, NULL,
		    abs_of(s, ap_arena_printf(s->a, "%s/%s", cert_dir_rel(s), files[i])));
		if (rc != AP_OK) {
			close(fd);
			return rc;
		}
	}
	close(fd);
	return AP_OK;
}

/* ---- cert.upload ---- */

enum ap_err
ap_ops_cert_upload(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct ap_buf full = { 0 };
	struct ap_cert_info in;
	struct tx t = { .n = 0 };
	const char *field = NULL, *names;
	char why[512];
	struct group *gr;
	struct site s;
	enum ap_err rc;
	int lock = -1, vfd = -1, cfd = -1, dfd;

	site_from_args(&s, ctx);
	names = s.aliases[0] ? ap_arena_printf(s.a, "%s %s", s.domain, s.aliases) : s.domain;
	/* Judged before anything is written: a refusal changes nothing. */
	if (ap_cert_check_upload(a[CU_CERT].s, a[CU_CERT].len, a[CU_KEY].s, a[CU_KEY].len,
		a[CU_CHAIN].present ? a[CU_CHAIN].s : NULL, a[CU_CHAIN].present ? a[CU_CHAIN].len : 0,
		names, (int64_t)time(NULL), &in, &full, &field, why, sizeof(why)) != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_INVALID, field, "%s", why);
		ap_buf_free(&full);
		return AP_ERR_INVAL;
	}
	if ((rc = check_spec(ctx, &s)) != AP_OK)
		goto out;
	if ((lock = lock_and_recover(ctx, &s, &vfd)) < 0) {
		rc = AP_ERR_IO;
		goto out;
	}
	ap_job_progress(ctx->job, 20);
	if ((rc = cert_dir(ctx, &s, true, &cfd)) != AP_OK)
		goto out;
	if ((dfd = dup(cfd)) < 0 ||
	    (rc = tx_add_mode(ctx, &t, dfd, "fullchain.pem", full.data, full.len, NULL,
		 abs_of(&s, ap_arena_printf(s.a, "%s/fullchain.pem", cert_dir_rel(&s))), 0644)) != AP_OK)
		goto fail;
	if ((dfd = dup(cfd)) < 0 ||
	    (rc = tx_add_mode(ctx, &t, dfd, "privkey.pem", a[CU_KEY].s, a[CU_KEY].len, NULL,
		 abs_of(&s, ap_arena_printf(s.a, "%s/privkey.pem", cert_dir_rel(&s))), 0640)) != AP_OK)
		goto fail;
	/* The key: root and nginx's group only. */
	if (geteuid() == 0 && (gr = getgrnam(ctx->cfg->sites_nginx_group)) != NULL &&
	    fchownat(cfd, "privkey.pem", 0, gr->gr_gid, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = fs_fail(ctx, NULL, abs_of(&s, cert_dir_rel(&s)), NULL);
		goto fail;
	}
	ap_job_progress(ctx->job, 50);
	if ((rc = cert_apply(ctx, &s, vfd, &t)) != AP_OK)
		goto out;
	put_info(ctx->result, &in, "upload");
	put(ctx->result, "cert_path", s.tls_cert);
	goto out;
fail:
	if (rc == AP_OK)
		rc = fs_fail(ctx, NULL, abs_of(&s, cert_dir_rel(&s)), NULL);
	tx_end(&t, false);
out:
	ap_buf_free(&full);
	if (cfd >= 0)
		close(cfd);
	if (vfd >= 0)
		close(vfd);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* ---- certbot ---- */

struct cb_out {
	struct helper_ctx *ctx;
	int pct, max;
};

static void
cb_output(void *p, int stream, const char *d, size_t n)
{
	struct cb_out *o = p;

	(void)stream;
	ap_job_output(o->ctx->job, d, n);
	if (o->pct + 5 <= o->max) {
		o->pct += 5;
		ap_job_progress(o->ctx->job, o->pct);
	}
}

/* certbot's fixed arguments: its directories (certs.certbot_dir) and non-interactive. */
static size_t
certbot_common(const struct ap_config *c, struct ap_arena *a, const char **argv, size_t n)
{
	argv[n++] = "-n";
	if (c->certs_certbot_dir[0]) {
		argv[n++] = "--config-dir";
		argv[n++] = c->certs_certbot_dir;
		argv[n++] = "--work-dir";
		argv[n++] = ap_arena_printf(a, "%s/work", c->certs_certbot_dir);
		argv[n++] = "--logs-dir";
		argv[n++] = ap_arena_printf(a, "%s/logs", c->certs_certbot_dir);
	}
	return n;
}

/* Is line (n bytes, leading blanks skipped) one of certbot's words around a failure, not its reason? */
static bool
cb_noise(const char *l, size_t n)
{
	static const char *const noise[] = { "Saving debug log", "Ask for help", "Hint:",
		"See the logfile", "Some challenges have failed", "Certbot failed to authenticate",
		"An unexpected error occurred", "Requesting a certificate", "Account registered",
		"- - -", "Simulating", NULL };

	if (n == 0)
		return true;
	for (size_t i = 0; noise[i] != NULL; i++)
		if (n >= strlen(noise[i]) && strncmp(l, noise[i], strlen(noise[i])) == 0)
			return true;
	return false;
}

/*
 * certbot's reason for a failure, from its output: the CA's problems
 * ("Domain: x", "Type: y", "Detail: z", each domain's joined with "; "),
 * else the lines that are not its boilerplate (the debug log, the forum,
 * hints). At most 1 KiB; "" when it said nothing. Arena.
 */
static const char *
certbot_reason(struct ap_arena *a, const struct ap_spawn_result *r)
{
	const struct ap_buf *bufs[2] = { &r->out, &r->err };
	char probs[1024] = "", rest[1024] = "";
	size_t np = 0, nr = 0;

	for (int b = 0; b < 2; b++) {
		const char *p = bufs[b]->data, *end = p ? p + bufs[b]->len : NULL;

		while (p != NULL && p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *l = p, *e = nl ? nl : end;
			bool prob;

			p = nl ? nl + 1 : end;
			while (l < e && (*l == ' ' || *l == '\t'))
				l++;
			while (e > l && (e[-1] == ' ' || e[-1] == '\r'))
				e--;
			if (cb_noise(l, (size_t)(e - l)))
				continue;
			prob = (e - l > 7 && strncmp(l, "Domain:", 7) == 0) || (e - l > 5 && strncmp(l, "Type:", 5) == 0) ||
			    (e - l > 7 && strncmp(l, "Detail:", 7) == 0);
			if (prob && np + 3 < sizeof(probs)) {
				np += (size_t)snprintf(probs + np, sizeof(probs) - np, "%s",
				    np == 0 ? "" : strncmp(l, "Domain:", 7) == 0 ? "; " : ", ");
				/* "Type:   connection": one space */
				for (const char *q = l; q < e && np + 1 < sizeof(probs); q++)
					if (!(*q == ' ' && q > l && q[-1] == ' '))
						probs[np++] = *q;
				probs[np] = '\0';
			}
			else if (!prob && nr + 2 < sizeof(rest))
				nr += (size_t)snprintf(rest + nr, sizeof(rest) - nr, "%s%.*s", nr == 0 ? "" : " ",
				    (int)(e - l), l);
			if (np >= sizeof(probs))
				np = sizeof(probs) - 1;
			if (nr >= sizeof(rest))
				nr = sizeof(rest) - 1;
		}
	}
	return ap_arena_printf(a, "%s", np > 0 ? probs : rest);
}

static enum ap_err
certbot(struct helper_ctx *ctx, const char *const *argv, const char *what, int from, int to)
{
	const struct ap_config *c = ctx->cfg;
	const char *env[2] = { NULL, NULL };
	struct cb_out o = { .ctx = ctx, .pct = from, .max = to };
	struct ap_spawn sp = { .path = argv[0], .argv = argv, .env = env,
		.timeout_ms = CERTBOT_TIMEOUT_MS, .max_output = 64 * 1024,
		.max_memory = 4ULL << 30, .on_output = cb_output, .on_output_ctx = &o };
	struct ap_spawn_result res;
	char err[256], unit[64];
	enum ap_err rc;

	if (c->certs_ca_bundle[0])
		env[0] = ap_arena_printf(ctx->arena, "REQUESTS_CA_BUNDLE=%s", c->certs_ca_bundle);
	/* certbot talks to the CA: under systemd a transient unit of its own, in the
	 * server's network (the helper's unit has IP sockets for localhost only). */
	if (ap_spawn_units_available(NULL, 0)) {
		snprintf(unit, sizeof(unit), "aapanel-certbot-%ld", (long)getpid());
		sp.unit = unit;
		sp.unit_sandbox = AP_SPAWN_SB_NONE;
	}
	rc = ap_spawn_run(&sp, &res, err, sizeof(err));
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s: %s", what, err);
	} else if (!res.exited || res.exit_code != 0) {
		const char *msg = certbot_reason(ctx->arena, &res);

		if (msg[0] == '\0')
			msg = tool_message(ctx->arena, &res);
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s", res.timed_out
		    ? ap_arena_printf(ctx->arena, "%s did not finish in %d s", what, CERTBOT_TIMEOUT_MS / 1000)
		    : msg[0] ? msg
		    : ap_arena_printf(ctx->arena, "%s failed (%s %d)", what,
			  res.exited ? "exit" : "signal", res.exited ? res.exit_code : res.signal));
		rc = AP_ERR_IO;
	}
	ap_spawn_result_free(&res);
	return rc;
}

/* The deploy hook certbot keeps in the lineage's renewal file: nginx reloads with the new files. */
static const char *
deploy_hook(const struct ap_config *c, struct ap_arena *a)
{
	return c->sites_nginx_prefix[0]
	    ? ap_arena_printf(a, "%s -p %s -c %s -s reload", c->sites_nginx, c->sites_nginx_prefix,
		  c->sites_nginx_conf)
	    : ap_arena_printf(a, "%s -c %s -s reload", c->sites_nginx, c->sites_nginx_conf);
}

static const char *
acme_server(const struct ap_config *c)
{
	if (c->certs_acme_server[0])
		return c->certs_acme_server;
	return c->certs_staging ? "https://acme-staging-v02.api.letsencrypt.org/directory"
				: "https://acme-v02.api.letsencrypt.org/directory";
}

/* ---- cert.issue ---- */

enum ap_err
ap_ops_cert_issue(struct helper_ctx *ctx)
{
	const struct ap_config *c = ctx->cfg;
	const char *argv[96], *why = NULL, *server = acme_server(c);
	struct ap_cert_info in;
	struct tx t = { .n = 0 };
	struct site s;
	enum ap_err rc;
	size_t n = 0;
	int lock = -1, vfd = -1, wfd = -1;

	site_from_args(&s, ctx);
	if (strncmp(server, "https://", 8) != 0)
		return ap_problem_set(ctx->pb, AP_PB_FAILED, NULL,
		    "certs.acme_server must be an https:// URL");
	if ((rc = check_spec(ctx, &s)) != AP_OK)
		return rc;
	if (!s.enabled)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "domain",
		    "the site is disabled: enable it first (the ACME server must reach it)");
	if ((lock = lock_and_recover(ctx, &s, &vfd)) < 0)
		return AP_ERR_IO;
	ap_job_progress(ctx->job, 5);
	/* The challenges' directory, readable by nginx whatever certbot's umask. */
	if ((rc = ap_fs_dir(s.rootfd, ap_arena_printf(s.a, "%s/.well-known/acme-challenge",
		 c->certs_acme_webroot), true, 0755, &wfd, &why)) != AP_OK) {
		rc = fs_fail(ctx, NULL, abs_of(&s, c->certs_acme_webroot), why);
		goto out;
	}
	fchmod(wfd, 0755);
	ap_job_output(ctx->job, "certbot certonly --webroot\n", 27);
	argv[n++] = c->certs_certbot;
	argv[n++] = "certonly";
	n = certbot_common(c, s.a, argv, n);
	argv[n++] = "--webroot";
	argv[n++] = "-w";
	argv[n++] = abs_of(&s, c->certs_acme_webroot);
	argv[n++] = "--cert-name";
	argv[n++] = s.domain;
	argv[n++] = "-d";
	argv[n++] = s.domain;
	for (const char *p = s.aliases; *p && n < AP_NELEM(argv) - 16;) {
		size_t l = strcspn(p, " ");

		argv[n++] = "-d";
		argv[n++] = ap_arena_printf(s.a, "%.*s", (int)l, p);
		p += l;
		while (*p == ' ')
			p++;
	}
	argv[n++] = "--server";
	argv[n++] = server;
	argv[n++] = "--agree-tos";
	argv[n++] = "--no-eff-email";
	if (c->certs_email[0]) {
		argv[n++] = "-m";
		argv[n++] = c->certs_email;
	} else {
		argv[n++] = "--register-unsafely-without-email";
	}
	argv[n++] = "--deploy-hook";
	argv[n++] = deploy_hook(c, s.a);
	argv[n] = NULL;
	ap_job_progress(ctx->job, 10);
	if ((rc = certbot(ctx, argv, "certbot certonly", 10, 65)) != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 70);
	/* The new certificate is the site's: an upload it had goes, in the same change. */
	if ((rc = stage_upload_removal(ctx, &s, &t)) != AP_OK) {
		tx_end(&t, false);
		goto out;
	}
	if ((rc = cert_apply(ctx, &s, vfd, &t)) != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 95);
	if (current_info(&s, &in) == AP_OK)
		put_info(ctx->result, &in, "acme");
	put(ctx->result, "cert_path", s.tls_cert);
	json_object_object_add(ctx->result, "https_port", json_object_new_int64(c->certs_https_port));
out:
	if (wfd >= 0)
		close(wfd);
	if (vfd >= 0)
		close(vfd);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* ---- cert.renew ---- */

static void
site_of_domain(struct site *s, struct helper_ctx *ctx, const char *domain)
{
	memset(s, 0, sizeof(*s));
	s->cfg = ctx->cfg;
	s->a = ctx->arena;
	s->rootfd = ctx->sandbox_fd;
	s->domain = domain;
	s->aliases = s->root_rel = s->php = s->upstream = s->e404 = s->e50x = "";
	site_paths(s);
}

enum ap_err
ap_ops_cert_renew(struct helper_ctx *ctx)
{
	const struct ap_config *c = ctx->cfg;
	const char *argv[32];
	struct ap_cert_info before, after;
	struct site s;
	enum ap_err rc;
	size_t n = 0;

	site_of_domain(&s, ctx, ctx->args[CR_DOMAIN].s);
	if (current_info(&s, &before) != AP_OK)
		return ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "domain", "the site has no certificate");
	if (strcmp(s.tls_source, "acme") != 0)
		return ap_problem_set(ctx->pb, AP_PB_INVALID, "domain",
		    "an uploaded certificate is renewed by uploading a new one");
	argv[n++] = c->certs_certbot;
	argv[n++] = "renew";
	n = certbot_common(c, s.a, argv, n);
	argv[n++] = "--cert-name";
	argv[n++] = s.domain;
	argv[n++] = "--force-renewal";
	argv[n++] = "--no-random-sleep-on-renew";
	argv[n] = NULL;
	ap_job_output(ctx->job, "certbot renew --force-renewal\n", 30);
	ap_job_progress(ctx->job, 10);
	if ((rc = certbot(ctx, argv, "certbot renew", 10, 90)) != AP_OK)
		return rc;
	if (current_info(&s, &after) != AP_OK)
		return ap_problem_set(ctx->pb, AP_PB_FAILED, NULL,
		    "certbot renewed, but the certificate cannot be read");
	put_info(ctx->result, &after, "acme");
	put(ctx->result, "previous_serial", before.serial);
	return AP_OK;
}

/* ---- cert.remove ---- */

/*
 * Once no vhost uses them: the upload's directory and, when certbot has a
 * lineage for the domain (acme), certbot delete. A failure is logged, not
 * returned: the TLS server is already gone (cert.remove, site.remove).
 */
static void
cert_files_drop(struct helper_ctx *ctx, const struct site *s, bool acme)
{
	const struct ap_config *c = ctx->cfg;
	const char *why;
	int wfd = -1;

	if (ap_fs_dir(s->rootfd, c->certs_dir, false, 0, &wfd, &why) == AP_OK) {
		ap_fs_remove_tree(wfd, s->domain);
		close(wfd);
	}
	if (acme) {
		const char *argv[16];
		size_t n = 0;

		argv[n++] = c->certs_certbot;
		argv[n++] = "delete";
		n = certbot_common(c, s->a, argv, n);
		argv[n++] = "--cert-name";
		argv[n++] = s->domain;
		argv[n] = NULL;
		if (certbot(ctx, argv, "certbot delete", 70, 95) != AP_OK) {
			AP_WARN("certbot delete %s: %s", s->domain, ctx->pb->reason);
			ap_problem_clear(ctx->pb);
		}
	}
}

/* Does certbot keep a lineage of the domain (its renewal file)? */
static bool
has_lineage(const struct site *s)
{
	return stat(ap_arena_printf(s->a, "%s/renewal/%s.conf", certbot_dir(s->cfg), s->domain),
		   &(struct stat){ 0 }) == 0;
}

enum ap_err
ap_ops_cert_remove(struct helper_ctx *ctx)
{
	struct tx t = { .n = 0 };
	struct ap_cert_info in;
	bool acme;
	struct site s;
	enum ap_err rc;
	int lock = -1, vfd = -1;

	site_from_args(&s, ctx);
	if (current_info(&s, &in) == AP_ERR_NOTFOUND) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "domain", "the site has no certificate");
		return AP_ERR_NOTFOUND;
	}
	acme = has_lineage(&s);
	if ((lock = lock_and_recover(ctx, &s, &vfd)) < 0)
		return AP_ERR_IO;
	ap_job_progress(ctx->job, 20);
	if ((rc = stage_upload_removal(ctx, &s, &t)) != AP_OK) {
		tx_end(&t, false);
		goto out;
	}
	s.no_tls = true;
	if ((rc = cert_apply(ctx, &s, vfd, &t)) != AP_OK)
		goto out;
	ap_job_progress(ctx->job, 70);
	cert_files_drop(ctx, &s, acme);
	put(ctx->result, "domain", s.domain);
	json_object_object_add(ctx->result, "removed", json_object_new_boolean(true));
out:
	if (vfd >= 0)
		close(vfd);
	if (lock >= 0)
		close(lock);
	return rc;
}

/* ---- cert.inspect ---- */

enum ap_err
ap_ops_cert_inspect(struct helper_ctx *ctx)
{
	struct ap_cert_info in;
	struct site s;
	enum ap_err rc;

	site_of_domain(&s, ctx, ctx->args[CR_DOMAIN].s);
	rc = current_info(&s, &in);
	if (rc == AP_ERR_NOTFOUND) {
		ap_problem_set(ctx->pb, AP_PB_NOT_FOUND, "domain", "the site has no certificate");
		return rc;
	}
	if (rc != AP_OK) {
		ap_problem_set(ctx->pb, AP_PB_FAILED, NULL, "%s: not a readable certificate", s.tls_cert);
		return rc;
	}
	put_info(ctx->result, &in, s.tls_source);
	put(ctx->result, "cert_path", s.tls_cert);
	return AP_OK;
}

/* ---- the owner of a site's files (ops_files.c) ------------------------ */

enum ap_err
ap_ops_site_owner(const struct ap_config *cfg, const char *domain, uid_t *uid, gid_t *gid,
    bool *chown_needed)
{
	char name[33], gecos[300];
	struct passwd *pw;

	*chown_needed = false;
	if (!cfg->sites_system_users) {
		*uid = geteuid();
		*gid = getegid();
		return AP_OK;
	}
	derive_name(domain, name);
	snprintf(gecos, sizeof(gecos), "aapanel site %s", domain);
	pw = getpwnam(name);
	/* Only a user made for this very site: never an account that was there before. */
	if (pw == NULL || pw->pw_uid == 0 || strcmp(pw->pw_gecos, gecos) != 0)
		return AP_ERR_NOTFOUND;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	*chown_needed = geteuid() == 0;
	return AP_OK;
}
