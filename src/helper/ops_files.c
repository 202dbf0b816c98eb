/*
 * ops_files.c — the file manager's operations (docs/files.md).
 *
 * Confinement by construction: the site's document root is opened once per
 * request (the home beneath the sandbox root, then the document root inside
 * it with no symlink followed at all), and every path of a request is opened
 * beneath that descriptor with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)
 * (ap_sandbox_open). An absolute path, a ".." that climbs out, a symlink that
 * points out (file or directory, whenever it was made) and /proc magic links
 * are refused by the kernel during the walk itself: no string is inspected
 * for "..". Names that a request creates are checked as names (one segment,
 * UTF-8, no backslash or control byte) so that nothing odd is made inside.
 *
 * A regular file with other hard links is refused for reading, writing and
 * chmod: a hard link inside the root may be a file outside it.
 *
 * Contents never travel through JSON: files.open passes a read descriptor,
 * files.begin a write descriptor on a new temporary file beside the target
 * (created as the site's user); the worker streams, fsyncs and asks
 * files.commit to rename it over the target (or files.abort to drop it).
 *
 * Deleting moves the entry to the site's trash, <home>/.aapanel-trash/<id>/
 * (outside the document root, never served), with the original path beside
 * it; files.restore puts it back, files.empty removes it for good. One of the
 * admins' files.roots (rootname) keeps its trash inside it, hidden
 * (<root>/.aapanel-trash, on the root's filesystem), and what is made there
 * belongs to the owner of the root's own folder.
 */
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

#include "aapanel/log.h"
#include "jobs.h"
#include "aapanel/sitecheck.h"
#include "ops.h"
#include "sandbox.h"
#include "sitefs.h"
#include "valid.h"

#define TRASH_DIR ".aapanel-trash"
#define TEMP_PREFIX ".aapanel-up-"
#define TEMP_RAND 12
#define LIST_DEFAULT 2000
#define LIST_MAX 5000
#define COPY_FILES_MAX 1000000 /* a copy or a chown of a tree: entries at most (a job) */
#define COPY_DEPTH_MAX 64
#define NAME_MAX_BYTES 255

static const char *const kinds[] = { "static", "php", "proxy", NULL };
static const char *const sorts[] = { "name", "size", "mtime", NULL };
static const char *const formats[] = { "zip", "tar.gz", "tar.xz", "tar", NULL };
/* files.chown: the site's user with its own group, or with nginx's (sites.nginx_group). */
static const char *const owners[] = { "site", "site-web", NULL };

static const char *check_temp(const char *s, size_t n);
static const char *check_trash_id(const char *s, size_t n);

enum {
	FA_DOMAIN, FA_ROOT, FA_PATH, FA_TO, FA_MODE, FA_KIND, FA_TEMP, FA_OVERWRITE, FA_SORT,
	FA_DESC, FA_SEARCH, FA_LIMIT, FA_ID, FA_FORMAT, FA_OWNER, FA_RNAME, FA__MAX
};
/*
 * One table for every files.* operation: each handler says which of them it
 * needs (need()). path and to are not string-checked on purpose: the kernel
 * decides what is beneath the root.
 */
const struct ap_field ap_ops_files_args[FA__MAX + 1] = {
	/* domain (a site) or rootname (one of files.roots, for admins): froot_open wants one. */
	[FA_DOMAIN] = { .name = "domain", .type = AP_FIELD_HOSTNAME, .check = ap_valid_domain },
	[FA_ROOT] = { .name = "root", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 255, .check = ap_check_site_path },
	[FA_PATH] = { .name = "path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 4095 },
	[FA_TO] = { .name = "to", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 4095 },
	[FA_MODE] = { .name = "mode", .type = AP_FIELD_INT, .min = 0, .max = 0777 },
	[FA_KIND] = { .name = "kind", .type = AP_FIELD_ENUM, .choices = kinds },
	[FA_TEMP] = { .name = "temp", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 64, .check = check_temp },
	[FA_OVERWRITE] = { .name = "overwrite", .type = AP_FIELD_BOOL },
	[FA_SORT] = { .name = "sort", .type = AP_FIELD_ENUM, .choices = sorts },
	[FA_DESC] = { .name = "desc", .type = AP_FIELD_BOOL },
	[FA_SEARCH] = { .name = "search", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 255 },
	[FA_LIMIT] = { .name = "limit", .type = AP_FIELD_INT, .min = 1, .max = LIST_MAX },
	[FA_ID] = { .name = "id", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 32,
	    .check = check_trash_id },
	[FA_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats },
	[FA_OWNER] = { .name = "owner", .type = AP_FIELD_ENUM, .choices = owners },
	[FA_RNAME] = { .name = "rootname", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 32,
	    .check = ap_check_file_root_name },
	[FA__MAX] = AP_FIELD_END,
};

/* .aapanel-up-<12 of [A-Za-z0-9]>: the only temporary names files.commit takes. */
static const char *
check_temp(const char *s, size_t n)
{
	size_t p = strlen(TEMP_PREFIX);

	if (n != p + TEMP_RAND || memcmp(s, TEMP_PREFIX, p) != 0)
		goto bad;
	for (size_t i = p; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9')))
			goto bad;
	return NULL;
bad:
	return "must be a temporary name that files.begin gave";
}

/* <13 digits: Unix ms><4 hex>. */
static const char *
check_trash_id(const char *s, size_t n)
{
	if (n != 17)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (i >= 13 && s[i] >= 'a' && s[i] <= 'f')))
			goto bad;
	return NULL;
bad:
	return "must be a trash id as files.trash lists them";
}

/* ---- the site's root ------------------------------------------------- */

struct froot {
	int home; /* the site's home, O_RDONLY | O_DIRECTORY */
	int root; /* its document root: every path of the request is beneath it */
	uid_t uid;
	gid_t gid;
	bool chown; /* new files go to uid:gid */
	bool named; /* one of files.roots: its trash is <root>/.aapanel-trash, hidden */
	dev_t tdev; /* that trash's folder, when it exists (skipped by list, copy, pack) */
	ino_t tino;
};

/* A named root's trash folder (its st): listed, copied and packed never. */
static bool
is_trash(const struct froot *r, const struct stat *st)
{
	return r->named && r->tino != 0 && S_ISDIR(st->st_mode) && st->st_dev == r->tdev && st->st_ino == r->tino;
}

/* "the site's document root" or "the root www": what a refusal names. */
static const char *
where(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;

	if (a[FA_RNAME].present && !a[FA_DOMAIN].present)
		return ap_arena_printf(ctx->arena, "the root %s", a[FA_RNAME].s);
	return "the site's document root";
}

/*
 * A named root's path whose first segment (lexically, after "." and "..")
 * is its trash: refused (the trash has its own page). Convenience, not
 * confinement: the trash is inside the root.
 */
static bool
into_trash(const char *p)
{
	char seg[NAME_MAX_BYTES + 1];
	int depth = 0;
	bool first_trash = false;

	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n > 0 && n <= NAME_MAX_BYTES) {
			memcpy(seg, p, n);
			seg[n] = '\0';
			if (strcmp(seg, "..") == 0) {
				if (depth > 0 && --depth == 0)
					first_trash = false;
			} else if (strcmp(seg, ".") != 0) {
				if (depth == 0)
					first_trash = strcmp(seg, TRASH_DIR) == 0;
				depth++;
			}
		} else if (n > NAME_MAX_BYTES) {
			depth++;
		}
		p += n;
		p += strspn(p, "/");
	}
	return first_trash && depth > 0;
}

static void
froot_close(struct froot *r)
{
	if (r->root >= 0)
		close(r->root);
	if (r->home >= 0)
		close(r->home);
	r->root = r->home = -1;
}

static enum ap_err
fail(struct helper_ctx *ctx, enum ap_pb_code code, const char *field, const char *reason,
    enum ap_err rc)
{
	ap_problem_set(ctx->pb, code, field, "%s", reason);
	return rc;
}

static enum ap_err
need(struct helper_ctx *ctx, int idx)
{
	if (ctx->args[idx].present)
		return AP_OK;
	return fail(ctx, AP_PB_INVALID, ap_ops_files_args[idx].name, "is required",
	    AP_ERR_INVAL);
}

/*
 * One of the admins' other roots (files.roots, this helper's own
 * configuration: the request names it, never a path), opened beneath the
 * sandbox root; then every path beneath it as for a site. No home: its trash
 * is inside it (never listed, copied or packed; a path into it refused); what
 * is made there is given to the owner (uid, gid) of the root's own folder.
 */
