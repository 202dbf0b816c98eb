/*
 * main.c — aapanel-helper: load the configuration (the panel's own files
 * and profiles), decide whom to serve, open the sandbox root and the
 * socket, check the operations table, serve.
 *
 *   aapanel-helper [--profile P] [--config FILE] [--root DIR]
 *   aapanel-helper --check [...]   validate and exit (0 = would start)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/config.h"
#include "aapanel/log.h"
#include "ops.h"
#include "sandbox.h"
#include "server.h"

#ifndef AP_SHAREDIR
#define AP_SHAREDIR "/usr/local/share/aapanel"
#endif
#ifndef AP_SYSCONFDIR
#define AP_SYSCONFDIR "/etc/aapanel"
#endif

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: aapanel-helper [--profile development|test|production] [--config FILE]\n"
	    "                      [--root DIR] [--check]\n"
	    "The privileged helper of aaPanel (docs/helper.md). --check validates the\n"
	    "configuration and the operations table and exits.\n");
}

static bool
is_checkout(const char *dir)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/src/helper/main.c", dir);
	if (stat(p, &st) != 0)
		return false;
	snprintf(p, sizeof(p), "%s/Makefile", dir);
	return stat(p, &st) == 0;
}

/* --root, else AAPANEL_ROOT, else the checkout holding build/aapanel-helper, else SHAREDIR. */
static const char *
resolve_root(const char *flag, char *buf, size_t len)
{
	char exe[PATH_MAX];
	const char *r = flag != NULL ? flag : getenv("AAPANEL_ROOT");
	ssize_t n;

	if (r != NULL && r[0] != '\0')
		return realpath(r, buf) != NULL ? buf : r;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 2; up++) {
			char *slash = strrchr(exe, '/');

			if (slash == NULL || slash == exe)
				return AP_SHAREDIR;
			*slash = '\0';
		}
		if (is_checkout(exe)) {
			snprintf(buf, len, "%s", exe);
			return buf;
		}
	}
	return AP_SHAREDIR;
}

