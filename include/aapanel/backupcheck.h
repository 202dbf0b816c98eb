/*
 * backupcheck.h — the strict checks of backups (docs/backups.md): a
 * destination's name and URL, a retention policy. Used by the panel's
 * fields and CLI (src/data/backups.c, src/cli/backup.c) and again by the
 * helper (src/helper/ops_backups.c), which trusts nothing it is sent.
 *
 * Destination URLs (the forms, plus a port for SFTP):
 *   local:/ABS/PATH
 *   sftp:USER@HOST:/ABS/PATH           sftp://USER@HOST[:PORT]/ABS/PATH
 *   s3:https://HOST[:PORT]/BUCKET[/PREFIX]   (http:// only to a loopback host)
 * Paths are segments of [A-Za-z0-9._-] (no "." or ".." segment, no space:
 * restic splits sftp.command on spaces), at most 200 bytes.
 *
 * Every reason returned is a constant text (a msgid).
 */
#ifndef AAPANEL_BACKUPCHECK_H
#define AAPANEL_BACKUPCHECK_H

#include <stdbool.h>
#include <stddef.h>

#define AP_BK_URL_MAX 300
#define AP_BK_PATH_MAX 200
#define AP_BK_KEEP_MAX 1000

enum ap_bk_kind { AP_BK_LOCAL, AP_BK_SFTP, AP_BK_S3, AP_BK__MAX };

struct ap_bk_url {
	enum ap_bk_kind kind;
	char user[33];  /* sftp */
	char host[254]; /* sftp, s3 */
	int port;       /* sftp: 22 when not given; s3: 0 when not given */
	bool tls;       /* s3: https */
	char path[AP_BK_PATH_MAX + 1]; /* local, sftp: absolute; s3: BUCKET[/PREFIX] */
};

/* "local", "sftp", "s3". */
const char *ap_bk_kind_name(enum ap_bk_kind k);

/* A destination's name: [a-z][a-z0-9_-]{0,31}. */
const char *ap_check_backup_dest_name(const char *s, size_t n);

/* A destination URL as above (an ap_field_check_fn). */
const char *ap_check_backup_url(const char *s, size_t n);

/* Parse a URL (NUL-terminated); NULL and *out filled, or the reason. */
const char *ap_bk_url_parse(const char *s, struct ap_bk_url *out);

/*
 * The repository argument restic is given (-r): "/PATH" for local,
 * "sftp:USER@HOST:/PATH", "s3:https://HOST[:PORT]/BUCKET[/PREFIX]".
 * Writes at most n bytes; false when it does not fit.
 */
bool ap_bk_url_repo(const struct ap_bk_url *u, char *buf, size_t n);

/* A snapshot id as restic prints it: 8 to 64 lowercase hex digits, or "latest". */
const char *ap_check_backup_snapshot(const char *s, size_t n);

/*
 * A path inside a snapshot: absolute, UTF-8, no control byte, no "." or
 * ".." segment, at most 4096 bytes.
 */
const char *ap_check_backup_inner_path(const char *s, size_t n);

/* A tag the panel sets: site:DOMAIN, database:NAME, panel (letters, digits, . _ : -). */
const char *ap_check_backup_tag(const char *s, size_t n);

/* A new folder's name (a restore's target): 1 to 64 of [A-Za-z0-9._-], not starting with a dot. */
const char *ap_check_backup_new_dir(const char *s, size_t n);

#endif