static enum ap_err
named_root_open(struct helper_ctx *ctx, struct froot *r)
{
	char path[1100];
	const char *why = NULL;
	struct stat st;
	enum ap_err rc;

	r->home = r->root = -1;
	r->chown = false;
	r->named = true;
	r->tino = 0;
	if (!ap_file_root_find(ctx->cfg->files_roots, ctx->args[FA_RNAME].s, path, sizeof(path)))
		return fail(ctx, AP_PB_NOT_FOUND, "rootname", "is not one of files.roots", AP_ERR_NOTFOUND);
	/* "/srv/www" is beneath helper.sandbox_root ("/" in production), as every system path. */
	rc = ap_sandbox_open(ctx->sandbox_fd, path + strspn(path, "/"), O_RDONLY | O_DIRECTORY, 0, &r->root, &why);
	if (rc != AP_OK)
		return fail(ctx, rc == AP_ERR_NOTFOUND ? AP_PB_NOT_FOUND : AP_PB_FAILED, "rootname",
		    why != NULL ? why : "the root cannot be opened", rc == AP_ERR_NOTFOUND ? rc : AP_ERR_IO);
	/* What is made here belongs to the owner of the root's own folder, not to the helper. */
	if (fstat(r->root, &st) != 0) {
		froot_close(r);
		return fail(ctx, AP_PB_FAILED, "rootname", strerror(errno), AP_ERR_IO);
	}
	r->uid = st.st_uid;
	r->gid = st.st_gid;
	r->chown = geteuid() == 0 || st.st_uid == geteuid();
	if (fstatat(r->root, TRASH_DIR, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		r->tdev = st.st_dev;
		r->tino = st.st_ino;
	}
	for (int i = FA_PATH; i <= FA_TO; i++)
		if (ctx->args[i].present && into_trash(ctx->args[i].s)) {
			froot_close(r);
			return fail(ctx, AP_PB_INVALID, ap_ops_files_args[i].name,
			    ap_arena_printf(ctx->arena, "is in the trash of the root %s (use its trash page)",
				ctx->args[FA_RNAME].s), AP_ERR_INVAL);
		}
	return AP_OK;
}

static enum ap_err
froot_open(struct helper_ctx *ctx, struct froot *r)
{
	const struct ap_fieldval *a = ctx->args;
	const char *home, *docroot = a[FA_ROOT].present && a[FA_ROOT].len > 0 ? a[FA_ROOT].s : "public";
	const char *why = NULL;
	enum ap_err rc;

	/* A job's first output line names its site or root: the panel checks a job id against it
	 * (src/data/files.c). Nothing for an operation answered at once (ctx->job NULL). */
	if (ctx->job != NULL) {
		char line[300];
		int n = a[FA_DOMAIN].present ? snprintf(line, sizeof(line), "site %s\n", a[FA_DOMAIN].s)
		    : snprintf(line, sizeof(line), "root %s\n", a[FA_RNAME].present ? a[FA_RNAME].s : "");

		if (n > 0 && (size_t)n < sizeof(line))
			ap_job_output(ctx->job, line, (size_t)n);
	}
	if (a[FA_RNAME].present && !a[FA_DOMAIN].present)
		return named_root_open(ctx, r);
	r->home = r->root = -1;
	r->named = false;
	r->tino = 0;
	if ((rc = need(ctx, FA_DOMAIN)) != AP_OK)
		return rc;
	home = ap_arena_printf(ctx->arena, "%s/%s", ctx->cfg->sites_web_root, a[FA_DOMAIN].s);
	rc = ap_sandbox_open(ctx->sandbox_fd, home, O_RDONLY | O_DIRECTORY, 0, &r->home, &why);
	if (rc != AP_OK)
		return fail(ctx, rc == AP_ERR_NOTFOUND ? AP_PB_NOT_FOUND : AP_PB_FAILED, "domain",
		    "the site has no home directory", rc == AP_ERR_NOTFOUND ? rc : AP_ERR_IO);
	/* Inside the home its user may have made anything: no symlink at all on the way. */
	rc = ap_fs_dir_nofollow(r->home, docroot, false, 0, &r->root, &why);
	if (rc != AP_OK) {
		froot_close(r);
		return fail(ctx, rc == AP_ERR_NOTFOUND ? AP_PB_NOT_FOUND : AP_PB_FAILED, "root",
		    why != NULL ? why : "the document root cannot be opened",
		    rc == AP_ERR_NOTFOUND ? rc : AP_ERR_IO);
	}
	if (ap_ops_site_owner(ctx->cfg, a[FA_DOMAIN].s, &r->uid, &r->gid, &r->chown) != AP_OK) {
		froot_close(r);
		return fail(ctx, AP_PB_FAILED, "domain", "the site's system user does not exist",
		    AP_ERR_IO);
	}
	return AP_OK;
}

/* An error of ap_sandbox_open about the argument field. */
static enum ap_err
open_fail(struct helper_ctx *ctx, const char *field, enum ap_err rc, const char *why)
{
	switch (rc) {
	case AP_ERR_PERM:
		return fail(ctx, AP_PB_INVALID, field,
		    ap_arena_printf(ctx->arena, "leaves %s (an absolute path, .., or a link pointing outside)",
			where(ctx)), rc);
	case AP_ERR_NOTFOUND:
		return fail(ctx, AP_PB_NOT_FOUND, field, "does not exist", rc);
	case AP_ERR_INVAL:
		return fail(ctx, AP_PB_INVALID, field, why != NULL ? why : "is not a valid path", rc);
	default:
		if (errno == ENOTDIR)
			return fail(ctx, AP_PB_INVALID, field, "passes through something that is not a folder",
			    AP_ERR_INVAL);
		ap_problem_set(ctx->pb, AP_PB_FAILED, field, "%s", strerror(errno));
		return AP_ERR_IO;
	}
}

/* path as given, or "." for the root itself ("" or "."). */
static const char *
rel_or_root(const struct ap_fieldval *v)
{
	return v->present && v->len > 0 ? v->s : ".";
}

/* One name a request creates: a single segment of UTF-8, no control byte, no backslash. */
static const char *
name_problem(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_BYTES)
		return "must be a name of 1 to 255 bytes";
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return "must not be . or ..";
	if (!ap_utf8_valid(s, n))
		return "must be UTF-8 text";
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
			return "must not contain control characters, / or backslashes";
	}
	if (strncmp(s, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0)
		return "is a name the panel keeps for its own temporary files";
	return NULL;
}

/*
 * Split path into its parent (opened beneath the root, *dfd) and its last
 * name (*base, arena), checked as a name. Trailing slashes are dropped.
 */
static enum ap_err
open_parent(struct helper_ctx *ctx, const struct froot *r, const char *field, const char *path,
    int *dfd, const char **base)
{
	size_t n = strlen(path);
	char *p, *slash;
	const char *why = NULL, *bad;
	enum ap_err rc;

	*dfd = -1;
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return fail(ctx, AP_PB_INVALID, field, "is required", AP_ERR_INVAL);
	p = ap_arena_strdup(ctx->arena, path);
	p[n] = '\0';
	slash = strrchr(p, '/');
	if (slash == p)
		return open_fail(ctx, field, AP_ERR_PERM, NULL); /* "/name": absolute */
	if (slash != NULL)
		*slash = '\0';
	*base = slash != NULL ? slash + 1 : p;
	if ((bad = name_problem(*base, strlen(*base))) != NULL) {
		/* "..": the kernel would refuse it as leaving; say it so. */
		if (strcmp(*base, "..") == 0)
			return open_fail(ctx, field, AP_ERR_PERM, NULL);
		return fail(ctx, AP_PB_INVALID, field, bad, AP_ERR_INVAL);
	}
	rc = ap_sandbox_open(r->root, slash != NULL ? p : ".", O_RDONLY | O_DIRECTORY, 0, dfd, &why);
	if (rc != AP_OK)
		return open_fail(ctx, field, rc, why);
	return AP_OK;
}

static const char *
type_of(mode_t m)
{
	if (S_ISREG(m))
		return "file";
	if (S_ISDIR(m))
		return "dir";
	if (S_ISLNK(m))
		return "link";
	return "other";
}

static struct json_object *
stat_json(const struct stat *st)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "type", json_object_new_string(type_of(st->st_mode)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)st->st_size));
	json_object_object_add(o, "mtime", json_object_new_int64((int64_t)st->st_mtime));
	json_object_object_add(o, "mode", json_object_new_int64((int64_t)(st->st_mode & 07777)));
	return o;
}

static bool
hard_linked(const struct stat *st)
{
	return S_ISREG(st->st_mode) && st->st_nlink > 1;
}

/* A hard-linked file's refusal, naming where the request is. Arena. */
static const char *
hardlink_why(struct helper_ctx *ctx)
{
	return ap_arena_printf(ctx->arena, "has other hard links (it may be a file outside %s): refused",
	    where(ctx));
}

/* ---- files.list ------------------------------------------------------- */

struct entry {
	const char *name;
	struct stat st; /* only st_mode's type until stated (a listing by name: readdir's d_type) */
	const char *target;
	bool stated;
};

/* The entry's stat (and a link's target) once it is among those answered. */
static bool
entry_stat(struct helper_ctx *ctx, int dfd, struct entry *e)
{
	if (!e->stated && fstatat(dfd, e->name, &e->st, AT_SYMLINK_NOFOLLOW) != 0)
		return false;
	e->stated = true;
	if (S_ISLNK(e->st.st_mode) && e->target == NULL) {
		char t[PATH_MAX];
		ssize_t k = readlinkat(dfd, e->name, t, sizeof(t) - 1);

		if (k >= 0) {
			t[k] = '\0';
			e->target = ap_arena_strdup(ctx->arena, t);
		}
	}
	return true;
}

static int sort_key, sort_desc;

static int
entry_cmp(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	bool da = S_ISDIR(a->st.st_mode), db = S_ISDIR(b->st.st_mode);
	int c = 0;

	if (da != db)
		return da ? -1 : 1; /* folders first, whichever the order */
	if (sort_key == 1)
		c = a->st.st_size < b->st.st_size ? -1 : a->st.st_size > b->st.st_size;
	else if (sort_key == 2)
		c = a->st.st_mtime < b->st.st_mtime ? -1 : a->st.st_mtime > b->st.st_mtime;
	if (c == 0)
		c = strcmp(a->name, b->name);
	return sort_desc ? -c : c;
}

/*
 * A temporary file of a write (files.begin's name exactly) that has not
 * changed for TEMP_STALE_S is a killed write's leftover: a live write moves
 * its time with every piece, and is committed or dropped at once when it
 * ends. Removed; 1 when it was.
 */
#define TEMP_STALE_S 900
static int
temp_sweep(int dfd, const char *name)
{
	struct stat st;

	if (check_temp(name, strlen(name)) != NULL || fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode) || st.st_mtime > time(NULL) - TEMP_STALE_S)
		return 0;
	if (unlinkat(dfd, name, 0) != 0)
		return 0;
	AP_INFO("removed %s, a write's temporary file left unchanged for %d s", name, TEMP_STALE_S);
	return 1;
}

/* Every leftover temporary file in the folder dfd (temp_sweep); how many went. */
static int
temps_sweep(int dfd)
{
	int d2 = dup(dfd), n = 0;
	DIR *d = d2 >= 0 ? fdopendir(d2) : NULL;

	if (d == NULL) {
		if (d2 >= 0)
			close(d2);
		return 0;
	}
	for (struct dirent *de; (de = readdir(d)) != NULL;)
		if (strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0)
			n += temp_sweep(dfd, de->d_name);
	closedir(d);
	return n;
}

