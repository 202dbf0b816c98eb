/*
 * config.c — load conf/aapanel.cfg, overlay conf/profiles/<profile>.cfg,
 * validate every key against one schema table, resolve paths against the
 * root directory and load the secret key. Every problem is collected with
 * its file and line so an operator fixes them all in one pass.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aapanel/config.h"
#include "aapanel/sitecheck.h"
#include "aapanel/dsn.h"
#include "aapanel/netaddr.h"
#include "aapanel/unitname.h"
#include "aapanel/log.h"
#include "aapanel/weburl.h"

/* A config file larger than this is not a config file. */
#define CFG_MAX_FILE (1024 * 1024)
/* Secret key files hold at most 128 hex chars; leave room for a newline. */
#define KEY_MAX_FILE 4096
#define KEY_MIN_BYTES 32
#define CREDENTIAL_NAME "aapanel-secret"
/* sizeof(struct sockaddr_un.sun_path) - 1 on Linux. */
#define SOCKET_PATH_MAX 107

static const char *const profile_names[AP_PROFILE__MAX] = {
	[AP_PROFILE_DEVELOPMENT] = "development",
	[AP_PROFILE_PRODUCTION] = "production",
	[AP_PROFILE_TEST] = "test",
};

const char *
ap_profile_name(enum ap_profile p)
{
	if ((unsigned)p >= AP_PROFILE__MAX)
		return "unknown";
	return profile_names[p];
}

bool
ap_profile_parse(const char *s, enum ap_profile *out)
{
	static const struct {
		const char *name;
		enum ap_profile p;
	} names[] = {
		{ "development", AP_PROFILE_DEVELOPMENT },
		{ "dev", AP_PROFILE_DEVELOPMENT },
		{ "production", AP_PROFILE_PRODUCTION },
		{ "prod", AP_PROFILE_PRODUCTION },
		{ "test", AP_PROFILE_TEST },
	};

	if (s == NULL)
		return false;
	/* Case-insensitive: AAPANEL_ENV=Production is a common spelling. */
	for (size_t i = 0; i < AP_NELEM(names); i++) {
		if (strcasecmp(s, names[i].name) == 0) {
			*out = names[i].p;
			return true;
		}
	}
	return false;
}

/* Copy s into a bounded display form: printable ASCII only, at most 40 bytes. */
static void
display_copy(char *dst, size_t dstlen, const char *s)
{
	size_t i, j = 0;

	for (i = 0; s[i] != '\0' && j + 1 < dstlen && i < 40; i++)
		dst[j++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[j] = '\0';
}

static bool
is_regular_file(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	int n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

enum ap_err
ap_profile_detect(const char *flag, const char *env, const char *root_dir,
    enum ap_profile *out, enum ap_profile_source *src, char *reason,
    size_t reasonlen)
{
	char shown[48];

	if (flag != NULL) {
		display_copy(shown, sizeof(shown), flag);
		if (!ap_profile_parse(flag, out)) {
			snprintf(reason, reasonlen,
			    "unknown profile '%s' from --profile (expected "
			    "development, production or test)",
			    shown);
			return AP_ERR_INVAL;
		}
		*src = AP_PROFILE_FROM_FLAG;
		snprintf(reason, reasonlen, "--profile flag");
		return AP_OK;
	}
	/* An empty AAPANEL_ENV= is how shells "unset" a variable in a unit file. */
	if (env != NULL && env[0] != '\0') {
		display_copy(shown, sizeof(shown), env);
		if (!ap_profile_parse(env, out)) {
			snprintf(reason, reasonlen,
			    "unknown profile '%s' from AAPANEL_ENV (expected "
			    "development, production or test)",
			    shown);
			return AP_ERR_INVAL;
		}
		*src = AP_PROFILE_FROM_ENV;
		snprintf(reason, reasonlen, "AAPANEL_ENV=%s", shown);
		return AP_OK;
	}
	if (root_dir != NULL && is_regular_file(root_dir, "src/cli/main.c") &&
	    is_regular_file(root_dir, "Makefile")) {
		*out = AP_PROFILE_DEVELOPMENT;
		*src = AP_PROFILE_FROM_SOURCE;
		snprintf(reason, reasonlen,
		    "source checkout (src/cli/main.c and Makefile in %s)", root_dir);
		return AP_OK;
	}
	*out = AP_PROFILE_PRODUCTION;
	*src = AP_PROFILE_FROM_DEFAULT;
	snprintf(reason, reasonlen, "installed copy (no source checkout in %s)",
	    root_dir != NULL ? root_dir : "(none)");
	return AP_OK;
}

/* ---- problems ---------------------------------------------------------- */

void
ap_config_problems_free(struct ap_config_problems *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].file);
		free(p->v[i].key);
		free(p->v[i].reason);
	}
	free(p->v);
	p->v = NULL;
	p->n = 0;
}

char *
ap_config_problem_str(const struct ap_config_problem *p)
{
	struct ap_buf b = { 0 };

	if (p->file != NULL) {
		if (p->line > 0)
			ap_buf_printf(&b, "%s:%d: ", p->file, p->line);
		else
			ap_buf_printf(&b, "%s: ", p->file);
	}
	if (p->key != NULL)
		ap_buf_printf(&b, "%s: ", p->key);
	ap_buf_puts(&b, p->reason != NULL ? p->reason : "invalid");
	return b.data;
}

static void prob_add(struct ap_config_problems *probs, const char *file,
    int line, const char *key, const char *fmt, ...) AP_PRINTF(5, 6);

static void
prob_add(struct ap_config_problems *probs, const char *file, int line,
    const char *key, const char *fmt, ...)
{
	struct ap_config_problem *p;
	va_list ap;

	probs->v = ap_xrealloc(probs->v, (probs->n + 1) * sizeof(*probs->v));
	p = &probs->v[probs->n++];
	p->file = file != NULL ? ap_xstrdup(file) : NULL;
	p->line = line;
	p->key = key != NULL ? ap_xstrdup(key) : NULL;
	va_start(ap, fmt);
	if (vasprintf(&p->reason, fmt, ap) < 0) {
		fprintf(stderr, "aapanel: out of memory formatting a problem\n");
		abort();
	}
	va_end(ap);
}

/* ---- schema ------------------------------------------------------------ */

enum vkind {
	V_INT,      /* int field, bounded */
	V_LL,       /* long long field, bounded */
	V_BOOL,     /* bool field */
	V_NAME,     /* panel.name: 1..64 printable UTF-8 characters */
	V_LANG,     /* en | ar */
	V_LANG_OPT, /* "" | en | ar */
	V_BASEPATH, /* "/" or "/seg/seg" */
	V_SOCKET,   /* path, resolved, <= 107 bytes */
	V_MODE,     /* octal string "0600".."0777" → int field */
	V_GROUP,    /* "" or a group name */
	V_PATH,     /* required path, resolved */
	V_DIR,      /* required path, resolved, must be an existing directory */
	V_PATH_OPT, /* "" or a path, resolved */
	V_LEVEL,    /* debug | info | warn | error */
	V_DSN,      /* database DSN */
	V_CIDRS,    /* "" or a comma-separated list of addresses / networks */
	V_USER,     /* "" or a user name or a numeric uid */
	V_ORIGINS,  /* "" or a list of scheme://host[:port] */
	V_FWDHDR,   /* "" | "X-Forwarded-For" | "X-Real-IP" */
	V_TEXT,     /* "" or text without control characters, at most 255 bytes */
	V_REL,      /* a path relative to helper.sandbox_root: segments of [A-Za-z0-9._{}-], no . or .. */
	V_ADDR,     /* "" or an IPv4 or IPv6 address literal */
	V_UNITS,    /* "" or systemd unit names ('*' patterns), comma-separated (unitname.h) */
	V_ROOTS,    /* "" or name:/path, comma-separated (files.roots, sitecheck.h) */
	V_UNIT,     /* one service unit's full name (unitname.h, no pattern): "aapanel.service" */
};

struct key_def {
	const char *group;
	const char *name;
	const char *dotted;
	enum vkind kind;
	long long min, max;
	long long def_i;
	const char *def_s;
	size_t off;
};

#define F(field) offsetof(struct ap_config, field)
#define KI(g, n, mn, mx, d, f) { g, n, g "." n, V_INT, mn, mx, d, NULL, F(f) }
#define KL(g, n, mn, mx, d, f) { g, n, g "." n, V_LL, mn, mx, d, NULL, F(f) }
#define KB(g, n, d, f) { g, n, g "." n, V_BOOL, 0, 1, d, NULL, F(f) }
#define KS(g, n, k, d, f) { g, n, g "." n, k, 0, 0, 0, d, F(f) }

