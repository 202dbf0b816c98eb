/*
 * config.h — the panel's configuration: conf/aapanel.cfg (base) overlaid by
 * conf/profiles/<profile>.cfg, validated against a schema before anything is
 * served. The loaded configuration is a plain struct of typed values.
 */
#ifndef AAPANEL_CONFIG_H
#define AAPANEL_CONFIG_H

#include "aapanel/common.h"

enum ap_profile {
	AP_PROFILE_DEVELOPMENT,
	AP_PROFILE_PRODUCTION,
	AP_PROFILE_TEST,
	AP_PROFILE__MAX
};

/* "development" | "production" | "test". */
const char *ap_profile_name(enum ap_profile p);
/* Accepts the full names and the aliases dev, prod. False when unknown. */
bool ap_profile_parse(const char *s, enum ap_profile *out);

/* Why a profile was chosen (logged at startup). */
enum ap_profile_source {
	AP_PROFILE_FROM_FLAG,   /* --profile */
	AP_PROFILE_FROM_ENV,    /* AAPANEL_ENV */
	AP_PROFILE_FROM_SOURCE, /* running from a source checkout */
	AP_PROFILE_FROM_DEFAULT /* installed copy → production */
};

/*
 * Choose the profile: flag (may be NULL), else env value (may be NULL,
 * normally getenv("AAPANEL_ENV")), else detection: root_dir is a source
 * checkout (has src/main.c and Makefile) → development, else production.
 * Writes a one-line human reason ("--profile flag", "AAPANEL_ENV=test", ...)
 * into reason. Returns AP_ERR_INVAL (reason says why) for an unknown name.
 */
enum ap_err ap_profile_detect(const char *flag, const char *env,
    const char *root_dir, enum ap_profile *out, enum ap_profile_source *src,
    char *reason, size_t reasonlen);

/* Every configuration value, after overlay and validation. Paths are absolute. */
struct ap_config {
	enum ap_profile profile;
	char *root_dir;    /* base for relative paths (checkout or prefix share dir) */
	char *base_file;   /* the base file loaded */
	char *profile_file;/* the overlay loaded, NULL when absent */

	/* panel */
	char *panel_name;       /* panel.name */
	char *default_language; /* panel.default_language: "en" | "ar" */
	char *base_path;        /* panel.base_path: "/" or "/xyz" (no trailing /) */
	char *panel_origins;    /* panel.origins: "" (loopback origins only) or scheme://host[:port] list */
	char *settings_file;    /* panel.settings_file: the Settings screen's layer, "" = none */
	bool debug;             /* panel.debug */

	/* server */
	char *socket_path;  /* server.socket */
	int socket_mode;    /* server.socket_mode, parsed octal string e.g. "0660" */
	char *socket_group; /* server.socket_group, "" = leave as is */
	int backlog;        /* server.backlog, >= 511 */

	/* pool */
	int workers;             /* pool.workers, 0 = 2*cores+1 */
	int max_workers;         /* pool.max_workers */
	int max_requests;        /* pool.max_requests, 0 = never recycle */
	int max_requests_jitter; /* pool.max_requests_jitter */
	int request_timeout;     /* pool.request_timeout seconds */
	int shutdown_timeout;    /* pool.shutdown_timeout seconds */
	int crash_limit;         /* pool.crash_limit abnormal exits per minute */

	/* limits (bytes) */
	long long max_body;       /* limits.max_body: urlencoded and JSON bodies */
	long long max_upload;     /* limits.max_upload: multipart bodies */
	int max_fields;           /* limits.max_fields */
	int max_field_len;        /* limits.max_field_len */
	int max_header_len;       /* limits.max_header_len: cookie, URI */

	/* paths */
	char *var_dir;       /* paths.var_dir */
	char *run_dir;       /* paths.run_dir */
	char *log_dir;       /* paths.log_dir */
	char *templates_dir; /* paths.templates */
	char *static_dir;    /* paths.static */
	char *po_dir;        /* paths.po */
	char *sql_dir;       /* paths.sql: migrations, sql/<dialect>/NNNN_name.sql */

	/* log */
	char *log_level; /* log.level: debug|info|warn|error */
	char *log_file;  /* log.file: "" = stderr */
	char *log_panel_unit;  /* log.panel_unit: the pool's unit in the journal (log.file = "") */
	char *log_helper_unit; /* log.helper_unit: the helper's */

