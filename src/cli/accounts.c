/*
 * cli_accounts.c — `aapanel user`, `aapanel token`, `aapanel audit`: the
 * command-line forms of the account actions, for the first admin, scripts
 * and recovery when nobody can sign in.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/audit.h"
#include "aapanel/auth.h"
#include "aapanel/cli.h"
#include "aapanel/dbconn.h"
#include "aapanel/log.h"
#include "aapanel/users.h"

static void
audit(struct ap_db *db, const char *action, const char *target, const char *outcome,
    const char *before, const char *after)
{
	ap_cli_audit_write(db, action, target, outcome, before, after);
}

static struct ap_db *
open_db(const struct ap_config *cfg)
{
	return ap_cli_db_open(cfg);
}

/* One line from stdin without its newline; no echo when stdin is a terminal. */
static char *
read_secret_line(const char *prompt)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO);
	char buf[1100];

	if (tty) {
		fprintf(stderr, "%s", prompt);
		tcgetattr(STDIN_FILENO, &old);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
	}
	if (fgets(buf, sizeof(buf), stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
		fputc('\n', stderr);
	}
	buf[strcspn(buf, "\r\n")] = '\0';
	{
		char *p = ap_xstrdup(buf);
		explicit_bzero(buf, sizeof(buf));
		return p;
	}
}

/* A random password of 20 characters from an unambiguous alphabet. */
static char *
generate_password(void)
{
	static const char alpha[] = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	char *p = ap_xmalloc(21);
	unsigned char r;
	int i = 0;

	while (i < 20) {
		if (ap_random_bytes(&r, 1) != AP_OK)
			abort();
		if (r >= 256 - 256 % (sizeof(alpha) - 1))
			continue; /* no modulo bias */
		p[i++] = alpha[r % (sizeof(alpha) - 1)];
	}
	p[20] = '\0';
	return p;
}

static void
free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static bool
print_user(void *ctx, const struct ap_user_row *u)
{
	char when[32] = "never";

	(void)ctx;
	if (u->last_login_at) {
		time_t t = (time_t)u->last_login_at;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	}
	printf("%-24s %-9s %-9s %-4s %s%s%s\n", u->username, u->role, u->disabled ? "disabled" : "active",
	    u->totp_enabled ? "2fa" : "-", when, u->last_login_addr[0] ? " from " : "", u->last_login_addr);
	return true;
}

static const char user_usage[] =
    "usage: aapanel user add NAME --role admin|operator|viewer (--password-stdin | --generate-password)\n"
    "       aapanel user passwd NAME (--password-stdin | --generate-password)\n"
    "       aapanel user list\n"
    "       aapanel user disable NAME | enable NAME\n";