/* The one schema: order here is the order of `config show` and of problems. */
static const struct key_def schema[] = {
	KS("panel", "name", V_NAME, "aaPanel", panel_name),
	KS("panel", "default_language", V_LANG, "en", default_language),
	KS("panel", "base_path", V_BASEPATH, "/", base_path),
	KS("panel", "origins", V_ORIGINS, "", panel_origins),
	KB("panel", "debug", 0, debug),
	KS("panel", "settings_file", V_PATH_OPT, "", settings_file),

	KS("server", "socket", V_SOCKET, "var/run/aapanel.sock", socket_path),
	KS("server", "socket_mode", V_MODE, "0660", socket_mode),
	KS("server", "socket_group", V_GROUP, "", socket_group),
	KI("server", "backlog", 511, 65535, 511, backlog),

	KI("pool", "workers", 0, 256, 0, workers),
	KI("pool", "max_workers", 1, 256, 32, max_workers),
	KI("pool", "max_requests", 0, 10000000, 10000, max_requests),
	KI("pool", "max_requests_jitter", 0, 1000000, 1000, max_requests_jitter),
	KI("pool", "request_timeout", 1, 3600, 30, request_timeout),
	KI("pool", "shutdown_timeout", 1, 3600, 30, shutdown_timeout),
	KI("pool", "crash_limit", 1, 1000, 10, crash_limit),

	KL("limits", "max_body", 1024, 1073741824LL, 1048576, max_body),
	KL("limits", "max_upload", 1024, 17179869184LL, 67108864, max_upload),
	KI("limits", "max_fields", 1, 10000, 256, max_fields),
	KI("limits", "max_field_len", 1, 1048576, 65536, max_field_len),
	KI("limits", "max_header_len", 256, 65536, 8192, max_header_len),

	KS("paths", "var_dir", V_PATH, "var", var_dir),
	KS("paths", "run_dir", V_PATH, "var/run", run_dir),
	KS("paths", "log_dir", V_PATH, "var/log", log_dir),
	KS("paths", "templates", V_DIR, "templates", templates_dir),
	KS("paths", "static", V_DIR, "static", static_dir),
	KS("paths", "po", V_DIR, "po", po_dir),
	KS("paths", "sql", V_DIR, "sql", sql_dir),

	KS("log", "level", V_LEVEL, "info", log_level),
	KS("log", "file", V_PATH_OPT, "", log_file),
	KS("log", "panel_unit", V_UNIT, "aapanel.service", log_panel_unit),
	KS("log", "helper_unit", V_UNIT, "aapanel-helper.service", log_helper_unit),

	KS("security", "secret_key_file", V_PATH_OPT, "", secret_key_file),

	KS("db", "dsn", V_DSN, "sqlite:var/aapanel.db", db_dsn),
	KS("db", "password_file", V_PATH_OPT, "", db_password_file),
	KB("db", "auto_migrate", 0, db_auto_migrate),
	KI("db", "connect_timeout", 1, 300, 5, db_connect_timeout),
	KI("db", "query_timeout", 1, 3600, 10, db_query_timeout),

	KI("nginx", "fastcgi_read_timeout", 2, 7200, 60, nginx_read_timeout),
	KS("nginx", "listen_file", V_PATH_OPT, "", nginx_listen_file),
	KS("nginx", "binary", V_PATH_OPT, "/usr/sbin/nginx", nginx_binary),
	KS("nginx", "prefix", V_PATH_OPT, "", nginx_prefix),
	KS("nginx", "conf", V_PATH_OPT, "", nginx_conf),

	KI("session", "idle_timeout", 60, 86400, 1800, session_idle_timeout),
	KI("session", "absolute_timeout", 300, 604800, 43200, session_absolute_timeout),

	KI("auth", "password_min_length", 8, 128, 12, password_min_length),
	KI("auth", "argon2_memory_kib", 19456, 1048576, 19456, argon2_memory_kib),
	KI("auth", "argon2_iterations", 2, 20, 2, argon2_iterations),
	KI("auth", "argon2_parallelism", 1, 16, 1, argon2_parallelism),
	KI("auth", "lockout_threshold", 1, 100, 5, lockout_threshold),
	KI("auth", "max_failures_per_hour", 5, 10000, 100, max_failures_per_hour),
	KI("auth", "address_threshold", 5, 100000, 50, address_threshold),
	KI("auth", "address_window", 60, 86400, 900, address_window),
	KI("auth", "max_tokens_per_user", 1, 10000, 50, max_tokens_per_user),

	KS("access", "allow", V_CIDRS, "", access_allow),
	KS("access", "trusted_proxies", V_CIDRS, "", trusted_proxies),
	KS("access", "forwarded_header", V_FWDHDR, "X-Forwarded-For", forwarded_header),

	KS("helper", "socket", V_SOCKET, "var/run/aapanel-helper.sock", helper_socket),
	KS("helper", "panel_user", V_USER, "", helper_panel_user),
	KS("helper", "sandbox_root", V_PATH, "var/sandbox", helper_sandbox_root),
	KI("helper", "max_message", 4096, 16777216, 65536, helper_max_message),
	KI("helper", "timeout_ms", 100, 600000, 5000, helper_timeout_ms),
	KI("helper", "max_clients", 1, 4096, 64, helper_max_clients),
	KI("helper", "max_jobs", 1, 64, 4, helper_max_jobs),
	KI("helper", "job_timeout", 1, 86400, 3600, helper_job_timeout),

	KB("monitor", "enabled", 1, monitor_enabled),
	KI("monitor", "interval", 1, 3600, 10, monitor_interval),
	KS("monitor", "socket", V_PATH_OPT, "", monitor_socket),
	KI("monitor", "max_clients", 1, 100000, 1024, monitor_max_clients),
	KS("monitor", "smtp_url", V_TEXT, "", monitor_smtp_url),
	KB("monitor", "smtp_starttls", 1, monitor_smtp_starttls),
	KS("monitor", "smtp_from", V_TEXT, "", monitor_smtp_from),
	KS("monitor", "smtp_credentials_file", V_PATH_OPT, "", monitor_smtp_credentials_file),
	KS("monitor", "ca_file", V_PATH_OPT, "", monitor_ca_file),
	KI("monitor", "send_timeout", 1, 300, 15, monitor_send_timeout),
	KS("monitor", "language", V_LANG_OPT, "", monitor_language),
	KS("sites", "vhost_dir", V_REL, "etc/nginx/aapanel/sites", sites_vhost_dir),
	KS("sites", "web_root", V_REL, "var/www", sites_web_root),
	KS("sites", "log_dir", V_REL, "var/log/nginx", sites_log_dir),
	KI("sites", "http_port", 1, 65535, 80, sites_http_port),
	KS("sites", "listen_address", V_ADDR, "", sites_listen_address),
	KS("sites", "nginx", V_PATH, "/usr/sbin/nginx", sites_nginx),
	KS("sites", "nginx_conf", V_PATH, "/etc/nginx/nginx.conf", sites_nginx_conf),
	KS("sites", "nginx_prefix", V_PATH_OPT, "", sites_nginx_prefix),
	KS("sites", "nginx_group", V_GROUP, "www-data", sites_nginx_group),
	KB("sites", "system_users", 1, sites_system_users),
	KS("sites", "php_pool_dir", V_REL, "etc/php/{version}/fpm/pool.d", sites_php_pool_dir),
	KS("sites", "php_socket_dir", V_REL, "run/php", sites_php_socket_dir),
	KS("sites", "php_fpm_conf", V_PATH, "/etc/php/{version}/fpm/php-fpm.conf", sites_php_fpm_conf),
	KS("sites", "php_fpm_pid", V_PATH, "/run/php/php{version}-fpm.pid", sites_php_fpm_pid),
	KI("sites", "probe_timeout_ms", 100, 60000, 3000, sites_probe_timeout_ms),
	KS("certs", "dir", V_REL, "etc/aapanel/certs", certs_dir),
	KS("certs", "acme_webroot", V_REL, "var/lib/aapanel-acme", certs_acme_webroot),
	KI("certs", "https_port", 1, 65535, 443, certs_https_port),
	KS("certs", "email", V_TEXT, "", certs_email),
	KS("certs", "acme_server", V_TEXT, "", certs_acme_server),
	KB("certs", "staging", 0, certs_staging),
	KS("certs", "ca_bundle", V_PATH_OPT, "", certs_ca_bundle),
	KS("certs", "certbot", V_PATH, "/usr/bin/certbot", certs_certbot),
	KS("certs", "certbot_dir", V_PATH_OPT, "", certs_certbot_dir),
	KI("certs", "warn_days", 1, 90, 14, certs_warn_days),
	KI("certs", "watch_interval", 1, 86400, 300, certs_watch_interval),
	KS("databases", "dir", V_REL, "etc/aapanel/dbservers", databases_dir),
	KI("databases", "connect_timeout_ms", 500, 30000, 2000, databases_connect_timeout_ms),
	KS("databases", "mariadb_bindir", V_PATH, "/usr/bin", databases_mariadb_bindir),
	KS("databases", "pg_bindir", V_PATH, "/usr/lib/postgresql/15/bin", databases_pg_bindir),
	KS("databases", "spool_dir", V_REL, "var/lib/aapanel/dbdumps", databases_spool_dir),
	KL("databases", "import_max", 1024, 68719476736LL, 1073741824LL, databases_import_max),
	KL("files", "max_upload", 1024, 68719476736LL, 1073741824LL, files_max_upload),
	KL("files", "edit_max", 1024, 16777216, 2097152, files_edit_max),
	KL("files", "extract_max_size", 1048576, 1099511627776LL, 4294967296LL, files_extract_max_size),
	KL("files", "extract_max_files", 1, 10000000, 100000, files_extract_max_files),
	KL("files", "extract_max_ratio", 2, 100000, 200, files_extract_max_ratio),
	KS("files", "roots", V_ROOTS, "", files_roots),
	KI("files", "job_wait_ms", 0, 25000, 2000, files_job_wait_ms),
	KS("tasks", "cron_dir", V_REL, "etc/cron.d", tasks_cron_dir),
	KS("tasks", "spec_dir", V_REL, "etc/aapanel/tasks", tasks_spec_dir),
	KS("tasks", "recorder", V_PATH, "/usr/local/bin/aapanel", tasks_recorder),
	KB("tasks", "allow_root", 0, tasks_allow_root),
	KI("tasks", "max_timeout", 1, 86400, 3600, tasks_max_timeout),
	KI("tasks", "keep_runs", 1, 100000, 100, tasks_keep_runs),
	KS("services", "units", V_UNITS, "nginx.service, php*-fpm.service, mariadb.service, postgresql.service, "
	    "cron.service, ssh.service, aapanel.service, aapanel.socket, aapanel-helper.service, aapanel-helper.socket",
	    services_units),
	KS("services", "protected", V_UNITS, "ssh.service, aapanel.service, aapanel.socket, aapanel-helper.service, "
	    "aapanel-helper.socket", services_protected),
	KS("services", "operator_units", V_UNITS, "nginx.service, php*-fpm.service", services_operator_units),
	KI("services", "journal_lines", 1, 200, 30, services_journal_lines),
	KI("services", "action_timeout", 5, 600, 90, services_action_timeout),
	KS("backups", "dir", V_REL, "etc/aapanel/backups", backups_dir),
	KS("backups", "restic", V_PATH, "/usr/bin/restic", backups_restic),
	KL("backups", "download_max", 1024, 1099511627776LL, 1073741824LL, backups_download_max),
	KI("backups", "alert_margin", 0, 2678400, 21600, backups_alert_margin),
	KS("firewall", "netns", V_PATH_OPT, "", firewall_netns),
	KB("firewall", "netns_create", 0, firewall_netns_create),
	KI("firewall", "confirm_seconds", 2, 600, 60, firewall_confirm_seconds),
	KI("firewall", "ssh_port", 1, 65535, 22, firewall_ssh_port),
};