	/* security */
	char *secret_key_file; /* security.secret_key_file ("" = none) */
	unsigned char secret_key[64];
	size_t secret_key_len;   /* 0 when not loaded */
	char *secret_key_source; /* "file /x", "credential aapanel-secret", "generated var/secret_key" */

	/* db */
	char *db_dsn;            /* db.dsn */
	char *db_password_file;  /* db.password_file ("" = none) */
	bool db_auto_migrate;    /* db.auto_migrate */
	int db_connect_timeout;  /* db.connect_timeout seconds */
	int db_query_timeout;    /* db.query_timeout seconds, per statement */

	/* nginx (values the nginx config templates are filled with) */
	int nginx_read_timeout;  /* nginx.fastcgi_read_timeout seconds (> request_timeout) */
	char *nginx_listen_file; /* nginx.listen_file: the panel-managed include (listen, entrance), "" = none */
	char *nginx_binary;      /* nginx.binary: absolute path of nginx, run by the helper only */
	char *nginx_prefix;      /* nginx.prefix: -p for nginx -t / -s reload, "" = none */
	char *nginx_conf;        /* nginx.conf: -c for nginx -t / -s reload, "" = nginx's default */

	/* session */
	int session_idle_timeout;     /* session.idle_timeout seconds */
	int session_absolute_timeout; /* session.absolute_timeout seconds */

	/* auth */
	int password_min_length;   /* auth.password_min_length code points */
	int argon2_memory_kib;     /* auth.argon2_memory_kib */
	int argon2_iterations;     /* auth.argon2_iterations */
	int argon2_parallelism;    /* auth.argon2_parallelism */
	int lockout_threshold;     /* auth.lockout_threshold: failures before delays start */
	int max_failures_per_hour; /* auth.max_failures_per_hour per account */
	int address_threshold;     /* auth.address_threshold: failures per address per window */
	int address_window;        /* auth.address_window: seconds of that sliding window */
	int max_tokens_per_user;   /* auth.max_tokens_per_user: live API tokens of one user */

	/* access */
	char *access_allow;     /* access.allow: "" = everyone, else CIDR list */
	char *trusted_proxies;  /* access.trusted_proxies: CIDR list */
	char *forwarded_header; /* access.forwarded_header: "X-Forwarded-For", "X-Real-IP" or "" */

	/* helper: the privileged helper and its clients (docs/helper.md) */
	char *helper_socket;       /* helper.socket: unix socket path */
	char *helper_panel_user;   /* helper.panel_user: user name or uid; "" = the helper's own uid */
	char *helper_sandbox_root; /* helper.sandbox_root: every system path resolves beneath it */
	int helper_max_message;    /* helper.max_message: largest request line, bytes */
	int helper_timeout_ms;     /* helper.timeout_ms: a client's wait per call; a request line's */
	int helper_max_clients;    /* helper.max_clients: connections at once */
	int helper_max_jobs;       /* helper.max_jobs: jobs running at once */
	int helper_job_timeout;    /* helper.job_timeout: seconds before a job is killed */