enum ap_err
ap_ops_files_list(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct froot r;
	struct json_object *items;
	struct entry *ents = NULL;
	int swept = 0;
	size_t n = 0, cap = 0, total = 0, limit;
	bool sort_by_name, hide_trash = false;
	const char *why = NULL;
	DIR *d = NULL;
	int dfd = -1;
	enum ap_err rc = froot_open(ctx, &r);

	if (rc != AP_OK)
		return rc;
	limit = a[FA_LIMIT].present ? (size_t)a[FA_LIMIT].i : LIST_DEFAULT;
	sort_by_name = !a[FA_SORT].present || a[FA_SORT].i == 0;
	rc = ap_sandbox_open(r.root, rel_or_root(&a[FA_PATH]), O_RDONLY | O_DIRECTORY, 0, &dfd, &why);
	if (rc != AP_OK) {
		rc = open_fail(ctx, "path", rc, why);
		goto out;
	}
	if ((d = fdopendir(dup(dfd))) == NULL) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		goto out;
	}
	if (r.named && r.tino != 0) {
		struct stat ds, rs;

		hide_trash = fstat(dfd, &ds) == 0 && fstat(r.root, &rs) == 0 && ds.st_dev == rs.st_dev &&
		    ds.st_ino == rs.st_ino;
	}
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		struct entry e = { 0 };

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (hide_trash && strcmp(de->d_name, TRASH_DIR) == 0)
			continue; /* a named root's trash: its own page */
		if (strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0) {
			swept += temp_sweep(dfd, de->d_name); /* an upload in progress, or a killed write's */
			continue;
		}
		if (a[FA_SEARCH].present && a[FA_SEARCH].len > 0 &&
		    strcasestr(de->d_name, a[FA_SEARCH].s) == NULL)
			continue;
		/* By name, readdir's type is enough to sort (folders first): only the entries answered
		 * are stated below (2000 of a folder of 10,000). By size or time, every one. */
		if (sort_by_name && de->d_type != DT_UNKNOWN)
			e.st.st_mode = DTTOIF(de->d_type);
		else if (fstatat(dfd, de->d_name, &e.st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		else
			e.stated = true;
		total++;
		e.name = ap_arena_strdup(ctx->arena, de->d_name);
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			ents = ap_xrealloc(ents, cap * sizeof(*ents));
		}
		ents[n++] = e;
	}
	sort_key = a[FA_SORT].present ? (int)a[FA_SORT].i : 0;
	sort_desc = a[FA_DESC].b;
	if (n > 0)
		qsort(ents, n, sizeof(*ents), entry_cmp);
	items = json_object_new_array();
	for (size_t i = 0; i < n && i < limit; i++) {
		struct json_object *o;

		if (!entry_stat(ctx, dfd, &ents[i]))
			continue; /* gone meanwhile */
		o = stat_json(&ents[i].st);

		json_object_object_add(o, "name", json_object_new_string(ents[i].name));
		if (ents[i].target != NULL && ap_utf8_valid(ents[i].target, strlen(ents[i].target)))
			json_object_object_add(o, "target", json_object_new_string(ents[i].target));
		json_object_array_add(items, o);
	}
	json_object_object_add(ctx->result, "items", items);
	json_object_object_add(ctx->result, "total", json_object_new_int64((int64_t)total));
	if (swept > 0)
		json_object_object_add(ctx->result, "swept", json_object_new_int(swept));
	json_object_object_add(ctx->result, "truncated", json_object_new_boolean(n > limit));
	rc = AP_OK;
out:
	free(ents);
	if (d != NULL)
		closedir(d);
	if (dfd >= 0)
		close(dfd);
	froot_close(&r);
	return rc;
}

/* ---- files.stat ------------------------------------------------------- */

enum ap_err
ap_ops_files_stat(struct helper_ctx *ctx)
{
	struct froot r;
	struct stat st;
	const char *why = NULL;
	int fd = -1;
	enum ap_err rc = froot_open(ctx, &r);

	if (rc != AP_OK)
		return rc;
	rc = ap_sandbox_open(r.root, rel_or_root(&ctx->args[FA_PATH]), O_PATH, 0, &fd, &why);
	if (rc != AP_OK) {
		rc = open_fail(ctx, "path", rc, why);
		goto out;
	}
	if (fstat(fd, &st) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		goto out;
	}
	{
		struct json_object *o = stat_json(&st);

		json_object_object_foreach(o, key, val) {
			json_object_object_add(ctx->result, key, json_object_get(val));
		}
		json_object_put(o);
	}
	json_object_object_add(ctx->result, "hard_linked", json_object_new_boolean(hard_linked(&st)));
out:
	if (fd >= 0)
		close(fd);
	froot_close(&r);
	return rc;
}

/* ---- files.open: a read descriptor ---------------------------------- */

enum ap_err
ap_ops_files_open(struct helper_ctx *ctx)
{
	struct froot r;
	struct stat st;
	const char *why = NULL;
	int fd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	rc = ap_sandbox_open(r.root, ctx->args[FA_PATH].s, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &fd,
	    &why);
	if (rc != AP_OK) {
		rc = open_fail(ctx, "path", rc, why);
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = fail(ctx, AP_PB_INVALID, "path", "is not a regular file", AP_ERR_INVAL);
		goto out;
	}
	if (hard_linked(&st)) {
		rc = fail(ctx, AP_PB_INVALID, "path", hardlink_why(ctx), AP_ERR_INVAL);
		goto out;
	}
	/* The worker reads it with ordinary blocking reads. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)st.st_size));
	json_object_object_add(ctx->result, "mtime", json_object_new_int64((int64_t)st.st_mtime));
	json_object_object_add(ctx->result, "mode", json_object_new_int64((int64_t)(st.st_mode & 07777)));
	ctx->pass_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	froot_close(&r);
	return rc;
}

/* ---- files.begin / commit / abort: writes by a temporary file -------- */

/* Types a web server runs rather than serves: refused outside PHP sites. */
static bool
server_executed(const char *name)
{
	static const char *const exts[] = { ".php", ".php3", ".php4", ".php5", ".php7", ".php8",
		".phtml", ".pht", ".phps", ".phar", NULL };
	size_t n = strlen(name);

	for (size_t i = 0; exts[i] != NULL; i++) {
		size_t e = strlen(exts[i]);

		if (n > e && strcasecmp(name + n - e, exts[i]) == 0)
			return true;
	}
	return false;
}

static enum ap_err
exec_check(struct helper_ctx *ctx, const char *base)
{
	bool php = ctx->args[FA_KIND].present && ctx->args[FA_KIND].i == 1;

	if (server_executed(base) && !php)
		return fail(ctx, AP_PB_INVALID, "path",
		    "is a type the web server runs (.php and the like); this site is not a PHP site",
		    AP_ERR_INVAL);
	return AP_OK;
}

/* What may be replaced: nothing, or a regular file without other links (never a link or a folder). */
static enum ap_err
target_check(struct helper_ctx *ctx, int dfd, const char *base, bool overwrite, mode_t *mode,
    bool *existed)
{
	struct stat st;

	*existed = false;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? AP_OK : fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	*existed = true;
	if (!overwrite)
		return fail(ctx, AP_PB_EXISTS, "path", "already exists", AP_ERR_IO);
	if (S_ISLNK(st.st_mode))
		return fail(ctx, AP_PB_INVALID, "path", "is a symbolic link: write to what it points to",
		    AP_ERR_INVAL);
	if (!S_ISREG(st.st_mode))
		return fail(ctx, AP_PB_INVALID, "path", "is not a regular file", AP_ERR_INVAL);
	if (hard_linked(&st))
		return fail(ctx, AP_PB_INVALID, "path", hardlink_why(ctx), AP_ERR_INVAL);
	*mode = st.st_mode & 0777;
	return AP_OK;
}

enum ap_err
ap_ops_files_begin(struct helper_ctx *ctx)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	struct froot r;
	const char *base;
	char temp[64];
	unsigned char rnd[TEMP_RAND];
	mode_t mode = 0644;
	bool existed;
	int dfd = -1, fd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &dfd, &base)) != AP_OK ||
	    (rc = exec_check(ctx, base)) != AP_OK ||
	    (rc = target_check(ctx, dfd, base, ctx->args[FA_OVERWRITE].b, &mode, &existed)) != AP_OK)
		goto out;
	(void)temps_sweep(dfd);
	for (int tries = 0; tries < 8 && fd < 0; tries++) {
		size_t p = strlen(TEMP_PREFIX);

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			break;
		memcpy(temp, TEMP_PREFIX, p);
		for (size_t i = 0; i < TEMP_RAND; i++)
			temp[p + i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
		temp[p + TEMP_RAND] = '\0';
		fd = openat(dfd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		goto out;
	}
	if ((r.chown && fchown(fd, r.uid, r.gid) != 0) || fchmod(fd, mode) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		unlinkat(dfd, temp, 0);
		goto out;
	}
	json_object_object_add(ctx->result, "temp", json_object_new_string(temp));
	json_object_object_add(ctx->result, "existed", json_object_new_boolean(existed));
	json_object_object_add(ctx->result, "mode", json_object_new_int64((int64_t)mode));
	ctx->pass_fd = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	froot_close(&r);
	return rc;
}

/* SHA-256 of an open file, as hex. */
static bool
sha256_fd(int fd, char hex[65])
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char buf[65536], md[32];
	unsigned mdlen = 0;
	ssize_t k;
	bool ok = m != NULL && EVP_DigestInit_ex(m, EVP_sha256(), NULL) == 1;

	if (ok && lseek(fd, 0, SEEK_SET) == 0) {
		while ((k = read(fd, buf, sizeof(buf))) > 0)
			ok = ok && EVP_DigestUpdate(m, buf, (size_t)k) == 1;
		ok = ok && k == 0;
	} else {
		ok = false;
	}
	ok = ok && EVP_DigestFinal_ex(m, md, &mdlen) == 1 && mdlen == 32;
	EVP_MD_CTX_free(m);
	if (ok)
		for (unsigned i = 0; i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return ok;
}

enum ap_err
ap_ops_files_commit(struct helper_ctx *ctx)
{
	const struct ap_fieldval *a = ctx->args;
	struct froot r;
	struct stat st;
	const char *base;
	mode_t mode = 0644;
	bool existed, over = a[FA_OVERWRITE].b;
	int dfd = -1, tfd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_TEMP)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", a[FA_PATH].s, &dfd, &base)) != AP_OK ||
	    (rc = exec_check(ctx, base)) != AP_OK ||
	    (rc = target_check(ctx, dfd, base, over, &mode, &existed)) != AP_OK)
		goto out;
	tfd = openat(dfd, a[FA_TEMP].s, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (tfd < 0 || fstat(tfd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (r.chown && st.st_uid != r.uid)) {
		rc = fail(ctx, AP_PB_NOT_FOUND, "temp", "is not a temporary file of this folder",
		    AP_ERR_NOTFOUND);
		goto out;
	}
	if (fsync(tfd) != 0 ||
	    renameat2(dfd, a[FA_TEMP].s, dfd, base, over ? 0 : RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "path",
		    errno == EEXIST ? "already exists" : strerror(errno), AP_ERR_IO);
		goto out;
	}
	fsync(dfd);
	json_object_object_add(ctx->result, "size", json_object_new_int64((int64_t)st.st_size));
	json_object_object_add(ctx->result, "replaced", json_object_new_boolean(existed));
	if (server_executed(base)) {
		char hex[65];

		if (sha256_fd(tfd, hex))
			json_object_object_add(ctx->result, "sha256", json_object_new_string(hex));
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	froot_close(&r);
	return rc;
}

enum ap_err
ap_ops_files_abort(struct helper_ctx *ctx)
{
	struct froot r;
	const char *base;
	int dfd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_TEMP)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &dfd, &base)) == AP_OK &&
	    unlinkat(dfd, ctx->args[FA_TEMP].s, 0) != 0 && errno != ENOENT)
		rc = fail(ctx, AP_PB_FAILED, "temp", strerror(errno), AP_ERR_IO);
	if (dfd >= 0)
		close(dfd);
	froot_close(&r);
	return rc;
}

