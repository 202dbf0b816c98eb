/*
 * dbio.c — a database's export and import (docs/databases.md, "Import and
 * export"), as helper jobs with progress (src/data/dbio.c does the work).
 * databases.write for all of it (a dump holds every row; an import changes
 * them); the job's page is databases.read.
 *
 *   POST /databases/{id}/export            start an export (format sql|sql.gz)
 *   POST /databases/{id}/import            the dump as the body (octet-stream,
 *                                          format in the query), streamed
 *   POST /databases/{id}/import/upload     the same from the page's form (multipart)
 *   GET  /databases/{id}/jobs/{job}        the job: state, progress, error, result
 *   GET  /databases/{id}/jobs/{job}/download  a finished export, once
 *
 * Audited (outcome ok when started, with its job): each export (format),
 * each import (format, the upload's size and SHA-256; failed when refused),
 * each download (size, SHA-256).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aapanel/auth.h"
#include "aapanel/databases.h"
#include "aapanel/dbhistory.h"
#include "aapanel/dbio.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"

static const char *const formats[] = { "sql", "sql.gz", NULL };
static const char *const states[] = { "queued", "running", "done", "failed", "timeout", NULL };
static const char *const kinds[] = { "export", "import", NULL };

enum { EX_ID, EX_FORMAT, EX__MAX };
const struct ap_field ap_database_export_fields[EX__MAX + 1] = {
	[EX_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[EX_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .choices = formats,
	    .desc = "sql, or sql.gz (gzip-compressed; the default)" },
	[EX__MAX] = AP_FIELD_END,
};

enum { IS_ID, IS_FORMAT, IS__MAX };
const struct ap_field ap_database_import_fields[IS__MAX + 1] = {
	[IS_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[IS_FORMAT] = { .name = "format", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = formats,
	    .desc = "what the body is: sql, or sql.gz (gzip)" },
	[IS__MAX] = AP_FIELD_END,
};

enum { IU_ID, IU__MAX };
const struct ap_field ap_database_import_form_fields[IU__MAX + 1] = {
	[IU_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[IU__MAX] = AP_FIELD_END,
};

enum { JB_ID, JB_JOB, JB__MAX };
const struct ap_field ap_database_job_fields[JB__MAX + 1] = {
	[JB_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[JB_JOB] = { .name = "job", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[JB__MAX] = AP_FIELD_END,
};

static const struct ap_prop result_props[] = {
	{ .name = "server", .type = AP_J_STRING },
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "format", .type = AP_J_STRING, .flags = AP_J_OPT, .choices = formats },
	{ .name = "size", .type = AP_J_INT, .desc = "bytes of the dump (as downloaded, or as uploaded)" },
	{ .name = "bytes", .type = AP_J_INT, .desc = "bytes of SQL (uncompressed) written or fed" },
	{ .name = "sha256", .type = AP_J_STRING, .desc = "of the dump as downloaded or uploaded" },
	{ .name = "token", .type = AP_J_STRING, .flags = AP_J_OPT, .desc = "export: the helper's name for it" },
	AP_PROP_END,
};
static const struct ap_schema result_schema = { .name = "DatabaseJobResult",
	.desc = "what a finished export or import did", .props = result_props };

static const struct ap_prop job_props[] = {
	{ .name = "id", .type = AP_J_INT, .desc = "the helper's job" },
	{ .name = "kind", .type = AP_J_STRING, .choices = kinds },
	{ .name = "state", .type = AP_J_STRING, .choices = states },
	{ .name = "progress", .type = AP_J_INT, .desc = "percent: an import by the bytes fed, an export by its size" },
	{ .name = "error", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "why it failed: the client's error line (mariadb, psql) or the upload's fault" },
	{ .name = "result", .type = AP_J_OBJECT, .of = &result_schema, .flags = AP_J_NULL },
	{ .name = "database", .type = AP_J_INT },
	{ .name = "download_path", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "a finished export: its path (under /api/v1, or the panel's base) to download it once" },
	AP_PROP_END,
};
const struct ap_schema ap_database_job_schema = { .name = "DatabaseJob",
	.desc = "a database's export or import, as a helper job", .props = job_props };
static const struct ap_prop job_detail_props[] = {
	{ .name = "job", .type = AP_J_OBJECT, .of = &ap_database_job_schema },
	AP_PROP_END,
};
const struct ap_schema ap_database_job_detail_schema = { .name = "DatabaseJobDetail",
	.desc = "a database's job as its page shows it", .props = job_detail_props };

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = ctx->db, .cfg = c };

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	e.helper = H_client;
	return e;
}

static int
fail_pb(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	if (pb->code == AP_PB_INTERNAL && ctx->db != NULL)
		return ap_ctx_fail(ctx, AP_PB_INTERNAL, NULL, "an internal error occurred");
	return ap_ctx_problem(ctx, pb);
}

static void
audit(struct ap_ctx *ctx, const char *action, const struct ap_database *d, const char *outcome,
    struct json_object *after, const struct ap_problem *pb)
{
	if (after == NULL)
		after = json_object_new_object();
	ap_model_str(after, "server", d->server);
	if (pb != NULL) {
		ap_model_str(after, "error", ap_pb_name(pb->code));
		ap_model_str(after, "reason", pb->reason);
	}
	ap_ctx_audit(ctx, action, d->name, outcome, NULL, ap_ctx_json_text(ctx, after)); /* releases after */
}