	/* monitor: the sampler, its live stream and its notifications (docs/configuration.md) */
	bool monitor_enabled;     /* monitor.enabled: the master runs the sampler */
	int monitor_interval;     /* monitor.interval: seconds between readings */
	char *monitor_socket;     /* monitor.socket: the live stream's unix socket ("" = run_dir/aapanel-events.sock) */
	int monitor_max_clients;  /* monitor.max_clients: stream connections at once */
	char *monitor_smtp_url;   /* monitor.smtp_url: "" = no e-mail; smtp://host:port or smtps://host:port */
	bool monitor_smtp_starttls; /* monitor.smtp_starttls: smtp:// must switch to TLS */
	char *monitor_smtp_from;  /* monitor.smtp_from: the sender address */
	char *monitor_smtp_credentials_file; /* monitor.smtp_credentials_file: "user" and "password" lines */
	char *monitor_ca_file;    /* monitor.ca_file: CA bundle for SMTP and webhooks ("" = the system's) */
	int monitor_send_timeout; /* monitor.send_timeout: seconds one delivery may take */
	char *monitor_language;     /* monitor.language: the notifications' "en" | "ar"; "" = panel.default_language */
	/* sites: websites, as the helper writes them (docs/sites.md). The *_dir
	 * values are relative to helper.sandbox_root ("{version}": a PHP version). */
	char *sites_vhost_dir;      /* sites.vhost_dir: one <domain>.conf per site, included by nginx */
	char *sites_web_root;       /* sites.web_root: sites' homes and document roots */
	char *sites_log_dir;        /* sites.log_dir: <domain>.access.log, <domain>.error.log */
	int sites_http_port;        /* sites.http_port: the port the vhosts listen on (and are probed at) */
	char *sites_listen_address; /* sites.listen_address: "" = every IPv4 and IPv6 address */
	char *sites_nginx;          /* sites.nginx: the nginx binary (nginx -t, nginx -s reload) */
	char *sites_nginx_conf;     /* sites.nginx_conf: the main configuration nginx runs with */
	char *sites_nginx_prefix;   /* sites.nginx_prefix: nginx -p, "" = nginx's own */
	char *sites_nginx_group;    /* sites.nginx_group: nginx's group (reads sites, talks to PHP) */
	bool sites_system_users;    /* sites.system_users: a system user per site (else the helper's) */
	char *sites_php_pool_dir;   /* sites.php_pool_dir: PHP-FPM pool files */
	char *sites_php_socket_dir; /* sites.php_socket_dir: PHP-FPM sockets */
	char *sites_php_fpm_conf;   /* sites.php_fpm_conf: php-fpm's main file (php-fpm -t -y) */
	char *sites_php_fpm_pid;    /* sites.php_fpm_pid: the php-fpm master's pid file (reload) */
	int sites_probe_timeout_ms; /* sites.probe_timeout_ms: how long a probe waits for nginx */
	/* certs: the sites' certificates (docs/certificates.md). */
	char *certs_dir;            /* certs.dir: uploaded certificates, <domain>/fullchain.pem + privkey.pem */
	char *certs_acme_webroot;   /* certs.acme_webroot: what the vhosts serve at /.well-known/acme-challenge/ */
	int certs_https_port;       /* certs.https_port: the port the sites' TLS servers listen on */
	char *certs_email;          /* certs.email: the ACME account's e-mail, "" = none */
	char *certs_acme_server;    /* certs.acme_server: the ACME directory URL, "" = Let's Encrypt's */
	bool certs_staging;         /* certs.staging: Let's Encrypt's staging server (when acme_server is "") */
	char *certs_ca_bundle;      /* certs.ca_bundle: CA bundle certbot trusts for the ACME server, "" = system */
	char *certs_certbot;        /* certs.certbot: the certbot program */
	char *certs_certbot_dir;    /* certs.certbot_dir: certbot's --config-dir (work/ logs/ inside), "" = its own */
	int certs_warn_days;        /* certs.warn_days: expiry warning, days before */
	int certs_watch_interval;   /* certs.watch_interval: seconds between the sampler's reads of certbot's renewals */
	/* databases: the database servers the panel manages (docs/databases.md). */
	char *databases_dir;        /* databases.dir: the servers' admin logins, root-only 0600 files */
	int databases_connect_timeout_ms; /* databases.connect_timeout_ms: connect and query bound */
	char *databases_mariadb_bindir; /* databases.mariadb_bindir: mariadb, mariadb-dump */
	char *databases_pg_bindir;      /* databases.pg_bindir: psql, pg_dump */
	char *databases_spool_dir;      /* databases.spool_dir: dumps between a job and its download */
	long long databases_import_max; /* databases.import_max: one uploaded dump, bytes */
	long long files_max_upload; /* files.max_upload: one file streamed into a site, bytes */
	long long files_edit_max;   /* files.edit_max: the largest file edited in the browser */
	long long files_extract_max_size;  /* files.extract_max_size: bytes an extraction may write */
	long long files_extract_max_files; /* files.extract_max_files: entries of an archive */
	long long files_extract_max_ratio; /* files.extract_max_ratio: unpacked / packed size */
	char *files_roots; /* files.roots: the admins' other roots, "name:/path, ..." (sitecheck.h) */
	int files_job_wait_ms; /* files.job_wait_ms: a copy, chown or archive job waited for before its page */
	/* tasks: scheduled tasks (docs/tasks.md); the dirs relative to helper.sandbox_root. */
	char *tasks_cron_dir;   /* tasks.cron_dir: where the helper writes the cron file "aapanel" */
	char *tasks_spec_dir;   /* tasks.spec_dir: the helper's own copy of each task (what runs) */
	char *tasks_recorder;   /* tasks.recorder: the aapanel program the cron lines run */
	bool tasks_allow_root;  /* tasks.allow_root: commands may run as root (admin + password) */
	int tasks_max_timeout;  /* tasks.max_timeout: the longest timeout a task may have, seconds */
	int tasks_keep_runs;    /* tasks.keep_runs: the runs kept per task, the newest (older ones pruned) */
	/* backups: restic repositories (docs/backups.md); the dir relative to helper.sandbox_root. */
	char *backups_dir;              /* backups.dir: destinations' passwords and keys, root-only 0600 */
	char *backups_restic;           /* backups.restic: the restic program the helper runs */
	long long backups_download_max; /* backups.download_max: one file or dump read from a snapshot */
	int backups_alert_margin;       /* backups.alert_margin: seconds past a schedule's interval before backup_age fires */
	/* services: the systemd units the panel may control (docs/services.md). */
	char *services_units;       /* services.units: unit names, '*' patterns, comma-separated */
	char *services_protected;   /* services.protected: stopping or disabling one needs its typed name */
	char *services_operator_units; /* services.operator_units: units operators may restart or reload */
	int services_journal_lines; /* services.journal_lines: journal lines a unit's page shows */
	int services_action_timeout; /* services.action_timeout: seconds a start/stop may take */
	/* firewall: nftables table inet aapanel (docs/firewall.md). */
	char *firewall_netns;        /* firewall.netns: the network namespace's file, "" = the helper's own */
	bool firewall_netns_create;  /* firewall.netns_create: the helper creates it when missing */
	int firewall_confirm_seconds; /* firewall.confirm_seconds: an unconfirmed apply reverts after it */
	int firewall_ssh_port;       /* firewall.ssh_port: the lock-out guard keeps it open for the operator */
};