#define NKEYS AP_NELEM(schema)

static const char *const group_names[] = {
	"panel", "server", "pool", "limits", "paths", "log", "security", "db",
	"nginx", "session", "auth", "access", "helper", "monitor", "sites", "certs",
	"databases",
	"files",
	"tasks",
	"services",
	"firewall",
	"backups",
};

static const char INLINE_SECRET_MSG[] =
    "secrets are never written in the configuration; use "
    "security.secret_key_file or the systemd credential aapanel-secret";

static int
key_index(const char *dotted)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(schema[i].dotted, dotted) == 0)
			return (int)i;
	return -1;
}

static bool
is_group_name(const char *name)
{
	for (size_t i = 0; i < AP_NELEM(group_names); i++)
		if (strcmp(group_names[i], name) == 0)
			return true;
	return false;
}

/* A name that suggests a credential: its value must come from a file. */
static bool
is_secretish(const char *name)
{
	return strcasestr(name, "secret") != NULL ||
	    strcasestr(name, "password") != NULL ||
	    strcasestr(name, "passwd") != NULL ||
	    strcasestr(name, "token") != NULL;
}

/* Levenshtein distance, bounded to names of 64 bytes (longer → large). */
static size_t
edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t prev[65], cur[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			size_t m = sub < del ? sub : del;
			cur[j] = m < ins ? m : ins;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(prev[0]));
	}
	return prev[lb];
}

/*
 * Closest known dotted key to an unknown one, or NULL when nothing is close.
 * The same member name in another group (server.workers) counts as close.
 */
static const char *
suggest_key(const char *dotted, const char *member)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < NKEYS; i++) {
		size_t d = edit_distance(dotted, schema[i].dotted);

		if (member != NULL && strcmp(member, schema[i].name) == 0 && d > 1)
			d = 1;
		if (d < bestd) {
			bestd = d;
			best = schema[i].dotted;
		}
	}
	return best;
}

static const char *
suggest_group(const char *name)
{
	const char *best = NULL;
	size_t bestd = 3;

	for (size_t i = 0; i < AP_NELEM(group_names); i++) {
		size_t d = edit_distance(name, group_names[i]);

		if (d < bestd) {
			bestd = d;
			best = group_names[i];
		}
	}
	return best;
}

/* ---- loading ----------------------------------------------------------- */

struct loader {
	const struct ap_config_opts *opts;
	struct ap_config_problems *probs;
	struct ap_config *c;
	size_t start; /* problems present before this load */
	config_t base;
	config_t over;
	config_t set; /* panel.settings_file: what the panel's Settings screen chose */
	bool base_init;
	bool over_init;
	bool set_init;
	/* Effective setting per schema key: overlay, else base, else NULL. */
	const config_setting_t *eff[NKEYS];
	bool bad[NKEYS];
	/* File names made absolute for problems; freed with the loader. */
	char **names;
	size_t nnames;
};

/*
 * libconfig records an @include'd file by the name written in the include
 * directive; make it absolute against the include directory so every
 * problem names a file the operator can open. Borrowed from ld.
 */
static const char *
file_name(struct loader *ld, const config_t *cfg, const char *f)
{
	const char *dir = cfg != NULL ? config_get_include_dir(cfg) : NULL;

	if (f == NULL || f[0] == '/' || dir == NULL)
		return f;
	ld->names = ap_xrealloc(ld->names, (ld->nnames + 1) * sizeof(*ld->names));
	ld->names[ld->nnames] = ap_xasprintf("%s/%s", dir, f);
	return ld->names[ld->nnames++];
}

static const char *
setting_file(struct loader *ld, const config_setting_t *s)
{
	return file_name(ld, s->config, config_setting_source_file(s));
}

static void
setting_loc(struct loader *ld, const config_setting_t *s, const char **file,
    int *line)
{
	*file = ld->c->base_file;
	*line = 0;
	if (s != NULL) {
		if (config_setting_source_file(s) != NULL)
			*file = setting_file(ld, s);
		*line = config_setting_source_line(s);
	}
}

static void key_problem(struct loader *ld, size_t k, const config_setting_t *s,
    const char *fmt, ...) AP_PRINTF(4, 5);

/* A problem with key k, located at setting s (or the base file when defaulted). */
static void
key_problem(struct loader *ld, size_t k, const config_setting_t *s,
    const char *fmt, ...)
{
	const char *file;
	int line;
	char *msg = NULL;
	va_list ap;

	setting_loc(ld, s, &file, &line);
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0) {
		fprintf(stderr, "aapanel: out of memory formatting a problem\n");
		abort();
	}
	va_end(ap);
	prob_add(ld->probs, file, line, schema[k].dotted, "%s", msg);
	free(msg);
	ld->bad[k] = true;
}

/* Make p absolute against cwd without resolving symlinks. Owned. */
static char *
path_clean(const char *p)
{
	struct ap_buf b = { 0 };
	const char *s = p;

	while (*s != '\0') {
		const char *e = strchr(s, '/');
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		/* Drop empty and "." segments; keep ".." (symlinks make it non-lexical). */
		if (n > 0 && !(n == 1 && s[0] == '.')) {
			ap_buf_putc(&b, '/');
			ap_buf_append(&b, s, n);
		}
		s += n;
		if (*s == '/')
			s++;
	}
	if (b.len == 0)
		ap_buf_putc(&b, '/');
	return b.data;
}

/* Join rel onto base unless rel is absolute; the result is clean and owned. */
static char *
path_resolve(const char *base, const char *rel)
{
	char *joined, *out;

	if (rel[0] == '/')
		return path_clean(rel);
	joined = ap_xasprintf("%s/%s", base, rel);
	out = path_clean(joined);
	free(joined);
	return out;
}

static char *
path_absolute(const char *p)
{
	char cwd[PATH_MAX];

	if (p[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return path_clean(p);
	return path_resolve(cwd, p);
}

/* Read at most max bytes of an open fd. Owned, NUL-terminated. */
static enum ap_err
read_fd_bounded(int fd, size_t max, char **data, size_t *len)
{
	char *buf = ap_xmalloc(max + 2);
	size_t n = 0;
	enum ap_err err = AP_OK;

	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = AP_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			err = AP_ERR_TOOBIG;
			goto out;
		}
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	return err;
}

static enum ap_err
read_file_bounded(const char *path, size_t max, char **data, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	enum ap_err err;

	if (fd < 0)
		return AP_ERR_IO;
	err = read_fd_bounded(fd, max, data, len);
	close(fd);
	return err;
}

/*
 * Skip the numeric literal at *pp. True when it is a plain integer that
 * libconfig would truncate to 32 bits (no L suffix, not a float).
 */
static bool
number_is_wide(const char **pp)
{
	const char *p = *pp;
	bool hex = false, wide = false, neg = *p == '-';
	unsigned long long v = 0, limit;

	if (*p == '-' || *p == '+')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		hex = true;
		p += 2;
	}
	for (; hex ? isxdigit((unsigned char)*p) : isdigit((unsigned char)*p); p++) {
		unsigned d = isdigit((unsigned char)*p) ? (unsigned)(*p - '0')
		    : (unsigned)(tolower((unsigned char)*p) - 'a' + 10);

		if (v > 0xffffffffULL)
			wide = true; /* keep scanning; v may wrap, wide stays */
		v = v * (hex ? 16 : 10) + d;
	}
	/* Floats and L-suffixed integers are parsed correctly by libconfig. */
	if (*p == '.' || *p == 'e' || *p == 'E' || *p == 'L') {
		while (isalnum((unsigned char)*p) || *p == '.' ||
		    ((*p == '-' || *p == '+') && (p[-1] == 'e' || p[-1] == 'E')))
			p++;
		*pp = p;
		return false;
	}
	*pp = p;
	limit = neg ? 2147483648ULL : hex ? 0xffffffffULL : 2147483647ULL;
	return wide || v > limit;
}