/* The DatabaseJob resource from ap_dbio_job's state (taken). */
static struct json_object *
job_resource(struct ap_ctx *ctx, const struct ap_database *d, struct json_object *st)
{
	struct json_object *v;
	const char *kind = "", *state = "";

	if (json_object_object_get_ex(st, "kind", &v))
		kind = json_object_get_string(v);
	if (json_object_object_get_ex(st, "state", &v))
		state = json_object_get_string(v);
	ap_model_add(st, "database", json_object_new_int64(d->id));
	json_object_object_get_ex(st, "id", &v);
	ap_model_add(st, "download_path", strcmp(kind, "export") == 0 && strcmp(state, "done") == 0
		? json_object_new_string(ap_arena_printf(ctx->arena, "/databases/%lld/jobs/%lld/download",
		      (long long)d->id, (long long)json_object_get_int64(v)))
		: NULL);
	return st;
}

static int
started(struct ap_ctx *ctx, const struct ap_database *d, int64_t job)
{
	if (!ctx->req->wants_json)
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/databases/%lld/jobs/%lld",
		    (long long)d->id, (long long)job));
	{
		struct ap_sites_env env = env_of(ctx);
		struct json_object *st = NULL;
		struct ap_problem pb;

		if (ap_dbio_job(&env, d, job, &st, &pb) != AP_OK)
			return fail_pb(ctx, &pb);
		return ap_ctx_answer(ctx, 200, job_resource(ctx, d, st));
	}
}

/* ---------------------------------------------------------------- history */

static const char *
actor_of(struct ap_ctx *ctx)
{
	return ctx->user != NULL ? ctx->user->username : "anonymous";
}

/* Record a transfer (started: job > 0; refused: pb). A failure to record is logged, never fatal. */
static void
record(struct ap_ctx *ctx, const struct ap_database *d, const char *kind, const char *format, int64_t job,
    int64_t size, const char *sha, const struct ap_problem *failed)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;

	if (ap_dbhist_add(&env, d, kind, format, job, actor_of(ctx), size, sha, failed, &pb) != AP_OK)
		AP_WARN("database %s: the %s was not recorded: %s", d->name, kind, pb.reason);
}

/* ---------------------------------------------------------------- export */