/* One validation problem, printed as "file:line: key: reason". */
struct ap_config_problem {
	char *file; /* may be NULL when not tied to a file */
	int line;   /* 0 when unknown */
	char *key;  /* dotted key, e.g. "pool.workers"; may be NULL */
	char *reason;
};

struct ap_config_problems {
	struct ap_config_problem *v;
	size_t n;
};

void ap_config_problems_free(struct ap_config_problems *p);
/* Format one problem as "file:line: key: reason" into a malloc'd string. */
char *ap_config_problem_str(const struct ap_config_problem *p);

struct ap_config_opts {
	const char *root_dir;    /* required: where conf/, templates/ ... live */
	const char *config_file; /* --config; NULL = <root>/conf/aapanel.cfg */
	enum ap_profile profile;
	/* Development: generate a secret key into <var_dir>/secret_key if none. */
	bool generate_secret;
	/* Directory of systemd credentials; NULL = getenv("CREDENTIALS_DIRECTORY"). */
	const char *credentials_dir;
};

/*
 * Load base + overlay (profile file = <dir of base>/profiles/<profile>.cfg,
 * optional), validate every key against the schema and the profile rules,
 * resolve relative paths against root_dir, load the secret key.
 * On success returns AP_OK and *out (free with ap_config_free).
 * On any problem returns AP_ERR_INVAL, *out = NULL, and probs lists them all
 * (not just the first). probs must be zeroed by the caller.
 */
enum ap_err ap_config_load(const struct ap_config_opts *opts,
    struct ap_config **out, struct ap_config_problems *probs);
void ap_config_free(struct ap_config *c);

/*
 * The keys panel.settings_file may set (NULL-terminated): what the panel's
 * Settings screen changes through the helper.
 */
extern const char *const ap_config_setting_keys[];
/*
 * Is value (text; integers in decimal) valid for the setting key dotted, by
 * the loader's own rules? false with the reason (untranslated) in why.
 */
bool ap_config_setting_check(const char *dotted, const char *value, char *why, size_t whylen);
/* The bounds of an integer key into *min, *max; false when dotted is not one. */
bool ap_config_setting_range(const char *dotted, long long *min, long long *max);

/* Print the effective configuration in libconfig syntax, secrets masked. */
void ap_config_show(const struct ap_config *c, struct ap_buf *out);

/* Worker count to run: workers, or 2*ncpu+1 when 0, capped by max_workers. */
int ap_config_worker_count(const struct ap_config *c, int ncpu);

#endif