/*
 * libconfig 1.5 silently truncates a decimal literal that does not fit in
 * 32 bits unless it carries an L suffix (17179869184 reads as 0). Scan the
 * text for such literals so limits.max_upload = 17179869184; is reported
 * instead of becoming a different number.
 */
static void
scan_wide_ints(struct loader *ld, const char *file, const char *text)
{
	char stack[8][65];
	char pending[65] = "";
	int depth = 0, line = 1;
	const char *p = text;

	while (*p != '\0') {
		if (*p == '\n') {
			line++;
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			while (*p != '\0' && *p != '\n')
				p++;
		} else if (p[0] == '/' && p[1] == '*') {
			for (p += 2; *p != '\0' && !(p[0] == '*' && p[1] == '/'); p++)
				if (*p == '\n')
					line++;
			if (*p != '\0')
				p += 2;
		} else if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '\n')
					line++;
			}
			if (*p != '\0')
				p++;
		} else if (isalpha((unsigned char)*p) || *p == '*') {
			size_t n = 0;

			while (isalnum((unsigned char)*p) || *p == '_' || *p == '-' ||
			    *p == '*') {
				if (n + 1 < sizeof(pending))
					pending[n++] = *p;
				p++;
			}
			pending[n] = '\0';
		} else if (*p == '{') {
			if (depth < 8)
				memcpy(stack[depth], pending, sizeof(pending));
			depth++;
			p++;
		} else if (*p == '}') {
			if (depth > 0)
				depth--;
			p++;
		} else if (isdigit((unsigned char)*p) ||
		    ((*p == '-' || *p == '+') && isdigit((unsigned char)p[1]))) {
			const char *start = p;

			if (number_is_wide(&p)) {
				char key[140];
				const char *g = depth >= 1 && depth <= 8
				    ? stack[depth - 1] : "";

				snprintf(key, sizeof(key), "%s%s%s", g,
				    g[0] != '\0' ? "." : "", pending);
				/* One problem per key: no range check of the truncated value. */
				if (key_index(key) >= 0)
					ld->bad[key_index(key)] = true;
				prob_add(ld->probs, file, line,
				    key[0] != '\0' ? key : NULL,
				    "integer %.*s does not fit in 32 bits; write it "
				    "with an L suffix (%.*sL)",
				    (int)(p - start), start, (int)(p - start), start);
			}
		} else {
			p++;
		}
	}
}

/*
 * Parse one file into cfg (*inited once config_init ran). required: a
 * missing file is a problem. Returns true when cfg holds a parsed file.
 */
static bool
load_file(struct loader *ld, const char *path, config_t *cfg, bool *inited,
    bool required)
{
	char *text = NULL, *dir = NULL, *slash;
	size_t len = 0;
	enum ap_err err;
	bool ok = false;

	err = read_file_bounded(path, CFG_MAX_FILE, &text, &len);
	if (err == AP_ERR_IO && errno == ENOENT && !required)
		goto out;
	if (err == AP_ERR_IO) {
		prob_add(ld->probs, path, 0, NULL, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (err == AP_ERR_TOOBIG) {
		prob_add(ld->probs, path, 0, NULL, "file is larger than %d bytes",
		    CFG_MAX_FILE);
		goto out;
	}
	if (memchr(text, '\0', len) != NULL) {
		prob_add(ld->probs, path, 0, NULL, "file contains a NUL byte");
		goto out;
	}
	config_init(cfg);
	*inited = true;
	/* @include paths are relative to the including file, not to the cwd. */
	dir = ap_xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL) {
		*slash = '\0';
		config_set_include_dir(cfg, dir[0] != '\0' ? dir : "/");
	}
	if (config_read_file(cfg, path) != CONFIG_TRUE) {
		const char *ef = config_error_file(cfg);

		prob_add(ld->probs, ef != NULL ? file_name(ld, cfg, ef) : path,
		    config_error_line(cfg),
		    NULL, "%s", config_error_text(cfg));
		goto out;
	}
	scan_wide_ints(ld, path, text);
	ok = true;
out:
	free(dir);
	free(text);
	return ok;
}

/* Flag unknown groups and keys (and inline secrets) anywhere in cfg. */
static void
check_unknown(struct loader *ld, config_t *cfg)
{
	config_setting_t *root = config_root_setting(cfg);
	int n = config_setting_length(root);

	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
		const char *gname = config_setting_name(g);
		const char *file = setting_file(ld, g);
		int line = config_setting_source_line(g);

		if (gname == NULL)
			continue;
		if (!is_group_name(gname)) {
			const char *sug = config_setting_is_group(g)
			    ? suggest_group(gname) : suggest_key(gname, gname);

			if (!config_setting_is_group(g) && is_secretish(gname))
				prob_add(ld->probs, file, line, gname, "%s",
				    INLINE_SECRET_MSG);
			else if (sug != NULL)
				prob_add(ld->probs, file, line, gname,
				    "unknown %s '%s' (did you mean '%s'?)",
				    config_setting_is_group(g) ? "group" : "key", gname, sug);
			else
				prob_add(ld->probs, file, line, gname,
				    "unknown %s '%s'",
				    config_setting_is_group(g) ? "group" : "key", gname);
			continue;
		}
		if (!config_setting_is_group(g)) {
			prob_add(ld->probs, file, line, gname,
			    "must be a group ({ ... })");
			continue;
		}
		int m = config_setting_length(g);

		for (int j = 0; j < m; j++) {
			config_setting_t *s = config_setting_get_elem(g, (unsigned)j);
			const char *name = config_setting_name(s);
			char *dotted;

			if (name == NULL)
				continue;
			dotted = ap_xasprintf("%s.%s", gname, name);
			file = setting_file(ld, s);
			line = config_setting_source_line(s);
			if (key_index(dotted) < 0) {
				const char *sug = suggest_key(dotted, name);

				if (is_secretish(name))
					prob_add(ld->probs, file, line, dotted, "%s",
					    INLINE_SECRET_MSG);
				else if (sug != NULL)
					prob_add(ld->probs, file, line, dotted,
					    "unknown key '%s' (did you mean '%s'?)", dotted,
					    sug);
				else
					prob_add(ld->probs, file, line, dotted,
					    "unknown key '%s'", dotted);
			}
			free(dotted);
		}
	}
}

static const char *
type_reason(enum vkind k)
{
	switch (k) {
	case V_INT:
	case V_LL:
		return "must be an integer";
	case V_BOOL:
		return "must be true or false";
	default:
		return "must be a string";
	}
}

static bool
type_ok(enum vkind k, const config_setting_t *s)
{
	int t = config_setting_type(s);

	switch (k) {
	case V_INT:
	case V_LL:
		return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64;
	case V_BOOL:
		return t == CONFIG_TYPE_BOOL;
	default:
		return t == CONFIG_TYPE_STRING;
	}
}

static bool
has_control(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static size_t
utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

static bool
base_path_ok(const char *s)
{
	size_t seg = 0;

	if (strcmp(s, "/") == 0)
		return true;
	if (s[0] != '/' || strlen(s) > 255)
		return false;
	for (s++; *s != '\0'; s++) {
		if (*s == '/') {
			if (seg == 0)
				return false;
			seg = 0;
		} else if (isalnum((unsigned char)*s) || *s == '_' || *s == '-') {
			if (++seg > 64)
				return false;
		} else {
			return false;
		}
	}
	return seg > 0; /* no trailing slash */
}

static bool
group_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0)
		return true;
	if (n > 32 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		/* A trailing $ is allowed (Samba machine accounts). */
		if (ch == '$' && i == n - 1)
			continue;
		if (!(isalnum(ch) || ch == '_' || ch == '-' || ch == '.'))
			return false;
	}
	return true;
}

/* sites.*_dir: relative, segments of [A-Za-z0-9._{}-], none "." or "..", no empty segment. */
static bool
rel_path_ok(const char *s)
{
	size_t seg = 0;
	const char *start = s;

	if (s[0] == '\0' || s[0] == '/' || strlen(s) > 255)
		return false;
	for (;; s++) {
		if (*s == '/' || *s == '\0') {
			if (seg == 0 || (seg == 1 && start[0] == '.') ||
			    (seg == 2 && start[0] == '.' && start[1] == '.'))
				return false;
			if (*s == '\0')
				return true;
			seg = 0;
			start = s + 1;
			continue;
		}
		if (!(isalnum((unsigned char)*s) || strchr("._{}-", *s) != NULL))
			return false;
		seg++;
	}
}

static bool
addr_ok(const char *s)
{
	unsigned char buf[16];

	return s[0] == '\0' || inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* helper.panel_user: a name like a group name, or a uid below (uid_t)-1. */
static bool
user_ok(const char *s)
{
	long long uid;
	const char *errstr;

	if (s[0] >= '0' && s[0] <= '9')
		return ap_strtonum(s, 0, 4294967294LL, &uid, &errstr);
	return group_name_ok(s);
}

static bool
mode_parse(const char *s, int *out)
{
	size_t n = strlen(s);
	int v = 0;

	if (n < 3 || n > 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '7')
			return false;
		v = v * 8 + (s[i] - '0');
	}
	if (v < 0600 || v > 0777)
		return false;
	*out = v;
	return true;
}

/* ---- DSN --------------------------------------------------------------- */