/* ---- files.mkdir ------------------------------------------------------ */

enum ap_err
ap_ops_files_mkdir(struct helper_ctx *ctx)
{
	struct froot r;
	const char *base;
	int dfd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &dfd, &base)) != AP_OK)
		goto out;
	if (mkdirat(dfd, base, 0755) != 0) {
		rc = fail(ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "path",
		    errno == EEXIST ? "already exists" : strerror(errno), AP_ERR_IO);
		goto out;
	}
	if (r.chown && fchownat(dfd, base, r.uid, r.gid, AT_SYMLINK_NOFOLLOW) != 0)
		AP_WARN("files.mkdir: chown: %s", strerror(errno));
out:
	if (dfd >= 0)
		close(dfd);
	froot_close(&r);
	return rc;
}

/* ---- files.rename: move within the root ------------------------------ */

enum ap_err
ap_ops_files_rename(struct helper_ctx *ctx)
{
	struct froot r;
	const char *from, *to;
	int fd = -1, td = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_TO)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &fd, &from)) != AP_OK ||
	    (rc = open_parent(ctx, &r, "to", ctx->args[FA_TO].s, &td, &to)) != AP_OK ||
	    (rc = exec_check(ctx, to)) != AP_OK)
		goto out;
	if (renameat2(fd, from, td, to, RENAME_NOREPLACE) != 0) {
		int e = errno;

		rc = fail(ctx, e == EEXIST ? AP_PB_EXISTS : e == ENOENT ? AP_PB_NOT_FOUND
			: e == EINVAL ? AP_PB_INVALID : AP_PB_FAILED,
		    e == EEXIST ? "to" : e == ENOENT ? "path" : "to",
		    e == EEXIST ? "already exists" : e == ENOENT ? "does not exist"
			: e == EINVAL ? "is inside the folder being moved" : strerror(e),
		    e == ENOENT ? AP_ERR_NOTFOUND : AP_ERR_IO);
	}
out:
	if (fd >= 0)
		close(fd);
	if (td >= 0)
		close(td);
	froot_close(&r);
	return rc;
}

/* ---- files.copy ------------------------------------------------------- */

/*
 * A cancel (job.cancel: SIGTERM to the job's group, SIGKILL AP_JOB_GRACE_MS
 * later) stops a copy or a recursive chown at its next entry or chunk: the
 * copy then removes what it made, the chown reports what it changed.
 */
static volatile sig_atomic_t F_stop;

static void
on_term(int sig)
{
	(void)sig;
	F_stop = 1;
}

static void
stop_on_term(struct helper_ctx *ctx)
{
	struct sigaction sa = { .sa_handler = on_term, .sa_flags = SA_RESTART };

	if (ctx->job == NULL)
		return;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
}

static enum ap_err
stopped(struct helper_ctx *ctx)
{
	return fail(ctx, AP_PB_FAILED, NULL, "the job was cancelled", AP_ERR_IO);
}

struct copy {
	struct helper_ctx *ctx;
	const struct froot *r;
	size_t files;
	int64_t total, done; /* bytes (each entry counts 4096 too), for the job's progress */
	dev_t top_dev;
	ino_t top_ino; /* the copy's own top folder: never copied into itself */
};

static enum ap_err copy_at(struct copy *c, int sdir, const char *sname, int ddir,
    const char *dname, int depth);

/*
 * What a tree holds, before a job changes it (files.copy, files.chown with
 * recursive): its entries and bytes for the progress, and the first regular
 * file with other hard links (rel: its path from the top), which refuses the
 * job before anything is changed. Links are not followed, other filesystems
 * not entered.
 */
struct tcount {
	int64_t entries, bytes;
	dev_t dev;
	char hard[PATH_MAX];
	bool too_big;
};