int
ap_page_database_export(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const char *format = ctx->fields[EX_FORMAT].present ? formats[ctx->fields[EX_FORMAT].i] : "sql.gz";
	struct ap_problem pb;
	struct ap_database d;
	struct json_object *a;
	int64_t job = 0;

	if (ap_database_get(&env, ctx->fields[EX_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	a = json_object_new_object();
	ap_model_str(a, "format", format);
	if (ap_dbio_export_start(&env, &d, format, &job, &pb) != AP_OK) {
		record(ctx, &d, "export", format, 0, 0, NULL, &pb);
		audit(ctx, "database.export", &d, "failed", a, &pb);
		return fail_pb(ctx, &pb);
	}
	record(ctx, &d, "export", format, job, 0, NULL, NULL);
	ap_model_add(a, "job", json_object_new_int64(job));
	audit(ctx, "database.export", &d, "ok", a, NULL);
	return started(ctx, &d, job);
}

int
ap_page_database_job(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct json_object *st = NULL, *o, *v;
	struct ap_problem pb;
	struct ap_database d;
	const char *state = "";

	if (ap_database_get(&env, ctx->fields[JB_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (ap_dbio_job(&env, &d, ctx->fields[JB_JOB].i, &st, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	o = job_resource(ctx, &d, st);
	if (ctx->req->wants_json) {
		ap_model_add(ctx->model, "job", o);
		return 200;
	}
	ctx->title = ap_ctx_tr(ctx, "Database");
	if (json_object_object_get_ex(o, "state", &v))
		state = json_object_get_string(v);
	ap_model_add(o, "is_running", json_object_new_boolean(strcmp(state, "queued") == 0 ||
	    strcmp(state, "running") == 0));
	ap_model_add(o, "is_done", json_object_new_boolean(strcmp(state, "done") == 0));
	ap_model_add(o, "is_export", json_object_new_boolean(json_object_object_get_ex(o, "kind", &v) &&
	    strcmp(json_object_get_string(v), "export") == 0));
	ap_model_add(ctx->model, "job", o);
	ap_model_add(ctx->model, "database", ap_database_resource(&d, NULL));
	return 200;
}

int
ap_page_database_download(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_database d;
	struct json_object *a;
	char format[16] = "sql", sha[65] = "";
	int64_t size = 0;
	int fd = -1;

	if (ap_database_get(&env, ctx->fields[JB_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	a = json_object_new_object();
	ap_model_add(a, "job", json_object_new_int64(ctx->fields[JB_JOB].i));
	if (ap_dbio_export_open(&env, &d, ctx->fields[JB_JOB].i, &fd, &size, format, sizeof(format), sha,
		&pb) != AP_OK) {
		audit(ctx, "database.download", &d, "failed", a, &pb);
		return fail_pb(ctx, &pb);
	}
	ap_model_str(a, "format", format);
	ap_model_add(a, "size", json_object_new_int64(size));
	ap_model_str(a, "sha256", sha);
	audit(ctx, "database.download", &d, "ok", a, NULL);
	ctx->raw_from_fd = true;
	ctx->raw_fd = fd;
	ctx->raw_len = size;
	ctx->raw_type = strcmp(format, "sql.gz") == 0 ? "application/gzip" : "application/sql";
	{
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
		/* The name is [a-z0-9_] and digits: nothing to quote. */
		ap_ctx_header(ctx, "Content-Disposition", ap_arena_printf(ctx->arena,
		    "attachment; filename=\"%s-%s.%s\"", d.name, stamp, format));
	}
	return 200;
}

/* ---------------------------------------------------------------- import */

static ssize_t
stream_rd(void *c, void *buf, size_t n)
{
	return ap_req_stream_read(c, buf, n);
}

static int
import(struct ap_ctx *ctx, int64_t id, const char *format, ap_dbio_read_fn rd, void *rdctx,
    int64_t declared)
{
	struct ap_sites_env env = env_of(ctx);
	int64_t max = ctx->app->cfg->databases_import_max, job = 0, size = 0;
	struct ap_problem pb;
	struct ap_database d;
	struct json_object *a;
	char sha[65] = "";

	if (ap_database_get(&env, id, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	a = json_object_new_object();
	ap_model_str(a, "format", format);
	/* A form's declared part runs to the body's end (its closing boundary too): a little slack,
	 * the exact bound is the stream's (ap_dbio_import_start stops at max). */
	if (declared > max + (ctx->req->mp != NULL ? 4096 : 0)) {
		ap_problem_set(&pb, AP_PB_TOO_LARGE, "file",
		    "the dump is larger than databases.import_max (%lld bytes)", (long long)max);
		ap_model_add(a, "size", json_object_new_int64(declared));
		record(ctx, &d, "import", format, 0, declared, NULL, &pb);
		audit(ctx, "database.import", &d, "failed", a, &pb);
		return fail_pb(ctx, &pb);
	}
	if (ap_dbio_import_start(&env, &d, format, rd, rdctx, max, &job, &size, sha, &pb) != AP_OK) {
		/* A streamed form that broke off: the parser's reason (a constant), not "ended early". */
		if (ctx->req->mp != NULL && ap_req_part_failed(ctx->req))
			ap_problem_msg(&pb, AP_PB_INVALID, "file", ap_req_part_error(ctx->req));
		record(ctx, &d, "import", format, 0, size, NULL, &pb);
		audit(ctx, "database.import", &d, "failed", a, &pb);
		return fail_pb(ctx, &pb);
	}
	record(ctx, &d, "import", format, job, size, sha, NULL);
	ap_model_add(a, "size", json_object_new_int64(size));
	ap_model_str(a, "sha256", sha);
	ap_model_add(a, "job", json_object_new_int64(job));
	audit(ctx, "database.import", &d, "ok", a, NULL);
	return started(ctx, &d, job);
}

int
ap_page_database_import(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct ap_problem pb;
	struct ap_database d;

	/* No such database is a 404 whatever the body is. */
	if (ap_database_get(&env, ctx->fields[IS_ID].i, &d, &pb) != AP_OK)
		return fail_pb(ctx, &pb);
	if (!ctx->req->stream)
		return ap_ctx_fail(ctx, AP_PB_MEDIA_TYPE, "content-type", "unsupported Content-Type '%s'",
		    ctx->req->content_type);
	return import(ctx, ctx->fields[IS_ID].i, formats[ctx->fields[IS_FORMAT].i], stream_rd, ctx->req,
	    (int64_t)ctx->req->stream_len);
}

static ssize_t
part_rd(void *c, void *buf, size_t n)
{
	struct ap_req *r = c;
	ssize_t k = ap_req_part_read(r, buf, n);

	/* Later files are not imported; the body is still read to its end (a cut-off one fails). */
	while (k == 0 && (k = ap_req_part_next(r)) > 0)
		k = 0;
	if (k < 0)
		AP_WARN("a database import's form: %s", ap_req_part_error(r));
	return k;
}

/*
 * The page's form: one file, field "file", its format from its name (.sql or .sql.gz). Its
 * content is streamed (AP_ROUTE_STREAM_FORM): the fields before it (the csrf token) were read
 * and checked by the gate before a byte of it is; it goes to the helper as the API's body does.
 */
int
ap_page_database_import_form(struct ap_ctx *ctx)
{
	const struct ap_req *rq = ctx->req;
	const struct ap_upload *u = rq->nuploads > 0 ? &rq->uploads[0] : NULL;
	size_t n = u != NULL ? strlen(u->filename) : 0;
	const char *format;

	if (rq->mp == NULL || u == NULL || strcmp(u->field, "file") != 0 || n == 0)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "file", "choose a .sql or .sql.gz file");
	if (n > 7 && strcmp(u->filename + n - 7, ".sql.gz") == 0)
		format = "sql.gz";
	else if (n > 4 && strcmp(u->filename + n - 4, ".sql") == 0)
		format = "sql";
	else
		return ap_ctx_fail(ctx, AP_PB_INVALID, "file", "must be a .sql or .sql.gz file");
	return import(ctx, ctx->fields[IU_ID].i, format, part_rd, ctx->req, (int64_t)ap_req_part_max(rq));
}