/*
 * Check a DSN with the data layer's parser (dsn.h), the one the drivers
 * connect with. On success *norm is the owned form to store: sqlite DSNs
 * become "sqlite:/absolute/path" (relative paths resolved against root),
 * network DSNs are kept as written. On failure why holds the reason; the
 * DSN itself is never echoed.
 */
static bool
dsn_check(const char *dsn, const char *root, char **norm, char *why, size_t whylen)
{
	struct ap_db_dsn d;

	if (ap_db_dsn_parse(dsn, &d, why, whylen) != AP_DB_OK)
		return false;
	if (d.backend == AP_DB_SQLITE) {
		char *path = path_resolve(root, d.path);

		*norm = ap_xasprintf("sqlite:%s", path);
		free(path);
	} else {
		*norm = ap_xstrdup(dsn);
	}
	ap_db_dsn_free(&d);
	return true;
}

/* ---- per-key validation ------------------------------------------------ */

static bool
level_ok(const char *s)
{
	enum ap_log_level l;

	return ap_log_level_parse(s, &l);
}

/*
 * Validate key k's value from setting s (NULL = the built-in default). With
 * store, the converted value goes into the config struct; a shadowed base
 * value is checked (store = false) but only the effective one touches the
 * filesystem.
 */
static void
check_key(struct loader *ld, size_t k, const config_setting_t *s, bool store)
{
	const struct key_def *d = &schema[k];
	struct ap_config *c = ld->c;
	char *field = (char *)c + d->off;
	const char *str = d->def_s;
	long long iv = d->def_i;
	char why[160];
	char *norm = NULL;

	if (s != NULL) {
		if (!type_ok(d->kind, s)) {
			key_problem(ld, k, s, "%s", type_reason(d->kind));
			return;
		}
		if (d->kind == V_INT || d->kind == V_LL)
			iv = config_setting_get_int64(s);
		else if (d->kind == V_BOOL)
			iv = config_setting_get_bool(s);
		else
			str = config_setting_get_string(s);
	}
	switch (d->kind) {
	case V_INT:
	case V_LL:
		if (iv < d->min || iv > d->max) {
			key_problem(ld, k, s, "must be between %lld and %lld (got %lld)",
			    d->min, d->max, iv);
			return;
		}
		if (store && d->kind == V_INT)
			*(int *)(void *)field = (int)iv;
		else if (store)
			*(long long *)(void *)field = iv;
		return;
	case V_BOOL:
		if (store)
			*(bool *)(void *)field = iv != 0;
		return;
	case V_MODE: {
		int mode;

		if (!mode_parse(str, &mode))
			key_problem(ld, k, s,
			    "must be an octal mode between \"0600\" and \"0777\"");
		else if (store)
			*(int *)(void *)field = mode;
		return;
	}
	default:
		break;
	}
	if (!ap_utf8_valid(str, strlen(str)) || has_control(str)) {
		key_problem(ld, k, s, "must be valid UTF-8 without control characters");
		return;
	}
	switch (d->kind) {
	case V_NAME:
		if (utf8_chars(str) < 1 || utf8_chars(str) > 64) {
			key_problem(ld, k, s, "must be 1 to 64 characters long");
			return;
		}
		break;
	case V_LANG_OPT:
		if (str[0] == '\0')
			break;
		/* fall through */
	case V_LANG:
		if (strcmp(str, "en") != 0 && strcmp(str, "ar") != 0) {
			key_problem(ld, k, s, "must be \"en\" or \"ar\"");
			return;
		}
		break;
	case V_BASEPATH:
		if (!base_path_ok(str)) {
			key_problem(ld, k, s,
			    "must be \"/\" or \"/\" followed by segments of 1 to 64 "
			    "letters, digits, _ or - separated by /, without a "
			    "trailing slash");
			return;
		}
		break;
	case V_GROUP:
		if (!group_name_ok(str)) {
			key_problem(ld, k, s,
			    "must be empty or a group name (letters, digits, _ - ., "
			    "at most 32 characters, not starting with a digit)");
			return;
		}
		break;
	case V_USER:
		if (!user_ok(str)) {
			key_problem(ld, k, s,
			    "must be empty, a user name (letters, digits, _ - ., at most 32 "
			    "characters, not starting with a digit) or a numeric uid");
			return;
		}
		break;
	case V_REL:
		if (!rel_path_ok(str)) {
			key_problem(ld, k, s,
			    "must be a relative path (beneath helper.sandbox_root) of segments of "
			    "letters, digits and . _ { } -, without . or .. segments");
			return;
		}
		break;
	case V_ADDR:
		if (!addr_ok(str)) {
			key_problem(ld, k, s, "must be empty or an IPv4 or IPv6 address");
			return;
		}
		break;
	case V_LEVEL:
		if (!level_ok(str)) {
			key_problem(ld, k, s, "must be debug, info, warn or error");
			return;
		}
		break;
	case V_DSN:
		if (!dsn_check(str, c->root_dir, &norm, why, sizeof(why))) {
			key_problem(ld, k, s, "%s", why);
			return;
		}
		break;
	case V_CIDRS: {
		struct ap_cidr *nets = NULL;
		size_t nn = 0;

		if (!ap_cidr_list_parse(str, &nets, &nn, why, sizeof(why))) {
			key_problem(ld, k, s,
			    "'%s' is not an address or network (e.g. 10.0.0.0/8, 2001:db8::/32)", why);
			return;
		}
		free(nets);
		break;
	}
	case V_ORIGINS: {
		struct ap_origin *ov = NULL;
		size_t on = 0;

		if (!ap_origin_list_parse(str, &ov, &on, why, sizeof(why))) {
			key_problem(ld, k, s,
			    "'%s' is not an origin: scheme://host[:port] with http or https, no path "
			    "(e.g. \"https://panel.example.com\")", why);
			return;
		}
		free(ov);
		break;
	}
	case V_FWDHDR:
		if (str[0] != '\0' && strcasecmp(str, "X-Forwarded-For") != 0 &&
		    strcasecmp(str, "X-Real-IP") != 0) {
			key_problem(ld, k, s, "must be \"X-Forwarded-For\", \"X-Real-IP\" or \"\" (none)");
			return;
		}
		break;
	case V_UNITS: {
		char bad[AP_UNIT_NAME_MAX + 1];
		const char *r = strlen(str) > 4096 ? "must be at most 4096 bytes long" : ap_unit_list_check(str, bad, sizeof(bad));

		if (r != NULL) {
			key_problem(ld, k, s, "'%s' %s", bad, r);
			return;
		}
		break;
	}
	case V_UNIT: {
		const char *r = ap_check_unit_name(str, strlen(str));
		size_t n = strlen(str);

		if (r == NULL && (n < 9 || strcmp(str + n - 8, ".service") != 0))
			r = "must end in .service";
		if (r != NULL) {
			key_problem(ld, k, s, "%s (e.g. \"aapanel.service\")", r);
			return;
		}
		break;
	}
	case V_TEXT:
		if (strlen(str) > 255) {
			key_problem(ld, k, s, "must be at most 255 bytes long");
			return;
		}
		break;
	case V_ROOTS: {
		const char *r = strlen(str) > 8192 ? "must be at most 8192 bytes long" :
		    ap_check_file_roots(str, strlen(str));

		if (r != NULL) {
			key_problem(ld, k, s, "%s (e.g. \"www:/srv/www, data:/srv/data\")", r);
			return;
		}
		break;
	}
	case V_SOCKET:
	case V_PATH:
	case V_DIR:
	case V_PATH_OPT:
		if (str[0] == '\0' && d->kind != V_PATH_OPT) {
			key_problem(ld, k, s, "must not be empty");
			return;
		}
		if (str[0] != '\0')
			norm = path_resolve(c->root_dir, str);
		if (norm != NULL && strlen(norm) >= PATH_MAX) {
			key_problem(ld, k, s, "path is too long");
			goto out;
		}
		if (d->kind == V_SOCKET && strlen(norm) > SOCKET_PATH_MAX) {
			key_problem(ld, k, s,
			    "resolves to %zu bytes; a unix socket path is at most %d",
			    strlen(norm), SOCKET_PATH_MAX);
			goto out;
		}
		if (d->kind == V_DIR && store) {
			struct stat st;

			if (stat(norm, &st) != 0) {
				key_problem(ld, k, s, "directory %s: %s", norm,
				    strerror(errno));
				goto out;
			}
			if (!S_ISDIR(st.st_mode)) {
				key_problem(ld, k, s, "%s is not a directory", norm);
				goto out;
			}
		}
		break;
	default:
		break;
	}
	if (store) {
		char **slot = (char **)(void *)field;

		free(*slot);
		*slot = norm != NULL ? norm : ap_xstrdup(str);
		norm = NULL;
	}
out:
	free(norm);
}

static const config_setting_t *
lookup(config_t *cfg, bool inited, const struct key_def *d)
{
	config_setting_t *g;

	if (!inited)
		return NULL;
	g = config_lookup(cfg, d->group);
	if (g == NULL || !config_setting_is_group(g))
		return NULL;
	return config_setting_get_member(g, d->name);
}

static void
check_keys(struct loader *ld)
{
	for (size_t k = 0; k < NKEYS; k++) {
		const config_setting_t *sb = lookup(&ld->base, ld->base_init, &schema[k]);
		const config_setting_t *so = lookup(&ld->over, ld->over_init, &schema[k]);
		const config_setting_t *ss = lookup(&ld->set, ld->set_init, &schema[k]);

		if (ld->bad[k])
			continue;
		if (so != NULL && sb != NULL)
			check_key(ld, k, sb, false);
		if (ss != NULL && (so != NULL || sb != NULL))
			check_key(ld, k, so != NULL ? so : sb, false);
		ld->eff[k] = ss != NULL ? ss : so != NULL ? so : sb;
		check_key(ld, k, ld->eff[k], true);
	}
}