static void
tree_count(struct tcount *t, int dfd, char *rel, size_t rlen, int depth)
{
	DIR *d;
	int fd2;

	if (depth > COPY_DEPTH_MAX) {
		t->too_big = true;
		return;
	}
	/* A dup shares its offset: read the folder from its start whoever read it before. */
	if ((fd2 = dup(dfd)) < 0 || lseek(fd2, 0, SEEK_SET) != 0 || (d = fdopendir(fd2)) == NULL) {
		if (fd2 >= 0)
			close(fd2);
		return;
	}
	for (struct dirent *de; !t->too_big && (de = readdir(d)) != NULL;) {
		struct stat st;
		size_t n = strlen(de->d_name), nl;
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (++t->entries > COPY_FILES_MAX) {
			t->too_big = true;
			break;
		}
		nl = rlen + (rlen > 0) + n;
		if (nl + 1 < PATH_MAX) {
			if (rlen > 0)
				rel[rlen] = '/';
			memcpy(rel + rlen + (rlen > 0), de->d_name, n + 1);
		} else {
			nl = rlen;
		}
		if (S_ISREG(st.st_mode)) {
			t->bytes += st.st_size;
			if (hard_linked(&st) && t->hard[0] == '\0')
				snprintf(t->hard, sizeof(t->hard), "%s", rel);
		} else if (S_ISDIR(st.st_mode) && st.st_dev == t->dev &&
		    (sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			tree_count(t, sub, rel, nl, depth + 1);
			close(sub);
		}
		rel[rlen] = '\0';
	}
	closedir(d);
}

/* Count the tree of the folder fd; a problem (too large, a hard link) refuses the job. */
static enum ap_err
tree_check(struct helper_ctx *ctx, int fd, const char *top, struct tcount *t)
{
	struct stat st;
	char rel[PATH_MAX] = "";

	memset(t, 0, sizeof(*t));
	if (fstat(fd, &st) != 0)
		return fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	t->dev = st.st_dev;
	if (S_ISDIR(st.st_mode))
		tree_count(t, fd, rel, 0, 0);
	if (t->too_big)
		return fail(ctx, AP_PB_INVALID, "path", "is too large (over 1000000 entries or 64 levels)",
		    AP_ERR_INVAL);
	if (t->hard[0] != '\0') {
		ap_problem_set(ctx->pb, AP_PB_INVALID, "path", "%s/%s %s", top, t->hard, hardlink_why(ctx));
		return AP_ERR_INVAL;
	}
	return AP_OK;
}

/* The job's progress: done of total, 1..99 while it runs. */
static void
tree_progress(struct helper_ctx *ctx, int64_t done, int64_t total)
{
	if (total > 0)
		ap_job_progress(ctx->job, 1 + (int)(done * 98 / total));
}

static enum ap_err
copy_file(struct copy *c, int sfd, const struct stat *st, int ddir, const char *dname)
{
	char buf[65536];
	ssize_t k = 0;
	int dfd = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    st->st_mode & 0777);

	if (dfd < 0)
		return fail(c->ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "to",
		    errno == EEXIST ? "already exists" : strerror(errno), AP_ERR_IO);
	if (c->r->chown && fchown(dfd, c->r->uid, c->r->gid) != 0)
		AP_WARN("files.copy: chown: %s", strerror(errno));
	while (!F_stop && (k = read(sfd, buf, sizeof(buf))) > 0) {
		if (write(dfd, buf, (size_t)k) != k) {
			k = -1;
			break;
		}
		c->done += k;
		tree_progress(c->ctx, c->done, c->total);
	}
	/* No fsync per file (12,000 of them took minutes): one syncfs when the copy is complete. */
	if (F_stop) {
		close(dfd);
		unlinkat(ddir, dname, 0);
		return stopped(c->ctx);
	}
	if (k < 0) {
		close(dfd);
		unlinkat(ddir, dname, 0);
		return fail(c->ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
	}
	close(dfd);
	return AP_OK;
}

static enum ap_err
copy_dir(struct copy *c, int sfd, int ddir, const char *dname, int depth)
{
	struct stat dst;
	enum ap_err rc = AP_OK;
	DIR *d;
	int nd;

	if (mkdirat(ddir, dname, 0755) != 0)
		return fail(c->ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "to",
		    errno == EEXIST ? "already exists" : strerror(errno), AP_ERR_IO);
	nd = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nd < 0 || fstat(nd, &dst) != 0)
		return fail(c->ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
	if (c->r->chown && fchown(nd, c->r->uid, c->r->gid) != 0)
		AP_WARN("files.copy: chown: %s", strerror(errno));
	if (depth == 0) {
		c->top_dev = dst.st_dev;
		c->top_ino = dst.st_ino;
	}
	if ((d = fdopendir(dup(sfd))) == NULL) {
		close(nd);
		return fail(c->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	}
	for (struct dirent *de; rc == AP_OK && (de = readdir(d)) != NULL;) {
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(sfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == c->top_dev && st.st_ino == c->top_ino)
			continue;
		rc = copy_at(c, sfd, de->d_name, nd, de->d_name, depth + 1);
	}
	closedir(d);
	close(nd);
	return rc;
}

static enum ap_err
copy_at(struct copy *c, int sdir, const char *sname, int ddir, const char *dname, int depth)
{
	struct stat st;
	enum ap_err rc;
	int sfd;

	if (F_stop)
		return stopped(c->ctx);
	if (depth > COPY_DEPTH_MAX || ++c->files > COPY_FILES_MAX)
		return fail(c->ctx, AP_PB_INVALID, "path",
		    "is too large (over 1000000 entries or 64 levels)", AP_ERR_INVAL);
	if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return fail(c->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	if (is_trash(c->r, &st))
		return AP_OK; /* a named root's trash: not copied */
	c->done += 4096;
	tree_progress(c->ctx, c->done, c->total);
	if (S_ISLNK(st.st_mode)) {
		/* Copied as a link: every later open is confined whatever it points to. */
		char t[PATH_MAX];
		ssize_t k = readlinkat(sdir, sname, t, sizeof(t) - 1);

		if (k < 0)
			return fail(c->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		t[k] = '\0';
		if (symlinkat(t, ddir, dname) != 0)
			return fail(c->ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
		if (c->r->chown)
			(void)!fchownat(ddir, dname, c->r->uid, c->r->gid, AT_SYMLINK_NOFOLLOW);
		return AP_OK;
	}
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return AP_OK; /* fifos, sockets, devices: not copied */
	sfd = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (sfd < 0 || fstat(sfd, &st) != 0) {
		if (sfd >= 0)
			close(sfd);
		return fail(c->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	}
	if (hard_linked(&st))
		rc = fail(c->ctx, AP_PB_INVALID, "path", hardlink_why(c->ctx), AP_ERR_INVAL);
	else if (S_ISREG(st.st_mode))
		rc = copy_file(c, sfd, &st, ddir, dname);
	else
		rc = copy_dir(c, sfd, ddir, dname, depth);
	close(sfd);
	return rc;
}

enum ap_err
ap_ops_files_copy(struct helper_ctx *ctx)
{
	struct froot r;
	struct copy c = { .ctx = ctx, .r = &r };
	const char *from, *to;
	int fd = -1, td = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_TO)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &fd, &from)) != AP_OK ||
	    (rc = open_parent(ctx, &r, "to", ctx->args[FA_TO].s, &td, &to)) != AP_OK ||
	    (rc = exec_check(ctx, to)) != AP_OK)
		goto out;
	/* A symlink named as the source is followed beneath the root, as any path. */
	{
		struct stat st;

		struct tcount t;
		int sfd;

		if (fstatat(fd, from, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			rc = fail(ctx, AP_PB_NOT_FOUND, "path", "does not exist", AP_ERR_NOTFOUND);
			goto out;
		}
		/* A job (HELPER_OP_JOB): the tree counted first, for the progress and its limits. */
		if (S_ISDIR(st.st_mode) &&
		    (sfd = openat(fd, from, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) >= 0) {
			rc = tree_check(ctx, sfd, ctx->args[FA_PATH].s, &t);
			close(sfd);
			if (rc != AP_OK)
				goto out;
			c.total = t.bytes + (t.entries + 1) * 4096;
		}
	}
	stop_on_term(ctx);
	rc = copy_at(&c, fd, from, td, to, 0);
	if (rc == AP_OK && syncfs(td) != 0)
		rc = fail(ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
	if (rc != AP_OK && ctx->pb->code != AP_PB_EXISTS) {
		/* Nothing half-copied; a cancel says what it had made and that it is gone (or not). */
		bool gone = ap_fs_remove_tree(td, to) == AP_OK || faccessat(td, to, F_OK, AT_SYMLINK_NOFOLLOW) != 0;

		if (F_stop) {
			json_object_object_add(ctx->result, "to", json_object_new_string(ctx->args[FA_TO].s));
			json_object_object_add(ctx->result, "removed", json_object_new_boolean(gone));
		}
	}
	json_object_object_add(ctx->result, "entries", json_object_new_int64((int64_t)c.files));
out:
	if (fd >= 0)
		close(fd);
	if (td >= 0)
		close(td);
	froot_close(&r);
	return rc;
}

/* ---- the trash -------------------------------------------------------- */

static enum ap_err
trash_open(struct helper_ctx *ctx, const struct froot *r, bool create, int *tfd)
{
	const char *why = NULL;
	enum ap_err rc;

	/* A site's trash is in its home, beside the document root; a named root's inside it
	 * (hidden: never listed, copied or packed; a path into it refused), on its filesystem. */
	rc = ap_fs_dir_nofollow(r->home >= 0 ? r->home : r->root, TRASH_DIR, create, 0700, tfd, &why);

	if (rc == AP_ERR_NOTFOUND && !create)
		return rc;
	if (rc != AP_OK)
		return fail(ctx, AP_PB_FAILED, NULL, why != NULL ? why : "the trash cannot be opened",
		    AP_ERR_IO);
	return AP_OK;
}

enum ap_err
ap_ops_files_delete(struct helper_ctx *ctx)
{
	struct froot r;
	const char *base;
	char id[18], origin[PATH_MAX + 1];
	unsigned char rnd[2];
	int dfd = -1, tfd = -1, ifd = -1;
	size_t n;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &dfd, &base)) != AP_OK)
		goto out;
	if (faccessat(dfd, base, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = fail(ctx, AP_PB_NOT_FOUND, "path", "does not exist", AP_ERR_NOTFOUND);
		goto out;
	}
	if ((rc = trash_open(ctx, &r, true, &tfd)) != AP_OK)
		goto out;
	if (getrandom(rnd, sizeof(rnd), 0) != 2)
		rnd[0] = rnd[1] = 0;
	snprintf(id, sizeof(id), "%013llu%02x%02x", (unsigned long long)ap_now_ms() % 10000000000000ULL,
	    rnd[0], rnd[1]);
	if (mkdirat(tfd, id, 0700) != 0 ||
	    (ifd = openat(tfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		rc = fail(ctx, AP_PB_FAILED, NULL, strerror(errno), AP_ERR_IO);
		goto out;
	}
	/* The original path, normalised to the parent's path as given + the name. */
	n = (size_t)snprintf(origin, sizeof(origin), "%s", ctx->args[FA_PATH].s);
	while (n > 1 && origin[n - 1] == '/')
		origin[--n] = '\0';
	if (ap_fs_write(ifd, "origin", origin, n, 0600) != AP_OK ||
	    renameat2(dfd, base, ifd, "item", RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		ap_fs_remove_tree(tfd, id);
		goto out;
	}
	json_object_object_add(ctx->result, "id", json_object_new_string(id));
out:
	if (ifd >= 0)
		close(ifd);
	if (tfd >= 0)
		close(tfd);
	if (dfd >= 0)
		close(dfd);
	froot_close(&r);
	return rc;
}

enum ap_err
ap_ops_files_trash(struct helper_ctx *ctx)
{
	struct froot r;
	struct json_object *items = json_object_new_array();
	int tfd = -1;
	DIR *d = NULL;
	enum ap_err rc = froot_open(ctx, &r);

	if (rc != AP_OK) {
		json_object_put(items);
		return rc;
	}
	rc = trash_open(ctx, &r, false, &tfd);
	if (rc == AP_ERR_NOTFOUND) {
		rc = AP_OK;
		goto done;
	}
	if (rc != AP_OK || (d = fdopendir(dup(tfd))) == NULL)
		goto done;
	for (struct dirent *de; (de = readdir(d)) != NULL;) {
		struct ap_buf o = { 0 };
		struct json_object *e;
		struct stat st;
		int ifd;

		if (check_trash_id(de->d_name, strlen(de->d_name)) != NULL)
			continue;
		ifd = openat(tfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (ifd < 0)
			continue;
		if (ap_fs_read(ifd, "origin", PATH_MAX, &o) == AP_OK &&
		    fstatat(ifd, "item", &st, AT_SYMLINK_NOFOLLOW) == 0 && ap_utf8_valid(o.data, o.len)) {
			e = stat_json(&st);
			json_object_object_add(e, "id", json_object_new_string(de->d_name));
			json_object_object_add(e, "path", json_object_new_string_len(o.data, (int)o.len));
			json_object_object_add(e, "deleted_at",
			    json_object_new_int64(strtoll(ap_arena_printf(ctx->arena, "%.13s", de->d_name),
				NULL, 10) / 1000));
			json_object_array_add(items, e);
		}
		ap_buf_free(&o);
		close(ifd);
	}
done:
	json_object_object_add(ctx->result, "items", items);
	if (d != NULL)
		closedir(d);
	if (tfd >= 0)
		close(tfd);
	froot_close(&r);
	return rc;
}

enum ap_err
ap_ops_files_restore(struct helper_ctx *ctx)
{
	struct froot r;
	struct ap_buf o = { 0 };
	const char *base;
	int tfd = -1, ifd = -1, dfd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_ID)) != AP_OK || (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = trash_open(ctx, &r, false, &tfd)) != AP_OK ||
	    (ifd = openat(tfd, ctx->args[FA_ID].s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    ap_fs_read(ifd, "origin", PATH_MAX, &o) != AP_OK) {
		rc = fail(ctx, AP_PB_NOT_FOUND, "id", "is not in the trash", AP_ERR_NOTFOUND);
		goto out;
	}
	/* The original place, opened beneath the root again as any path of a request. */
	if ((rc = open_parent(ctx, &r, "id", o.data, &dfd, &base)) != AP_OK)
		goto out;
	if (renameat2(ifd, "item", dfd, base, RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "id",
		    errno == EEXIST ? "its place is taken: rename what is there first" : strerror(errno),
		    AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "path", json_object_new_string(o.data));
	close(ifd);
	ifd = -1;
	ap_fs_remove_tree(tfd, ctx->args[FA_ID].s);
out:
	ap_buf_free(&o);
	if (dfd >= 0)
		close(dfd);
	if (ifd >= 0)
		close(ifd);
	if (tfd >= 0)
		close(tfd);
	froot_close(&r);
	return rc;
}

enum ap_err
ap_ops_files_empty(struct helper_ctx *ctx)
{
	struct froot r;
	int tfd = -1;
	int64_t removed = 0;
	DIR *d = NULL;
	enum ap_err rc = froot_open(ctx, &r);

	if (rc != AP_OK)
		return rc;
	rc = trash_open(ctx, &r, false, &tfd);
	if (rc == AP_ERR_NOTFOUND) {
		rc = AP_OK;
		goto out;
	}
	if (rc != AP_OK)
		goto out;
	if (ctx->args[FA_ID].present) {
		if (ap_fs_remove_tree(tfd, ctx->args[FA_ID].s) != AP_OK) {
			rc = fail(ctx, AP_PB_NOT_FOUND, "id", "is not in the trash", AP_ERR_NOTFOUND);
			goto out;
		}
		removed = 1;
	} else if ((d = fdopendir(dup(tfd))) != NULL) {
		for (struct dirent *de; (de = readdir(d)) != NULL;)
			if (check_trash_id(de->d_name, strlen(de->d_name)) == NULL &&
			    ap_fs_remove_tree(tfd, de->d_name) == AP_OK)
				removed++;
	}
	json_object_object_add(ctx->result, "removed", json_object_new_int64(removed));
out:
	if (d != NULL)
		closedir(d);
	if (tfd >= 0)
		close(tfd);
	froot_close(&r);
	return rc;
}

/* ---- files.chmod ------------------------------------------------------ */

enum ap_err
ap_ops_files_chmod(struct helper_ctx *ctx)
{
	struct froot r;
	struct stat st;
	const char *why = NULL;
	int fd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_MODE)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	rc = ap_sandbox_open(r.root, ctx->args[FA_PATH].s, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &fd,
	    &why);
	if (rc != AP_OK) {
		rc = open_fail(ctx, "path", rc, why);
		goto out;
	}
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
		rc = fail(ctx, AP_PB_INVALID, "path", "is not a file or a folder", AP_ERR_INVAL);
		goto out;
	}
	if (hard_linked(&st)) {
		rc = fail(ctx, AP_PB_INVALID, "path", hardlink_why(ctx), AP_ERR_INVAL);
		goto out;
	}
	if (fchmod(fd, (mode_t)ctx->args[FA_MODE].i) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "before", json_object_new_int64((int64_t)(st.st_mode & 07777)));
	json_object_object_add(ctx->result, "mode", json_object_new_int64(ctx->args[FA_MODE].i));
out:
	if (fd >= 0)
		close(fd);
	froot_close(&r);
	return rc;
}

/* ---- archives: files.extract, files.archive (jobs, libarchive) -------- */

/* A new hidden folder or file name beside the target: .aapanel-up-<12 random>. */
static void
temp_name(char out[64])
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[TEMP_RAND];
	size_t p = strlen(TEMP_PREFIX);

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		memset(rnd, 7, sizeof(rnd));
	memcpy(out, TEMP_PREFIX, p);
	for (size_t i = 0; i < TEMP_RAND; i++)
		out[p + i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
	out[p + TEMP_RAND] = '\0';
}

/* A directory beneath base, no symlink followed on the way (the extraction's own folders). */
static int
open_dir_strict(int base, const char *name)
{
	struct open_how how = { .flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };

	return (int)syscall(SYS_openat2, base, name, &how, sizeof(how));
}

struct xlimits {
	int64_t max_size, max_files, max_ratio;
};

static struct xlimits
limits_of(const struct ap_config *c)
{
	struct xlimits l = { c->files_extract_max_size, c->files_extract_max_files,
		c->files_extract_max_ratio };

	return l;
}

/*
 * An entry's path split into checked components: relative, no "..", each a
 * name (name_problem), "." components and a leading "./" dropped. Returns the
 * reason it is refused, or NULL; comps (arena) and *n filled.
 */
static const char *
entry_path(struct ap_arena *a, const char *path, char ***comps, size_t *n)
{
	char *p, *save = NULL, *c;
	size_t cap = 0;

	*comps = NULL;
	*n = 0;
	if (path == NULL || path[0] == '\0')
		return "has an entry without a name";
	if (path[0] == '/')
		return "has an entry with an absolute path";
	if (strlen(path) >= PATH_MAX)
		return "has an entry with a path too long";
	p = ap_arena_strdup(a, path);
	for (c = strtok_r(p, "/", &save); c != NULL; c = strtok_r(NULL, "/", &save)) {
		if (strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0)
			return "has an entry with .. in its path (it would land outside)";
		if (name_problem(c, strlen(c)) != NULL)
			return "has an entry whose name is not a plain name (a backslash, a control character, "
			       "or not UTF-8)";
		if (*n == cap) {
			char **nc = ap_arena_alloc(a, (cap ? cap * 2 : 8) * sizeof(*nc));

			if (*n)
				memcpy(nc, *comps, *n * sizeof(*nc));
			*comps = nc;
			cap = cap ? cap * 2 : 8;
		}
		(*comps)[(*n)++] = c;
	}
	return *n == 0 ? "has an entry without a name" : NULL;
}

/* A symlink's target that stays inside the folder it lands in: relative, no "..". */
static bool
link_inside(const char *t)
{
	const char *p = t;

	if (t == NULL || t[0] == '\0' || t[0] == '/')
		return false;
	while (*p) {
		size_t l = strcspn(p, "/");

		if (l == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += l;
		while (*p == '/')
			p++;
	}
	return true;
}

static enum ap_err
xfail(struct helper_ctx *ctx, const char *field, const char *entry, const char *why)
{
	if (entry != NULL && ap_utf8_valid(entry, strlen(entry)) && strlen(entry) < 120)
		ap_problem_set(ctx->pb, AP_PB_INVALID, field, "the archive %s: %s", why, entry);
	else
		ap_problem_set(ctx->pb, AP_PB_INVALID, field, "the archive %s", why);
	return AP_ERR_INVAL;
}

static bool
write_all_fd(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Extract every entry of a into the folder xfd; AP_OK or the refusal. */
static enum ap_err
extract_into(struct helper_ctx *ctx, const struct froot *r, struct archive *a, int xfd, off_t asz)
{
	struct xlimits lim = limits_of(ctx->cfg);
	struct archive_entry *e;
	static char buf[65536];
	int64_t total = 0, files = 0;
	int rc;

	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname_utf8(e) != NULL ? archive_entry_pathname_utf8(e)
									   : archive_entry_pathname(e), *why;
		const char *target = archive_entry_symlink_utf8(e) != NULL ? archive_entry_symlink_utf8(e)
									    : archive_entry_symlink(e);
		mode_t type = archive_entry_filetype(e);
		char **comps;
		size_t n;
		int dir = -1, cur;

		if (F_stop)
			return stopped(ctx);
		if (++files > lim.max_files)
			return xfail(ctx, "path", NULL, "has more entries than files.extract_max_files");
		if ((why = entry_path(ctx->arena, name, &comps, &n)) != NULL)
			return xfail(ctx, "path", name, why);
		if (archive_entry_hardlink(e) != NULL)
			return xfail(ctx, "path", name, "has a hard link entry (refused: it may point anywhere)");
		if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
			return xfail(ctx, "path", name, "has a device file, fifo or socket entry (refused)");
		if (type == AE_IFLNK && !link_inside(target))
			return xfail(ctx, "path", name, "has a symbolic link pointing out of its folder (refused)");
		if (type == AE_IFREG && exec_check(ctx, comps[n - 1]) != AP_OK)
			return xfail(ctx, "path", name,
			    "holds a type the web server runs (.php and the like) and this is not a PHP site");
		/* The folders on the way, made here and never through a link. */
		cur = dup(xfd);
		for (size_t i = 0; cur >= 0 && i + 1 < n; i++) {
			if (mkdirat(cur, comps[i], 0755) == 0 && r->chown)
				(void)!fchownat(cur, comps[i], r->uid, r->gid, AT_SYMLINK_NOFOLLOW);
			dir = open_dir_strict(cur, comps[i]);
			close(cur);
			cur = dir;
		}
		if (cur < 0)
			return xfail(ctx, "path", name, "has an entry through a link or a file (refused)");
		if (type == AE_IFDIR) {
			if (mkdirat(cur, comps[n - 1], 0755) == 0 && r->chown)
				(void)!fchownat(cur, comps[n - 1], r->uid, r->gid, AT_SYMLINK_NOFOLLOW);
		} else if (type == AE_IFLNK) {
			if (symlinkat(target, cur, comps[n - 1]) != 0) {
				close(cur);
				return xfail(ctx, "path", name, "lists an entry twice");
			}
			if (r->chown)
				(void)!fchownat(cur, comps[n - 1], r->uid, r->gid, AT_SYMLINK_NOFOLLOW);
		} else {
			int fd = openat(cur, comps[n - 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0644);
			la_ssize_t k;

			if (fd < 0) {
				close(cur);
				return xfail(ctx, "path", name, "lists an entry twice");
			}
			if (r->chown && fchown(fd, r->uid, r->gid) != 0)
				AP_WARN("files.extract: chown: %s", strerror(errno));
			while ((k = archive_read_data(a, buf, sizeof(buf))) > 0) {
				if (F_stop) {
					close(fd);
					close(cur);
					return stopped(ctx);
				}
				total += k;
				if (total > lim.max_size) {
					close(fd);
					close(cur);
					return xfail(ctx, "path", NULL,
					    "unpacks to more than files.extract_max_size: stopped (an archive bomb?)");
				}
				if (total > (int64_t)1 << 20 && total > lim.max_ratio * (int64_t)(asz > 0 ? asz : 1)) {
					close(fd);
					close(cur);
					return xfail(ctx, "path", NULL,
					    "unpacks to more than files.extract_max_ratio times its size: stopped (an "
					    "archive bomb?)");
				}
				if (!write_all_fd(fd, buf, (size_t)k)) {
					close(fd);
					close(cur);
					return fail(ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
				}
			}
			close(fd);
			if (k < 0) {
				close(cur);
				return xfail(ctx, "path", name, "cannot be read");
			}
		}
		close(cur);
		if (ctx->job != NULL && asz > 0) {
			int64_t done = archive_filter_bytes(a, -1);

			ap_job_progress(ctx->job, (int)(done * 98 / asz) + 1 > 99 ? 99 : (int)(done * 98 / asz) + 1);
		}
	}
	if (rc != ARCHIVE_EOF) {
		ap_problem_set(ctx->pb, AP_PB_INVALID, "path", "is not an archive that can be read (%s)",
		    archive_error_string(a) ? archive_error_string(a) : "unknown format");
		return AP_ERR_INVAL;
	}
	json_object_object_add(ctx->result, "entries", json_object_new_int64(files));
	json_object_object_add(ctx->result, "size", json_object_new_int64(total));
	return AP_OK;
}

enum ap_err
ap_ops_files_extract(struct helper_ctx *ctx)
{
	struct froot r;
	struct stat st;
	struct archive *a = NULL;
	const char *base, *why = NULL;
	char tmp[64];
	int afd = -1, dfd = -1, xfd = -1;
	bool made = false;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_TO)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	rc = ap_sandbox_open(r.root, ctx->args[FA_PATH].s, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &afd, &why);
	if (rc != AP_OK) {
		rc = open_fail(ctx, "path", rc, why);
		goto out;
	}
	if (fstat(afd, &st) != 0 || !S_ISREG(st.st_mode) || hard_linked(&st)) {
		rc = fail(ctx, AP_PB_INVALID, "path",
		    ap_arena_printf(ctx->arena, "is not a regular file of %s", where(ctx)), AP_ERR_INVAL);
		goto out;
	}
	fcntl(afd, F_SETFL, fcntl(afd, F_GETFL) & ~O_NONBLOCK);
	if ((rc = open_parent(ctx, &r, "to", ctx->args[FA_TO].s, &dfd, &base)) != AP_OK)
		goto out;
	if (faccessat(dfd, base, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = fail(ctx, AP_PB_EXISTS, "to", "already exists", AP_ERR_IO);
		goto out;
	}
	/* Into a new hidden folder beside the target, renamed to it once all is out. */
	temp_name(tmp);
	if (mkdirat(dfd, tmp, 0700) != 0 || (xfd = open_dir_strict(dfd, tmp)) < 0) {
		rc = fail(ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
		goto out;
	}
	made = true;
	/* Names as UTF-8 whatever the archive's own charset flags say (this is the job's process). */
	setlocale(LC_CTYPE, "C.UTF-8");
	a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	if (archive_read_open_fd(a, afd, 65536) != ARCHIVE_OK) {
		rc = fail(ctx, AP_PB_INVALID, "path", "is not an archive that can be read (zip, tar, tar.gz, tar.xz)",
		    AP_ERR_INVAL);
		goto out;
	}
	stop_on_term(ctx);
	if ((rc = extract_into(ctx, &r, a, xfd, st.st_size)) != AP_OK) {
		if (F_stop) /* what it had unpacked (a hidden folder) is removed below */
			json_object_object_add(ctx->result, "to", json_object_new_string(ctx->args[FA_TO].s));
		goto out;
	}
	if (fchmod(xfd, 0755) != 0 || (r.chown && fchown(xfd, r.uid, r.gid) != 0) ||
	    renameat2(dfd, tmp, dfd, base, RENAME_NOREPLACE) != 0) {
		rc = fail(ctx, errno == EEXIST ? AP_PB_EXISTS : AP_PB_FAILED, "to",
		    errno == EEXIST ? "already exists" : strerror(errno), AP_ERR_IO);
		goto out;
	}
	made = false;
	json_object_object_add(ctx->result, "path", json_object_new_string(ctx->args[FA_TO].s));
out:
	if (a != NULL)
		archive_read_free(a);
	if (xfd >= 0)
		close(xfd);
	if (made) {
		/* nothing half-extracted stays */
		bool gone = ap_fs_remove_tree(dfd, tmp) == AP_OK || faccessat(dfd, tmp, F_OK, AT_SYMLINK_NOFOLLOW) != 0;

		if (F_stop)
			json_object_object_add(ctx->result, "removed", json_object_new_boolean(gone));
	}
	if (dfd >= 0)
		close(dfd);
	if (afd >= 0)
		close(afd);
	froot_close(&r);
	return rc;
}

struct pack {
	struct helper_ctx *ctx;
	const struct froot *r; /* a named root's trash is not packed */
	struct archive *a;
	int64_t files, size, max_files;
};

static enum ap_err
pack_at(struct pack *p, int dir, const char *name, const char *apath, int depth)
{
	struct archive_entry *e;
	struct stat st;
	enum ap_err rc = AP_OK;
	int fd;

	if (F_stop)
		return stopped(p->ctx);
	if (depth > COPY_DEPTH_MAX || ++p->files > p->max_files)
		return fail(p->ctx, AP_PB_INVALID, "path", "has too many entries to pack (files.extract_max_files)",
		    AP_ERR_INVAL);
	if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return fail(p->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	if (strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0 || (p->r != NULL && is_trash(p->r, &st)))
		return AP_OK;
	e = archive_entry_new();
	archive_entry_update_pathname_utf8(e, apath);
	archive_entry_set_mtime(e, st.st_mtime, 0);
	archive_entry_set_perm(e, st.st_mode & 0777);
	if (S_ISLNK(st.st_mode)) {
		char t[PATH_MAX];
		ssize_t k = readlinkat(dir, name, t, sizeof(t) - 1);

		t[k > 0 ? k : 0] = '\0';
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_update_symlink_utf8(e, t);
		archive_write_header(p->a, e);
	} else if (S_ISDIR(st.st_mode)) {
		DIR *d;

		archive_entry_set_filetype(e, AE_IFDIR);
		archive_write_header(p->a, e);
		fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || (d = fdopendir(fd)) == NULL) {
			if (fd >= 0)
				close(fd);
			archive_entry_free(e);
			return fail(p->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		}
		for (struct dirent *de; rc == AP_OK && (de = readdir(d)) != NULL;) {
			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			rc = pack_at(p, dirfd(d), de->d_name,
			    ap_arena_printf(p->ctx->arena, "%s/%s", apath, de->d_name), depth + 1);
		}
		closedir(d);
	} else if (S_ISREG(st.st_mode)) {
		char buf[65536];
		ssize_t k;

		if (hard_linked(&st)) {
			archive_entry_free(e);
			return fail(p->ctx, AP_PB_INVALID, "path", hardlink_why(p->ctx), AP_ERR_INVAL);
		}
		fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			archive_entry_free(e);
			return fail(p->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		}
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, st.st_size);
		archive_write_header(p->a, e);
		while (!F_stop && (k = read(fd, buf, sizeof(buf))) > 0) {
			archive_write_data(p->a, buf, (size_t)k);
			p->size += k;
		}
		close(fd);
		if (F_stop)
			rc = stopped(p->ctx);
	}
	archive_entry_free(e);
	return rc;
}

enum ap_err
ap_ops_files_archive(struct helper_ctx *ctx)
{
	struct froot r;
	struct pack p = { .ctx = ctx, .r = &r, .max_files = ctx->cfg->files_extract_max_files };
	const char *from, *to;
	char tmp[64];
	int fd = -1, td = -1, out = -1, fmt = ctx->args[FA_FORMAT].present ? (int)ctx->args[FA_FORMAT].i : 0;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_TO)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &fd, &from)) != AP_OK ||
	    (rc = open_parent(ctx, &r, "to", ctx->args[FA_TO].s, &td, &to)) != AP_OK)
		goto done;
	if (faccessat(td, to, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
		rc = fail(ctx, AP_PB_EXISTS, "to", "already exists", AP_ERR_IO);
		goto done;
	}
	temp_name(tmp);
	out = openat(td, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (out < 0) {
		rc = fail(ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
		goto done;
	}
	setlocale(LC_CTYPE, "C.UTF-8");
	p.a = archive_write_new();
	if (fmt == 0) {
		archive_write_set_format_zip(p.a);
		archive_write_set_options(p.a, "hdrcharset=UTF-8");
	} else {
		archive_write_set_format_pax_restricted(p.a);
		if (fmt == 1)
			archive_write_add_filter_gzip(p.a);
		else if (fmt == 2)
			archive_write_add_filter_xz(p.a);
	}
	archive_write_open_fd(p.a, out);
	stop_on_term(ctx);
	rc = pack_at(&p, fd, from, from, 0);
	if (archive_write_close(p.a) != ARCHIVE_OK && rc == AP_OK)
		rc = fail(ctx, AP_PB_FAILED, "to", archive_error_string(p.a), AP_ERR_IO);
	archive_write_free(p.a);
	if (rc == AP_OK && (fsync(out) != 0 || (r.chown && fchown(out, r.uid, r.gid) != 0) ||
		renameat2(td, tmp, td, to, RENAME_NOREPLACE) != 0))
		rc = fail(ctx, AP_PB_FAILED, "to", strerror(errno), AP_ERR_IO);
	if (rc != AP_OK) {
		/* A cancel: the archive it was writing (a hidden temporary file) removed. */
		bool gone = unlinkat(td, tmp, 0) == 0 || errno == ENOENT;

		if (F_stop) {
			json_object_object_add(ctx->result, "to", json_object_new_string(ctx->args[FA_TO].s));
			json_object_object_add(ctx->result, "removed", json_object_new_boolean(gone));
		}
	}
	json_object_object_add(ctx->result, "entries", json_object_new_int64(p.files));
	json_object_object_add(ctx->result, "size", json_object_new_int64(p.size));
done:
	if (out >= 0)
		close(out);
	if (fd >= 0)
		close(fd);
	if (td >= 0)
		close(td);
	froot_close(&r);
	return rc;
}

/*
 * files.pack: a file or folder as an archive (format, zip by default) written
 * into a pipe whose read end is passed to the worker, which streams it as the
 * download: nothing is stored. A grandchild writes it (double fork: the
 * helper's loop waits for nobody and reaps no stray child), with the
 * folder's descriptor only; it stops at files.extract_max_files entries,
 * refuses hard-linked files like files.archive (the archive then ends there,
 * unfinished: any unarchiver says it is damaged), and exits when the worker
 * stops reading (EPIPE) or after an hour.
 */
enum ap_err
ap_ops_files_pack(struct helper_ctx *ctx)
{
	struct froot r;
	const char *from, *root_name = NULL;
	int fd = -1, pfd[2] = { -1, -1 }, fmt = ctx->args[FA_FORMAT].present ? (int)ctx->args[FA_FORMAT].i : 0;
	pid_t pid;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if (strcmp(ctx->args[FA_PATH].s, ".") == 0) {
		/* The whole document root, its entries under the site's name. */
		if ((fd = dup(r.root)) < 0) {
			rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
			goto done;
		}
		from = ".";
		root_name = ctx->args[FA_DOMAIN].present ? ctx->args[FA_DOMAIN].s : ctx->args[FA_RNAME].s;
	} else if ((rc = open_parent(ctx, &r, "path", ctx->args[FA_PATH].s, &fd, &from)) != AP_OK)
		goto done;
	if (faccessat(fd, from, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = fail(ctx, AP_PB_NOT_FOUND, "path", "does not exist", AP_ERR_NOTFOUND);
		goto done;
	}
	if (pipe2(pfd, O_CLOEXEC) != 0 || (pid = fork()) < 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		goto done;
	}
	if (pid == 0) {
		pid_t g = fork();

		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		/* The grandchild: only the folder and the pipe's write end (none of the helper's sockets). */
		for (int i = 3; i < 4096; i++)
			if (i != fd && i != pfd[1])
				close(i);
		signal(SIGPIPE, SIG_IGN);
		alarm(3600);
		{
			struct pack p = { .ctx = ctx, .r = &r, .max_files = ctx->cfg->files_extract_max_files };
			int ok;

			setlocale(LC_CTYPE, "C.UTF-8");
			p.a = archive_write_new();
			if (fmt == 0) {
				archive_write_set_format_zip(p.a);
				archive_write_set_options(p.a, "hdrcharset=UTF-8");
			} else {
				archive_write_set_format_pax_restricted(p.a);
				if (fmt == 1)
					archive_write_add_filter_gzip(p.a);
				else if (fmt == 2)
					archive_write_add_filter_xz(p.a);
			}
			archive_write_set_bytes_in_last_block(p.a, 1);
			archive_write_open_fd(p.a, pfd[1]);
			ok = pack_at(&p, fd, from, root_name != NULL ? root_name : from, 0) == AP_OK;
			if (ok)
				ok = archive_write_close(p.a) == ARCHIVE_OK;
			_exit(ok ? 0 : 1);
		}
	}
	waitpid(pid, NULL, 0);
	close(pfd[1]);
	pfd[1] = -1;
	ctx->pass_fd = pfd[0];
	pfd[0] = -1;
	json_object_object_add(ctx->result, "format", json_object_new_string(formats[fmt]));
done:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	if (fd >= 0)
		close(fd);
	froot_close(&r);
	return rc;
}

/*
 * files.chown: a file or folder (not what is in it) given to one of the
 * site's own: its system user with its group ("site") or with nginx's group
 * ("site-web", sites.nginx_group: nginx reads it without "other" bits). No
 * other owner can be named. Refused (409) when sites have no system users.
 */
/*
 * Everything beneath the folder dfd to uid:gid (files.chown_tree, a job):
 * entries opened O_PATH | O_NOFOLLOW one by one and changed by descriptor, so
 * a link is changed itself and never followed; folders entered without
 * following links and not on another filesystem; a regular file with other
 * hard links (made since the count refused them) is left as it is.
 */
struct ctree {
	struct helper_ctx *ctx;
	uid_t uid;
	gid_t gid;
	dev_t dev;
	int64_t total, done, skipped;
};

static enum ap_err
chown_tree(struct ctree *t, int dfd, int depth)
{
	enum ap_err rc = AP_OK;
	DIR *d;
	int fd2;

	if (depth > COPY_DEPTH_MAX)
		return fail(t->ctx, AP_PB_INVALID, "path", "is too large (over 1000000 entries or 64 levels)",
		    AP_ERR_INVAL);
	/* A dup shares its offset: read the folder from its start whoever read it before. */
	if ((fd2 = dup(dfd)) < 0 || lseek(fd2, 0, SEEK_SET) != 0 || (d = fdopendir(fd2)) == NULL) {
		if (fd2 >= 0)
			close(fd2);
		return fail(t->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
	}
	for (struct dirent *de; rc == AP_OK && (de = readdir(d)) != NULL;) {
		struct stat st;
		int fd;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (F_stop) {
			rc = stopped(t->ctx);
			break;
		}
		tree_progress(t->ctx, ++t->done, t->total);
		fd = openat(dfd, de->d_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			if (fd >= 0)
				close(fd);
			continue; /* gone meanwhile */
		}
		if ((S_ISREG(st.st_mode) && hard_linked(&st)) ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode)) ||
		    (S_ISDIR(st.st_mode) && st.st_dev != t->dev)) {
			t->skipped++;
		} else if (fchownat(fd, "", t->uid, t->gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) != 0) {
			rc = fail(t->ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			struct stat st2;

			/* The same folder as the one changed (not swapped for a link meanwhile). */
			if (sub >= 0 && fstat(sub, &st2) == 0 && st2.st_ino == st.st_ino && st2.st_dev == st.st_dev)
				rc = chown_tree(t, sub, depth + 1);
			if (sub >= 0)
				close(sub);
		}
		close(fd);
	}
	closedir(d);
	return rc;
}

static enum ap_err
chown_op(struct helper_ctx *ctx, bool tree)
{
	struct froot r;
	struct stat st;
	const char *why = NULL;
	gid_t gid;
	int fd = -1;
	enum ap_err rc;

	if ((rc = need(ctx, FA_PATH)) != AP_OK || (rc = need(ctx, FA_OWNER)) != AP_OK ||
	    (rc = froot_open(ctx, &r)) != AP_OK)
		return rc;
	if (r.named) { /* what is made there is its folder's owner's already: nothing to give */
		rc = fail(ctx, AP_PB_CONFLICT, "owner", "a root of files.roots has no site user", AP_ERR_INVAL);
		goto out;
	}
	if (!r.chown) {
		rc = fail(ctx, AP_PB_CONFLICT, "owner",
		    "the site has no system user of its own (sites.system_users is off)", AP_ERR_INVAL);
		goto out;
	}
	gid = r.gid;
	if (ctx->args[FA_OWNER].i == 1) {
		struct group *g = ctx->cfg->sites_nginx_group && ctx->cfg->sites_nginx_group[0] ?
		    getgrnam(ctx->cfg->sites_nginx_group) : NULL;

		if (g == NULL) {
			rc = fail(ctx, AP_PB_CONFLICT, "owner", "nginx's group (sites.nginx_group) does not exist",
			    AP_ERR_INVAL);
			goto out;
		}
		gid = g->gr_gid;
	}
	rc = ap_sandbox_open(r.root, ctx->args[FA_PATH].s, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, &fd, &why);
	if (rc != AP_OK) {
		rc = open_fail(ctx, "path", rc, why);
		goto out;
	}
	if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
		rc = fail(ctx, AP_PB_INVALID, "path", "is not a file or a folder", AP_ERR_INVAL);
		goto out;
	}
	if (hard_linked(&st)) {
		rc = fail(ctx, AP_PB_INVALID, "path", hardlink_why(ctx), AP_ERR_INVAL);
		goto out;
	}
	if (tree && S_ISDIR(st.st_mode)) {
		struct tcount tc;
		struct ctree t = { .ctx = ctx, .uid = r.uid, .gid = gid, .dev = st.st_dev };

		/* Counted first: a hard-linked file anywhere refuses it before anything changes. */
		if ((rc = tree_check(ctx, fd, ctx->args[FA_PATH].s, &tc)) != AP_OK)
			goto out;
		t.total = tc.entries;
		stop_on_term(ctx);
		if (fchown(fd, r.uid, gid) != 0) {
			rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
			goto out;
		}
		rc = chown_tree(&t, fd, 0);
		/* Cancelled: the entries changed so far (their new owner stays) of the total. */
		json_object_object_add(ctx->result, "entries", json_object_new_int64(t.done + 1));
		json_object_object_add(ctx->result, "skipped", json_object_new_int64(t.skipped));
		if (rc != AP_OK) {
			json_object_object_add(ctx->result, "total", json_object_new_int64(t.total + 1));
			goto out;
		}
	} else if (fchown(fd, r.uid, gid) != 0) {
		rc = fail(ctx, AP_PB_FAILED, "path", strerror(errno), AP_ERR_IO);
		goto out;
	}
	json_object_object_add(ctx->result, "before_uid", json_object_new_int64((int64_t)st.st_uid));
	json_object_object_add(ctx->result, "before_gid", json_object_new_int64((int64_t)st.st_gid));
	json_object_object_add(ctx->result, "uid", json_object_new_int64((int64_t)r.uid));
	json_object_object_add(ctx->result, "gid", json_object_new_int64((int64_t)gid));
out:
	if (fd >= 0)
		close(fd);
	froot_close(&r);
	return rc;
}

enum ap_err
ap_ops_files_chown(struct helper_ctx *ctx)
{
	return chown_op(ctx, false);
}

/* The folder and everything in it (a job: counted, then changed with progress). */
enum ap_err
ap_ops_files_chown_tree(struct helper_ctx *ctx)
{
	return chown_op(ctx, true);
}