int
ap_cli_user(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "password-stdin", no_argument, NULL, 's' },
		{ "generate-password", no_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = NULL, *sub, *name = NULL;
	struct ap_problem pb;
	bool from_stdin = false, generate = false;
	struct ap_user_row row;
	struct ap_db *db = NULL;
	char *pw = NULL;
	int status = 1, ch;
	int64_t id = 0;
	enum ap_db_rc rc;

	if (argc < 2) {
		fputs(user_usage, stderr);
		return 2;
	}
	sub = argv[1];
	optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': role = optarg; break;
		case 's': from_stdin = true; break;
		case 'g': generate = true; break;
		default: fputs(user_usage, stderr); return 2;
		}
	}
	if (optind < argc - 1)
		name = argv[optind + 1];
	if (strcmp(sub, "list") == 0) {
		if (name) {
			fputs(user_usage, stderr);
			return 2;
		}
	} else if (name == NULL || optind + 2 != argc) {
		fputs(user_usage, stderr);
		return 2;
	}
	if ((strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) && from_stdin == generate) {
		fprintf(stderr, "aapanel user %s: give exactly one of --password-stdin or --generate-password\n", sub);
		return 2;
	}
	if (strcmp(sub, "add") == 0 && role == NULL) {
		fprintf(stderr, "aapanel user add: --role is required (admin, operator or viewer)\n");
		return 2;
	}
	if ((db = open_db(cfg)) == NULL)
		return 1;
	if (strcmp(sub, "list") == 0) {
		printf("%-24s %-9s %-9s %-4s %s\n", "USER", "ROLE", "STATE", "2FA", "LAST LOGIN");
		rc = ap_user_each(db, print_user, NULL);
		status = rc == AP_DB_OK ? 0 : 1;
		goto out;
	}
	ap_cli_change(db); /* add, passwd, disable, enable: the change and its audit row at once */
	if (strcmp(sub, "add") == 0 || strcmp(sub, "passwd") == 0) {
		pw = generate ? generate_password() : read_secret_line("Password: ");
		if (strcmp(sub, "add") == 0) {
			char after[160];

			rc = ap_user_create(db, cfg, name, role, pw, &id, &pb);
			snprintf(after, sizeof(after), "{\"username\":\"%s\",\"role\":\"%s\"}", name, role);
			if (rc == AP_DB_EINVAL || rc == AP_DB_ECONSTRAINT) {
				status = ap_cli_problem("user add", &pb);
				goto out;
			}
			if (rc != AP_DB_OK) {
				fprintf(stderr, "aapanel user add: %s\n", ap_db_errmsg(db));
				status = 1;
				goto out;
			}
			audit(db, "user.add", name, "ok", NULL, after);
			printf("user %s created with role %s\n", name, role);
		} else {
			rc = ap_user_find(db, name, &row, NULL);
			if (rc == AP_DB_OK)
				rc = ap_user_set_password(db, cfg, row.id, name, pw, &pb);
			if (rc == AP_DB_EINVAL) {
				status = ap_cli_problem("user passwd", &pb);
				goto out;
			}
			if (rc != AP_DB_OK) {
				fprintf(stderr, "aapanel user passwd: %s\n",
				    rc == AP_DB_ENOTFOUND ? "no such user" : ap_db_errmsg(db));
				status = rc == AP_DB_ENOTFOUND ? 2 : 1;
				goto out;
			}
			/* A new password ends every session of the account. */
			ap_session_delete_user(db, row.id, 0, NULL);
			audit(db, "user.password", name, "ok", NULL, NULL);
			printf("password of %s changed; their sessions were signed out\n", name);
		}
		if (generate)
			printf("password (shown once): %s\n", pw);
		status = 0;
		goto out;
	}
	if (strcmp(sub, "disable") == 0 || strcmp(sub, "enable") == 0) {
		bool dis = strcmp(sub, "disable") == 0;

		rc = ap_user_find(db, name, &row, NULL);
		if (rc == AP_DB_OK)
			rc = ap_user_set_disabled(db, row.id, dis);
		if (rc != AP_DB_OK) {
			fprintf(stderr, "aapanel user %s: %s\n", sub, rc == AP_DB_ENOTFOUND ? "no such user" : ap_db_errmsg(db));
			status = rc == AP_DB_ENOTFOUND ? 2 : 1;
			goto out;
		}
		if (dis)
			ap_session_delete_user(db, row.id, 0, NULL);
		audit(db, dis ? "user.disable" : "user.enable", name, "ok", NULL, NULL);
		printf("user %s %sd\n", name, sub);
		status = 0;
		goto out;
	}
	fputs(user_usage, stderr);
	status = 2;
out:
	free_secret(pw);
	ap_db_close(db);
	return status;
}

static bool
print_token(void *ctx, const struct ap_token_row *t)
{
	char c[32], l[32] = "never";
	time_t tc = (time_t)t->created_at, tl = (time_t)t->last_used_at;
	struct tm tm;

	(void)ctx;
	gmtime_r(&tc, &tm);
	strftime(c, sizeof(c), "%Y-%m-%d", &tm);
	if (t->last_used_at) {
		gmtime_r(&tl, &tm);
		strftime(l, sizeof(l), "%Y-%m-%d %H:%M", &tm);
	}
	printf("%-6lld %-16s %-20s %-6s %-10s %-17s %s\n", (long long)t->id, t->username, t->name, t->scope,
	    c, l, t->revoked_at ? "revoked" : (t->allow_cidr[0] ? t->allow_cidr : "-"));
	return true;
}

static const char token_usage[] =
    "usage: aapanel token create --user NAME --scope read|write|admin [--name LABEL]\n"
    "                            [--allow CIDR[,CIDR…]] [--expires DAYS]\n"
    "       aapanel token revoke ID\n"
    "       aapanel token list [--user NAME]\n";