static size_t
kidx(const char *dotted)
{
	int i = key_index(dotted);

	if (i < 0)
		abort(); /* a typo in this file, not in the user's */
	return (size_t)i;
}

/* Rules that tie keys together; each is skipped when a key already failed. */
static void
check_relations(struct loader *ld)
{
	struct ap_config *c = ld->c;
	size_t w = kidx("pool.workers"), mw = kidx("pool.max_workers");
	size_t mr = kidx("pool.max_requests"), j = kidx("pool.max_requests_jitter");
	size_t mb = kidx("limits.max_body"), mu = kidx("limits.max_upload");
	size_t rt = kidx("pool.request_timeout"), nt = kidx("nginx.fastcgi_read_timeout");

	if (!ld->bad[w] && !ld->bad[mw] && c->workers > c->max_workers)
		key_problem(ld, w, ld->eff[w],
		    "must not exceed pool.max_workers (%d)", c->max_workers);
	if (!ld->bad[mr] && !ld->bad[j] && c->max_requests > 0 &&
	    c->max_requests_jitter > c->max_requests)
		key_problem(ld, j, ld->eff[j],
		    "must not exceed pool.max_requests (%d)", c->max_requests);
	if (!ld->bad[mb] && !ld->bad[mu] && c->max_upload < c->max_body)
		key_problem(ld, mu, ld->eff[mu],
		    "must be at least limits.max_body (%lld)", c->max_body);
	if (!ld->bad[rt] && !ld->bad[nt] &&
	    c->nginx_read_timeout <= c->request_timeout)
		key_problem(ld, nt, ld->eff[nt],
		    "must be greater than pool.request_timeout (%d) so the "
		    "worker times out before nginx does",
		    c->request_timeout);
}

/*
 * The helper's keys together: its socket is not the panel's; development
 * and test keep every system path in a sandbox, never the machine's root.
 * (An empty helper.panel_user in production is refused by the helper when
 * it starts, not here: the panel itself does not need the key.)
 */
static void
check_helper(struct loader *ld)
{
	struct ap_config *c = ld->c;
	size_t hs = kidx("helper.socket"), ss = kidx("server.socket");
	size_t sr = kidx("helper.sandbox_root");

	if (!ld->bad[hs] && !ld->bad[ss] && strcmp(c->helper_socket, c->socket_path) == 0)
		key_problem(ld, hs, ld->eff[hs], "must not be server.socket (%s)", c->socket_path);
	if (!ld->bad[sr] && c->profile != AP_PROFILE_PRODUCTION &&
	    strcmp(c->helper_sandbox_root, "/") == 0)
		key_problem(ld, sr, ld->eff[sr],
		    "must not be / in the %s profile (the helper works in a sandbox there)",
		    profile_names[c->profile]);
}