/* The uid (and its primary group) the helper serves. */
static bool
panel_user(const struct ap_config *cfg, uid_t *uid, gid_t *gid)
{
	const char *u = cfg->helper_panel_user;
	struct passwd *pw;
	long long v;
	const char *errstr;

	if (u[0] == '\0') {
		*uid = geteuid();
		*gid = getegid();
		return true;
	}
	if (u[0] >= '0' && u[0] <= '9') {
		if (!ap_strtonum(u, 0, 4294967294LL, &v, &errstr))
			return false;
		*uid = (uid_t)v;
		pw = getpwuid(*uid);
		*gid = pw != NULL ? pw->pw_gid : (gid_t)v;
		return true;
	}
	pw = getpwnam(u);
	if (pw == NULL) {
		AP_ERROR("helper.panel_user: no user named '%s'", u);
		return false;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return true;
}

static int
load(const char *profile_flag, const char *config_flag, const char *root_flag,
    struct ap_config **cfg)
{
	struct ap_config_opts opts = { 0 };
	struct ap_config_problems probs = { 0 };
	enum ap_profile_source src;
	char rootbuf[PATH_MAX], cfgbuf[PATH_MAX], reason[256];
	const char *env = getenv("AAPANEL_CONFIG");

	opts.root_dir = resolve_root(root_flag, rootbuf, sizeof(rootbuf));
	if (config_flag != NULL)
		opts.config_file = config_flag;
	else if (env != NULL && env[0] != '\0')
		opts.config_file = env;
	else if (!is_checkout(opts.root_dir)) {
		snprintf(cfgbuf, sizeof(cfgbuf), "%s/aapanel.cfg", AP_SYSCONFDIR);
		opts.config_file = cfgbuf;
	}
	if (ap_profile_detect(profile_flag, getenv("AAPANEL_ENV"), opts.root_dir, &opts.profile,
		&src, reason, sizeof(reason)) != AP_OK) {
		AP_ERROR("%s", reason);
		return 1;
	}
	AP_INFO("profile %s (%s)", ap_profile_name(opts.profile), reason);
	if (ap_config_load(&opts, cfg, &probs) != AP_OK) {
		for (size_t i = 0; i < probs.n; i++) {
			char *s = ap_config_problem_str(&probs.v[i]);

			fprintf(stderr, "%s\n", s);
			free(s);
		}
		ap_config_problems_free(&probs);
		return 1;
	}
	/* The helper signs nothing: it does not keep the panel's secret key. */
	explicit_bzero((*cfg)->secret_key, sizeof((*cfg)->secret_key));
	(*cfg)->secret_key_len = 0;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "config", required_argument, NULL, 'c' },
		{ "root", required_argument, NULL, 'r' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *profile = NULL, *config = NULL, *root = NULL;
	struct ap_config *cfg = NULL;
	struct ap_server_opts so = { 0 };
	enum ap_log_level lvl;
	char err[512];
	bool check = false, prod;
	uid_t uid;
	gid_t gid;
	int opt, sandbox = -1, lfd = -1, rc = 1;

	ap_log_init("helper", AP_LOG_INFO, STDERR_FILENO);
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p': profile = optarg; break;
		case 'c': config = optarg; break;
		case 'r': root = optarg; break;
		case 'k': check = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("aapanel-helper %s\n", AP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "aapanel-helper: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load(profile, config, root, &cfg) != 0) {
		AP_ERROR("configuration invalid; not starting");
		goto out;
	}
	if (ap_log_level_parse(cfg->log_level, &lvl))
		ap_log_set_level(lvl);
	if (cfg->log_file[0] != '\0') {
		int fd = open(cfg->log_file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) {
			AP_ERROR("log.file %s: %s", cfg->log_file, strerror(errno));
			goto out;
		}
		close(fd);
	}
	if (ap_ops_check(err, sizeof(err)) != AP_OK) {
		AP_ERROR("operations table: %s", err);
		goto out;
	}
	prod = cfg->profile == AP_PROFILE_PRODUCTION;
	if (prod && cfg->helper_panel_user[0] == '\0') {
		AP_ERROR("helper.panel_user must name the panel's user in production (the helper "
			 "answers only that uid)");
		goto out;
	}
	if (!panel_user(cfg, &uid, &gid)) {
		AP_ERROR("helper.panel_user '%s' is not a known user", cfg->helper_panel_user);
		goto out;
	}
	if (prod && geteuid() != 0)
		AP_WARN("production profile without root: operations on the system will fail");
	/* Development and test: the sandbox is ours to create; production's root exists. */
	if (ap_sandbox_open_root(cfg->helper_sandbox_root, !prod, &sandbox, err, sizeof(err)) !=
		AP_OK ||
	    ap_sandbox_check(sandbox, err, sizeof(err)) != AP_OK) {
		AP_ERROR("%s", err);
		goto out;
	}
	if (check) {
		printf("aapanel-helper: configuration ok (profile %s, socket %s, panel uid %u, "
		       "sandbox %s)\n",
		    ap_profile_name(cfg->profile), cfg->helper_socket, (unsigned)uid,
		    cfg->helper_sandbox_root);
		rc = 0;
		goto out;
	}
	if (ap_server_listen(cfg->helper_socket, uid, gid, &lfd, &so.activated, err,
		sizeof(err)) != AP_OK) {
		AP_ERROR("%s", err);
		goto out;
	}
	so.cfg = cfg;
	so.listen_fd = lfd;
	so.socket_path = cfg->helper_socket;
	so.panel_uid = uid;
	so.sandbox_fd = sandbox;
	rc = ap_server_run(&so);
	ap_ops_firewall_stop(cfg);
out:
	if (lfd >= 0)
		close(lfd);
	if (sandbox >= 0)
		close(sandbox);
	ap_config_free(cfg);
	return rc;
}