int
ap_cli_token(const struct ap_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "scope", required_argument, NULL, 's' },
		{ "name", required_argument, NULL, 'n' },
		{ "allow", required_argument, NULL, 'a' },
		{ "expires", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user = NULL, *scope = NULL, *label = "cli", *allow = "", *err;
	struct ap_problem pb;
	long long expires = 0, tid = 0;
	struct ap_user_row row;
	struct ap_db *db = NULL;
	char token[80];
	int64_t id = 0;
	int status = 1, ch;
	enum ap_db_rc rc;

	if (argc < 2) {
		fputs(token_usage, stderr);
		return 2;
	}
	optind = 0; /* glibc: 0 re-initialises getopt after main's own parsing */
	while ((ch = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': user = optarg; break;
		case 's': scope = optarg; break;
		case 'n': label = optarg; break;
		case 'a': allow = optarg; break;
		case 'e':
			if (!ap_strtonum(optarg, 0, 3650, &expires, &err)) {
				fprintf(stderr, "aapanel token: --expires: %s (0..3650 days)\n", err);
				return 2;
			}
			break;
		default: fputs(token_usage, stderr); return 2;
		}
	}
	if (strcmp(argv[1], "create") == 0) {
		if (user == NULL || scope == NULL || optind != argc - 1) {
			fputs(token_usage, stderr);
			return 2;
		}
	} else if (strcmp(argv[1], "revoke") == 0) {
		if (optind + 2 != argc || !ap_strtonum(argv[optind + 1], 1, INT64_MAX, &tid, &err)) {
			fputs(token_usage, stderr);
			return 2;
		}
	} else if (strcmp(argv[1], "list") != 0) {
		fputs(token_usage, stderr);
		return 2;
	}
	if ((db = open_db(cfg)) == NULL)
		return 1;
	if (strcmp(argv[1], "list") == 0) {
		int64_t uid = 0;

		if (user) {
			if (ap_user_find(db, user, &row, NULL) != AP_DB_OK) {
				fprintf(stderr, "aapanel token list: no such user\n");
				status = 2;
				goto out;
			}
			uid = row.id;
		}
		printf("%-6s %-16s %-20s %-6s %-10s %-17s %s\n", "ID", "USER", "NAME", "SCOPE", "CREATED", "LAST USED", "ALLOW");
		status = ap_token_each(db, uid, print_token, NULL) == AP_DB_OK ? 0 : 1;
		goto out;
	}
	ap_cli_change(db); /* revoke, create */
	if (strcmp(argv[1], "revoke") == 0) {
		char target[32];

		snprintf(target, sizeof(target), "token:%lld", tid);
		rc = ap_token_revoke(db, tid, 0);
		if (rc != AP_DB_OK) {
			fprintf(stderr, "aapanel token revoke: %s\n", rc == AP_DB_ENOTFOUND ? "no such active token" : ap_db_errmsg(db));
			status = rc == AP_DB_ENOTFOUND ? 2 : 1;
			goto out;
		}
		audit(db, "token.revoke", target, "ok", NULL, NULL);
		printf("token %lld revoked\n", tid);
		status = 0;
		goto out;
	}
	rc = ap_user_find(db, user, &row, NULL);
	if (rc != AP_DB_OK) {
		fprintf(stderr, "aapanel token create: no such user '%s'\n", user);
		status = 2;
		goto out;
	}
	rc = ap_token_create(db, cfg, row.id, label, scope, allow, (int)expires, token, &id, &pb);
	if (rc == AP_DB_EINVAL) {
		status = ap_cli_problem("token create", &pb);
		goto out;
	}
	if (rc != AP_DB_OK) {
		fprintf(stderr, "aapanel token create: %s\n", ap_db_errmsg(db));
		status = 1;
		goto out;
	}
	{
		char after[256], target[32];

		snprintf(after, sizeof(after), "{\"user\":\"%s\",\"scope\":\"%s\",\"id\":%lld}", row.username,
		    scope, (long long)id);
		snprintf(target, sizeof(target), "token:%lld", (long long)id);
		audit(db, "token.create", target, "ok", NULL, after);
	}
	printf("token %lld for %s, scope %s (shown once, store it now):\n%s\n", (long long)id, row.username, scope, token);
	explicit_bzero(token, sizeof(token));
	status = 0;
out:
	ap_db_close(db);
	return status;
}

int
ap_cli_audit(const struct ap_config *cfg, int argc, char **argv)
{
	struct ap_db *db;
	int status;

	if (argc != 2 || strcmp(argv[1], "verify") != 0) {
		fputs("usage: aapanel audit verify\n", stderr);
		return 2;
	}
	if ((db = open_db(cfg)) == NULL)
		return 1;
	status = ap_auditcli_verify(db, stdout);
	ap_db_close(db);
	return status;
}