/* "smtp://host[:port]" or "smtps://..." (host a name, an IPv4 address or [IPv6]). */
static bool
smtp_url_ok(const char *u)
{
	const char *h;

	if (strncmp(u, "smtp://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "smtps://", 8) == 0)
		h = u + 8;
	else
		return false;
	if (*h == '\0')
		return false;
	for (; *h != '\0'; h++)
		if (!isalnum((unsigned char)*h) && strchr(".-:[]", *h) == NULL && !(*h == '/' && h[1] == '\0'))
			return false;
	return true;
}

/* The sampler's socket (default beside the panel's), the SMTP server and its sender. */
static void
check_monitor(struct loader *ld)
{
	struct ap_config *c = ld->c;
	size_t ms = kidx("monitor.socket"), mu = kidx("monitor.smtp_url"), mf = kidx("monitor.smtp_from");
	size_t rd = kidx("paths.run_dir");

	if (!ld->bad[ms] && !ld->bad[rd] && c->monitor_socket != NULL && c->monitor_socket[0] == '\0' &&
	    c->run_dir != NULL) {
		free(c->monitor_socket);
		c->monitor_socket = ap_xasprintf("%s/aapanel-events.sock", c->run_dir);
	}
	if (!ld->bad[ms] && c->monitor_socket != NULL) {
		if (strlen(c->monitor_socket) > SOCKET_PATH_MAX)
			key_problem(ld, ms, ld->eff[ms], "resolves to %zu bytes; a unix socket path is at most %d",
			    strlen(c->monitor_socket), SOCKET_PATH_MAX);
		else if ((c->socket_path && strcmp(c->monitor_socket, c->socket_path) == 0) ||
		    (c->helper_socket && strcmp(c->monitor_socket, c->helper_socket) == 0))
			key_problem(ld, ms, ld->eff[ms], "must not be server.socket or helper.socket");
	}
	if (!ld->bad[mu] && c->monitor_smtp_url != NULL && c->monitor_smtp_url[0] != '\0' &&
	    !smtp_url_ok(c->monitor_smtp_url))
		key_problem(ld, mu, ld->eff[mu],
		    "must be \"\" or smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT] (TLS from the start)");
	if (!ld->bad[mf] && c->monitor_smtp_from != NULL) {
		const char *f = c->monitor_smtp_from, *at = strchr(f, '@');

		if (f[0] != '\0' && (at == NULL || at == f || at[1] == '\0' || strpbrk(f, " <>\"\\,;") != NULL))
			key_problem(ld, mf, ld->eff[mf], "must be an e-mail address (user@example.com)");
		else if (f[0] == '\0' && !ld->bad[mu] && c->monitor_smtp_url && c->monitor_smtp_url[0] != '\0')
			key_problem(ld, mf, ld->eff[mf], "is required when monitor.smtp_url is set");
	}
}

/* ---- secret key -------------------------------------------------------- */

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * True when the text is one of the well-known placeholder values, possibly
 * repeated or padded: after removing every placeholder word from the
 * lower-cased letters and digits, what is left has fewer than 8 distinct
 * characters.
 */
static bool
is_placeholder(const unsigned char *key, size_t n)
{
	static const char *const words[] = {
		"yoursecretkeyhere", "yoursecretkey", "supersecretkey",
		"djangoinsecure", "development", "supersecret", "changethis",
		"secretkey", "replaceme", "changeme", "insecure", "password",
		"example", "mysecret", "notsecret", "default", "testing", "aapanel",
		"secret", "fixme", "admin", "dummy", "todo", "test", "dev", "key",
		"xxx",
	};
	char norm[129], rest[129];
	size_t nn = 0, rn = 0;
	bool found = false, seen[256] = { false };
	int distinct = 0;

	for (size_t i = 0; i < n && nn + 1 < sizeof(norm); i++)
		if (isalnum(key[i]))
			norm[nn++] = (char)tolower(key[i]);
	norm[nn] = '\0';
	for (size_t i = 0; i < nn;) {
		size_t w;

		for (w = 0; w < AP_NELEM(words); w++) {
			size_t wl = strlen(words[w]);

			if (strncmp(norm + i, words[w], wl) == 0) {
				i += wl;
				found = true;
				break;
			}
		}
		if (w == AP_NELEM(words))
			rest[rn++] = norm[i++];
	}
	if (!found)
		return false;
	for (size_t i = 0; i < rn; i++) {
		if (!seen[(unsigned char)rest[i]]) {
			seen[(unsigned char)rest[i]] = true;
			distinct++;
		}
	}
	return distinct < 8;
}

/* NULL when the bytes look random enough, else the reason. */
static const char *
low_entropy(const unsigned char *k, size_t n)
{
	unsigned counts[256] = { 0 };
	int distinct = 0;
	double h = 0;
	size_t p;
	bool seq = true;

	for (size_t i = 0; i < n; i++)
		if (counts[k[i]]++ == 0)
			distinct++;
	if (distinct < 12)
		return "has too little entropy (fewer than 12 distinct byte values)";
	for (int b = 0; b < 256; b++) {
		if (counts[b] > 0) {
			double f = (double)counts[b] / (double)n;

			h -= f * log2(f);
		}
	}
	if (h < 3.5)
		return "has too little entropy (below 3.5 bits per byte)";
	for (p = 1; p <= n / 2; p++) {
		size_t i;

		for (i = p; i < n && k[i] == k[i - p]; i++)
			;
		if (i == n)
			return "has too little entropy (a short pattern repeated)";
	}
	for (size_t i = 2; i < n; i++)
		if ((unsigned char)(k[i] - k[i - 1]) != (unsigned char)(k[1] - k[0]))
			seq = false;
	if (seq)
		return "has too little entropy (a simple sequence)";
	return NULL;
}

/*
 * Turn key file content into key bytes: 64..128 hex characters decode,
 * anything else is used raw; one trailing newline (\n or \r\n) is not
 * part of the key. Fills
 * why and returns false when the key is unusable. Never echoes the key.
 */
static bool
secret_decode(const char *text, size_t n, unsigned char *key, size_t *keylen,
    char *why, size_t whylen)
{
	bool hex = true;
	const char *ent;

	/* One line ending, also CRLF from an editor on another system. */
	if (n > 0 && text[n - 1] == '\n')
		n--;
	if (n > 0 && text[n - 1] == '\r')
		n--;
	if (n == 0) {
		snprintf(why, whylen, "is empty");
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (hexval(text[i]) < 0)
			hex = false;
	if (hex && n >= 64 && n <= 128 && n % 2 == 0) {
		for (size_t i = 0; i < n / 2; i++)
			key[i] = (unsigned char)(hexval(text[2 * i]) * 16 +
			    hexval(text[2 * i + 1]));
		*keylen = n / 2;
	} else {
		if (n > 64) {
			snprintf(why, whylen,
			    "is too long (%zu bytes; at most 64 raw bytes or 128 "
			    "hex characters)", n);
			return false;
		}
		memcpy(key, text, n);
		*keylen = n;
	}
	if (is_placeholder((const unsigned char *)text, n) ||
	    is_placeholder(key, *keylen)) {
		snprintf(why, whylen,
		    "is a well-known placeholder; generate a key with: openssl "
		    "rand -hex 32");
		goto fail;
	}
	if (*keylen < KEY_MIN_BYTES) {
		snprintf(why, whylen,
		    "is too short (%zu bytes; at least %d bytes or 64 hex "
		    "characters are required)", *keylen, KEY_MIN_BYTES);
		goto fail;
	}
	ent = low_entropy(key, *keylen);
	if (ent != NULL) {
		snprintf(why, whylen, "%s; generate a key with: openssl rand -hex 32",
		    ent);
		goto fail;
	}
	return true;
fail:
	explicit_bzero(key, 64);
	*keylen = 0;
	return false;
}

/*
 * Read and judge a key file. check_mode: refuse group/other access
 * (production key files). Returns false with why filled on any problem.
 * ENOENT is reported through *missing so callers can fall through.
 */
static bool
secret_read(const char *path, bool check_mode, struct ap_config *c,
    bool *missing, char *why, size_t whylen)
{
	int fd;
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	bool ok = false;
	enum ap_err err;

	*missing = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		*missing = errno == ENOENT;
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(why, whylen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "is not a regular file");
		goto out;
	}
	if (check_mode && (st.st_mode & 0044) != 0) {
		snprintf(why, whylen,
		    "must not be readable by group or others (chmod 600)");
		goto out;
	}
	if (check_mode && (st.st_mode & 0022) != 0) {
		snprintf(why, whylen,
		    "must not be writable by group or others (chmod 600)");
		goto out;
	}
	err = read_fd_bounded(fd, KEY_MAX_FILE, &text, &len);
	if (err == AP_ERR_TOOBIG) {
		snprintf(why, whylen, "is larger than %d bytes", KEY_MAX_FILE);
		goto out;
	}
	if (err != AP_OK) {
		snprintf(why, whylen, "cannot read: %s", strerror(errno));
		goto out;
	}
	ok = secret_decode(text, len, c->secret_key, &c->secret_key_len, why,
	    whylen);
out:
	if (text != NULL) {
		explicit_bzero(text, len);
		free(text);
	}
	close(fd);
	return ok;
}

/* mkdir -p with 0700 for the directories it creates. */
static bool
mkdir_p(const char *dir)
{
	char *p = ap_xstrdup(dir);
	bool ok = true;

	for (char *s = p + 1; ok; s++) {
		if (*s == '/' || *s == '\0') {
			char save = *s;

			*s = '\0';
			if (mkdir(p, 0700) != 0 && errno != EEXIST)
				ok = false;
			*s = save;
			if (save == '\0')
				break;
		}
	}
	free(p);
	return ok;
}

/* Write 32 fresh random bytes as hex to path atomically (temp + rename). */
static bool
secret_generate(const char *var_dir, const char *path, struct ap_config *c,
    char *why, size_t whylen)
{
	char hex[2 * KEY_MIN_BYTES + 2];
	char *tmp = NULL;
	int fd = -1;
	bool ok = false;

	if (!mkdir_p(var_dir)) {
		snprintf(why, whylen, "cannot create %s: %s", var_dir, strerror(errno));
		goto out;
	}
	if (ap_random_bytes(c->secret_key, KEY_MIN_BYTES) != AP_OK) {
		snprintf(why, whylen, "no randomness available: %s", strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < KEY_MIN_BYTES; i++)
		snprintf(hex + 2 * i, 3, "%02x", c->secret_key[i]);
	hex[2 * KEY_MIN_BYTES] = '\n';
	tmp = ap_xasprintf("%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC); /* mkstemp creates mode 0600 */
	if (fd < 0) {
		snprintf(why, whylen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (write(fd, hex, sizeof(hex) - 1) != (ssize_t)(sizeof(hex) - 1) ||
	    fsync(fd) != 0) {
		snprintf(why, whylen, "cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) != 0) {
		snprintf(why, whylen, "cannot rename to %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	c->secret_key_len = KEY_MIN_BYTES;
	ok = true;
out:
	explicit_bzero(hex, sizeof(hex));
	if (!ok) {
		explicit_bzero(c->secret_key, sizeof(c->secret_key));
		c->secret_key_len = 0;
	}
	if (fd >= 0)
		close(fd);
	free(tmp);
	return ok;
}

/*
 * Find the secret key. The systemd credential comes first: with
 * LoadCredential= the unit hands the service a key it may not be allowed to
 * read from secret_key_file itself. Then secret_key_file, then (development
 * and test, when asked) a key generated into <var_dir>/secret_key.
 */
static void
load_secret(struct loader *ld)
{
	struct ap_config *c = ld->c;
	const struct ap_config_opts *o = ld->opts;
	bool prod = c->profile == AP_PROFILE_PRODUCTION;
	size_t kf = kidx("security.secret_key_file"), vd = kidx("paths.var_dir");
	const char *file, *credir;
	char why[200];
	char *path = NULL;
	bool missing;
	int line;

	if (ld->bad[kf])
		return;
	credir = o->credentials_dir != NULL ? o->credentials_dir
	    : getenv("CREDENTIALS_DIRECTORY");
	if (credir != NULL && credir[0] != '\0') {
		path = ap_xasprintf("%s/%s", credir, CREDENTIAL_NAME);
		/* systemd owns the credential's mode; don't second-guess it. */
		if (secret_read(path, false, c, &missing, why, sizeof(why))) {
			c->secret_key_source = ap_xstrdup("credential " CREDENTIAL_NAME);
			goto out;
		}
		if (!missing) {
			prob_add(ld->probs, path, 0, "security.secret_key", "%s", why);
			goto out;
		}
		free(path);
		path = NULL;
	}
	if (c->secret_key_file != NULL && c->secret_key_file[0] != '\0') {
		setting_loc(ld, ld->eff[kf], &file, &line);
		if (secret_read(c->secret_key_file, prod, c, &missing, why, sizeof(why)))
			c->secret_key_source = ap_xasprintf("file %s", c->secret_key_file);
		else
			prob_add(ld->probs, file, line, schema[kf].dotted, "%s: %s",
			    c->secret_key_file, why);
		goto out;
	}
	if (!prod && o->generate_secret && !ld->bad[vd] && c->var_dir != NULL) {
		path = ap_xasprintf("%s/secret_key", c->var_dir);
		if (secret_read(path, false, c, &missing, why, sizeof(why))) {
			c->secret_key_source = ap_xasprintf("generated %s", path);
			goto out;
		}
		if (!missing) {
			prob_add(ld->probs, path, 0, "security.secret_key",
			    "%s (delete the file to generate a new key)", why);
			goto out;
		}
		/* Don't leave files behind for a configuration that is rejected. */
		if (ld->probs->n > ld->start)
			goto out;
		if (secret_generate(c->var_dir, path, c, why, sizeof(why))) {
			c->secret_key_source = ap_xasprintf("generated %s", path);
			AP_INFO("generated a new secret key in %s", path);
		} else {
			prob_add(ld->probs, path, 0, "security.secret_key", "%s", why);
		}
		goto out;
	}
	if (prod) {
		setting_loc(ld, ld->eff[kf], &file, &line);
		prob_add(ld->probs, file, line, schema[kf].dotted,
		    "production requires a secret key: set "
		    "security.secret_key_file or provide the systemd credential "
		    "aapanel-secret");
	}
out:
	free(path);
}

static void
check_production(struct loader *ld)
{
	struct ap_config *c = ld->c;
	size_t dbg = kidx("panel.debug"), lvl = kidx("log.level");

	if (c->profile != AP_PROFILE_PRODUCTION)
		return;
	if (!ld->bad[dbg] && c->debug)
		key_problem(ld, dbg, ld->eff[dbg],
		    "must be false in production (debug output exposes internals)");
	if (!ld->bad[lvl] && c->log_level != NULL &&
	    strcmp(c->log_level, "debug") == 0)
		key_problem(ld, lvl, ld->eff[lvl],
		    "must not be debug in production (debug logging records "
		    "request details)");
}

/* ---- the settings layer (panel.settings_file) ------------------------ */

const char *const ap_config_setting_keys[] = {
	"panel.base_path", "access.allow", "session.idle_timeout", "session.absolute_timeout", NULL,
};

static bool
is_setting_key(const char *dotted)
{
	for (size_t i = 0; ap_config_setting_keys[i] != NULL; i++)
		if (strcmp(ap_config_setting_keys[i], dotted) == 0)
			return true;
	return false;
}

/*
 * panel.settings_file, read straight from the overlay or the base (it names
 * the layer, so it cannot come from it), then that file when it exists: it
 * may set only ap_config_setting_keys, each checked like any other key.
 */
static void
load_settings_layer(struct loader *ld)
{
	const struct key_def *d = &schema[kidx("panel.settings_file")];
	const config_setting_t *s = lookup(&ld->over, ld->over_init, d);
	const char *path;
	char *abs = NULL;
	config_setting_t *root;
	int n;

	if (s == NULL)
		s = lookup(&ld->base, ld->base_init, d);
	if (s == NULL || config_setting_type(s) != CONFIG_TYPE_STRING)
		return;
	path = config_setting_get_string(s);
	if (path == NULL || path[0] == '\0')
		return;
	abs = path_resolve(ld->c->root_dir, path);
	if (!load_file(ld, abs, &ld->set, &ld->set_init, false))
		goto out;
	root = config_root_setting(&ld->set);
	n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		config_setting_t *g = config_setting_get_elem(root, (unsigned)i);
		int m = config_setting_is_group(g) ? config_setting_length(g) : 0;

		if (!config_setting_is_group(g)) {
			prob_add(ld->probs, abs, config_setting_source_line(g), config_setting_name(g),
			    "only panel.base_path, access.allow and session.* may be set here");
			continue;
		}
		for (int j = 0; j < m; j++) {
			config_setting_t *k = config_setting_get_elem(g, (unsigned)j);
			char *dotted = ap_xasprintf("%s.%s", config_setting_name(g), config_setting_name(k));

			if (!is_setting_key(dotted))
				prob_add(ld->probs, abs, config_setting_source_line(k), dotted,
				    "only panel.base_path, access.allow and session.* may be set here");
			free(dotted);
		}
	}
out:
	free(abs);
}

bool
ap_config_setting_check(const char *dotted, const char *value, char *why, size_t whylen)
{
	const struct key_def *d;
	int k;

	why[0] = '\0';
	if (!is_setting_key(dotted) || (k = key_index(dotted)) < 0) {
		snprintf(why, whylen, "not a setting of the panel");
		return false;
	}
	d = &schema[k];
	switch (d->kind) {
	case V_INT: {
		char *end = NULL;
		long long v;

		errno = 0;
		v = strtoll(value, &end, 10);
		if (value[0] == '\0' || *end != '\0' || errno != 0 || v < d->min || v > d->max) {
			snprintf(why, whylen, "must be between %lld and %lld", d->min, d->max);
			return false;
		}
		return true;
	}
	case V_BASEPATH:
		if (!base_path_ok(value)) {
			snprintf(why, whylen, "must be \"/\" or \"/\" followed by segments of 1 to 64 "
			    "letters, digits, _ or - separated by /, without a trailing slash");
			return false;
		}
		return true;
	case V_CIDRS: {
		struct ap_cidr *nets = NULL;
		size_t nn = 0;
		char bad[64];

		if (strlen(value) > 1024 || !ap_cidr_list_parse(value, &nets, &nn, bad, sizeof(bad))) {
			snprintf(why, whylen, "'%s' is not an address or network (e.g. 10.0.0.0/8, 2001:db8::/32)",
			    strlen(value) > 1024 ? "(too long)" : bad);
			return false;
		}
		free(nets);
		return true;
	}
	default:
		snprintf(why, whylen, "not a setting of the panel");
		return false;
	}
}

bool
ap_config_setting_range(const char *dotted, long long *min, long long *max)
{
	int k = key_index(dotted);

	if (k < 0 || schema[k].kind != V_INT)
		return false;
	*min = schema[k].min;
	*max = schema[k].max;
	return true;
}

void
ap_config_free(struct ap_config *c)
{
	if (c == NULL)
		return;
	for (size_t k = 0; k < NKEYS; k++) {
		switch (schema[k].kind) {
		case V_INT:
		case V_LL:
		case V_BOOL:
		case V_MODE:
			break;
		default:
			free(*(char **)(void *)((char *)c + schema[k].off));
			break;
		}
	}
	free(c->root_dir);
	free(c->base_file);
	free(c->profile_file);
	free(c->secret_key_source);
	explicit_bzero(c->secret_key, sizeof(c->secret_key));
	free(c);
}

enum ap_err
ap_config_load(const struct ap_config_opts *opts, struct ap_config **out,
    struct ap_config_problems *probs)
{
	struct loader ld;
	struct ap_config *c = NULL;
	size_t start = probs->n;
	char *dir = NULL, *over = NULL, *slash;
	bool base_ok, over_ok = true;

	*out = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.opts = opts;
	ld.probs = probs;
	ld.start = start;
	if (opts->root_dir == NULL || opts->root_dir[0] == '\0') {
		prob_add(probs, NULL, 0, NULL, "no root directory given");
		goto out;
	}
	if ((unsigned)opts->profile >= AP_PROFILE__MAX) {
		prob_add(probs, NULL, 0, NULL, "unknown profile");
		goto out;
	}
	c = ap_xcalloc(1, sizeof(*c));
	ld.c = c;
	c->profile = opts->profile;
	c->root_dir = path_absolute(opts->root_dir);
	if (opts->config_file != NULL)
		c->base_file = path_absolute(opts->config_file);
	else
		c->base_file = path_resolve(c->root_dir, "conf/aapanel.cfg");

	base_ok = load_file(&ld, c->base_file, &ld.base, &ld.base_init, true);
	dir = ap_xstrdup(c->base_file);
	slash = strrchr(dir, '/');
	*slash = '\0';
	over = ap_xasprintf("%s/profiles/%s.cfg", dir, profile_names[c->profile]);
	if (access(over, F_OK) == 0) {
		c->profile_file = ap_xstrdup(over);
		over_ok = load_file(&ld, over, &ld.over, &ld.over_init, true);
	}
	if (!base_ok || !over_ok)
		goto out;
	check_unknown(&ld, &ld.base);
	if (ld.over_init)
		check_unknown(&ld, &ld.over);
	load_settings_layer(&ld);
	check_keys(&ld);
	check_relations(&ld);
	check_production(&ld);
	check_helper(&ld);
	check_monitor(&ld);
	load_secret(&ld);
out:
	if (ld.base_init)
		config_destroy(&ld.base);
	if (ld.over_init)
		config_destroy(&ld.over);
	if (ld.set_init)
		config_destroy(&ld.set);
	free(dir);
	free(over);
	for (size_t i = 0; i < ld.nnames; i++)
		free(ld.names[i]);
	free(ld.names);
	if (probs->n > start) {
		ap_config_free(c);
		return AP_ERR_INVAL;
	}
	*out = c;
	return AP_OK;
}

/* ---- show -------------------------------------------------------------- */

static void
show_string(struct ap_buf *b, const char *s)
{
	ap_buf_putc(b, '"');
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			ap_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			ap_buf_printf(b, "\\x%02x", ch);
		else
			ap_buf_putc(b, (char)ch);
	}
	ap_buf_putc(b, '"');
}

void
ap_config_show(const struct ap_config *c, struct ap_buf *out)
{
	const char *group = NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	ap_buf_printf(out, "# profile %s; base %s; overlay %s\n",
	    ap_profile_name(c->profile), c->base_file,
	    c->profile_file != NULL ? c->profile_file : "(none)");
	ap_buf_printf(out, "# root_dir %s; relative paths below are resolved\n",
	    c->root_dir);
	for (size_t k = 0; k < NKEYS; k++) {
		const struct key_def *d = &schema[k];
		const char *field = (const char *)c + d->off;

		if (group == NULL || strcmp(group, d->group) != 0) {
			if (group != NULL)
				ap_buf_puts(out, "};\n");
			group = d->group;
			ap_buf_printf(out, "\n%s = {\n", group);
		}
		ap_buf_printf(out, "  %s = ", d->name);
		switch (d->kind) {
		case V_INT:
			ap_buf_printf(out, "%d;", *(const int *)(const void *)field);
			break;
		case V_LL: {
			long long v = *(const long long *)(const void *)field;

			/* libconfig needs the L suffix above 32 bits. */
			ap_buf_printf(out, v > INT_MAX ? "%lldL;" : "%lld;", v);
			break;
		}
		case V_BOOL:
			ap_buf_puts(out, *(const bool *)(const void *)field ? "true;"
			    : "false;");
			break;
		case V_MODE:
			ap_buf_printf(out, "\"%04o\";", *(const int *)(const void *)field);
			break;
		default:
			show_string(out, *(char *const *)(const void *)field);
			ap_buf_putc(out, ';');
			break;
		}
		if (d->kind == V_INT && strcmp(d->dotted, "pool.workers") == 0 &&
		    c->workers == 0)
			ap_buf_printf(out, "  # 0 = auto: %d on this machine",
			    ap_config_worker_count(c, ncpu > 0 ? (int)ncpu : 1));
		ap_buf_putc(out, '\n');
		if (strcmp(d->dotted, "security.secret_key_file") == 0) {
			/* Only the length and the source: never the bytes. */
			if (c->secret_key_len > 0) {
				char *m = ap_xasprintf("(hidden: %zu bytes from %s)",
				    c->secret_key_len,
				    c->secret_key_source != NULL ? c->secret_key_source
				    : "unknown");

				ap_buf_puts(out, "  secret_key = ");
				show_string(out, m);
				ap_buf_puts(out, ";\n");
				free(m);
			} else {
				ap_buf_puts(out, "  secret_key = \"(not loaded)\";\n");
			}
		}
	}
	if (group != NULL)
		ap_buf_puts(out, "};\n");
}

int
ap_config_worker_count(const struct ap_config *c, int ncpu)
{
	int n;

	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 4096)
		ncpu = 4096;
	n = c->workers > 0 ? c->workers : 2 * ncpu + 1;
	if (n > c->max_workers)
		n = c->max_workers;
	return n < 1 ? 1 : n;
}
