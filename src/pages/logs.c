/*
 * logs.c — a site's nginx logs (sites.read; docs/files.md, "Logs") and the
 * panel's own (audit.read: admins; request ids linked to the audit log): the last
 * lines of the access or error log, searched as plain text, error lines
 * filtered by level, a follow view fed by the sampler's live stream (the
 * worker only hands the log's descriptor on: GET .../stream, nginx's
 * auth_request), and
 * the log as a download. The helper opens the log it names itself from the
 * site; the worker reads it from the end (src/data/logs.c).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/logs.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/sampler.h"

enum {
	LG_ID,
	LG_WHICH,
	LG_LINES,
	LG_SEARCH,
	LG_LEVEL,
	LG_ROTATED,
	LG_FOLLOW,
	LG_ROTATION,
	LG__MAX
};
const struct ap_field ap_logs_fields[LG__MAX + 1] = {
    [LG_ID] = {.name = "id",
	       .type = AP_FIELD_INT,
	       .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	       .min = 1,
	       .max = INT64_MAX},
    [LG_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
		  .choices = ap_log_kinds,
		  .desc = "the access or the error log"},
    [LG_LINES] = {.name = "lines",
		  .type = AP_FIELD_INT,
		  .min = 1,
		  .max = 5000,
		  .desc = "how many of the last lines (default 200)"},
    [LG_SEARCH] = {.name = "search",
		   .type = AP_FIELD_TEXT,
		   .flags = AP_FIELD_SINGLELINE,
		   .max = 200,
		   .desc = "only lines containing this text"},
    [LG_LEVEL] = {.name = "level",
		  .type = AP_FIELD_ENUM,
		  .choices = ap_log_levels,
		  .desc = "error log: this level or more severe"},
    [LG_ROTATED] = {.name = "rotated",
		    .type = AP_FIELD_BOOL,
		    .desc = "the rotated log (.1) instead (rotation=1)"},
    [LG_FOLLOW] =
	{.name = "follow",
	 .type = AP_FIELD_BOOL,
	 .desc = "the page follows the log live (its stream; without script it reloads every 2 s)"},
    [LG_ROTATION] = {.name = "rotation",
		     .type = AP_FIELD_INT,
		     .min = 0,
		     .max = AP_LOG_ROTATIONS_MAX,
		     .desc = "0 the log, N its rotation .N or .N.gz (read decompressed)"},
    [LG__MAX] = AP_FIELD_END,
};

/* The download's: the site, the log, its rotation (indexes as above for the first two). */
enum { LD_ID, LD_WHICH, LD_ROTATED, LD_ROTATION, LD__MAX };
const struct ap_field ap_logs_download_fields[LD__MAX + 1] = {
    [LD_ID] = {.name = "id",
	       .type = AP_FIELD_INT,
	       .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	       .min = 1,
	       .max = INT64_MAX},
    [LD_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
		  .choices = ap_log_kinds,
		  .desc = "the access or the error log"},
    [LD_ROTATED] = {.name = "rotated",
		    .type = AP_FIELD_BOOL,
		    .desc = "the rotated log (.1) instead"},
    [LD_ROTATION] = {.name = "rotation",
		     .type = AP_FIELD_INT,
		     .min = 0,
		     .max = AP_LOG_ROTATIONS_MAX,
		     .desc = "0 the log, N its rotation (a .gz is sent as it is)"},
    [LD__MAX] = AP_FIELD_END,
};

/* The panel's own logs (admins): which, lines, search, rotation, level (the journal's). */
enum { LP_WHICH, LP_LINES, LP_SEARCH, LP_ROTATION, LP_LEVEL, LP_BEFORE, LP_FOLLOW, LP__MAX };
const struct ap_field ap_logs_system_fields[LP__MAX + 1] = {
    [LP_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
		  .choices = ap_log_systems,
		  .desc = "the panel's log or the helper's"},
    [LP_LINES] = {.name = "lines",
		  .type = AP_FIELD_INT,
		  .min = 1,
		  .max = 5000,
		  .desc = "how many of the last lines (default 200)"},
    [LP_SEARCH] = {.name = "search",
		   .type = AP_FIELD_TEXT,
		   .flags = AP_FIELD_SINGLELINE,
		   .max = 200,
		   .desc =
		       "only lines containing this text (a request id finds that request's lines)"},
    [LP_ROTATION] = {.name = "rotation",
		     .type = AP_FIELD_INT,
		     .min = 0,
		     .max = AP_LOG_ROTATIONS_MAX,
		     .desc = "0 the log, N its rotation .N or .N.gz"},
    [LP_LEVEL] = {.name = "level",
		  .type = AP_FIELD_ENUM,
		  .choices = ap_log_levels,
		  .desc = "from the journal (log.file = \"\"): this level or more severe"},
    [LP_BEFORE] = {.name = "before",
		   .type = AP_FIELD_TEXT,
		   .flags = AP_FIELD_SINGLELINE,
		   .max = 512,
		   .desc = "from the journal: the entries older than this cursor (an answer's older)"},
    [LP_FOLLOW] = {.name = "follow",
		   .type = AP_FIELD_BOOL,
		   .desc = "from the journal: the page follows it live (the live stream, "
			   "/events/logs/{which}; without script it reloads every 2 s)"},
    [LP__MAX] = AP_FIELD_END,
};

static const struct ap_prop rotation_props[] = {
    {.name = "rotation", .type = AP_J_INT, .desc = "N of .N or .N.gz"},
    {.name = "gzip", .type = AP_J_BOOL},
    {.name = "size", .type = AP_J_INT, .desc = "bytes on disk"},
    {.name = "modified", .type = AP_J_INT, .desc = "unix time"},
    AP_PROP_END,
};
static const struct ap_schema rotation_schema = {
    .name = "LogRotation", .desc = "a rotation of a log", .props = rotation_props};

static const struct ap_prop log_props[] = {
    {.name = "site", .type = AP_J_INT},
    {.name = "which", .type = AP_J_STRING, .choices = ap_log_kinds},
    {.name = "rotation", .type = AP_J_INT, .desc = "0 the log, N a rotation"},
    {.name = "size", .type = AP_J_INT, .desc = "the log's size in bytes"},
    {.name = "lines",
     .type = AP_J_ARRAY,
     .items = AP_J_STRING,
     .desc = "the last lines that match, oldest first"},
    {.name = "rotations",
     .type = AP_J_ARRAY,
     .of = &rotation_schema,
     .desc = "the rotations there are"},
    AP_PROP_END,
};
const struct ap_schema ap_log_schema = {
    .name = "SiteLog", .desc = "the end of a site's log", .props = log_props};

static const char *const ap_log_sources[] = {"file", "journal", NULL};
static const struct ap_prop syslog_props[] = {
    {.name = "which", .type = AP_J_STRING, .choices = ap_log_systems},
    {.name = "rotation", .type = AP_J_INT, .desc = "0 the log, N a rotation"},
    {.name = "source",
     .type = AP_J_STRING,
     .choices = ap_log_sources,
     .desc = "log.file, or the journal when log.file is \"\""},
    {.name = "size", .type = AP_J_INT, .desc = "log.file's size in bytes (0: the journal)"},
    {.name = "older",
     .type = AP_J_STRING,
     .flags = AP_J_OPT,
     .desc = "the journal: the cursor for the entries before these (as before=), absent when none"},
    {.name = "newest",
     .type = AP_J_STRING,
     .flags = AP_J_OPT,
     .desc = "the journal: the cursor of the unit's newest entry (a follower's after=), absent when "
	     "none"},
    {.name = "lines",
     .type = AP_J_ARRAY,
     .items = AP_J_STRING,
     .desc = "the last lines that match, oldest first"},
    {.name = "rotations",
     .type = AP_J_ARRAY,
     .of = &rotation_schema,
     .desc = "the rotations there are"},
    AP_PROP_END,
};
const struct ap_schema ap_syslog_schema = {.name = "PanelLog",
					   .desc = "the end of the panel's or the helper's log",
					   .props = syslog_props};

static struct ap_helper_client *H_client;

static void
env_of(struct ap_ctx *ctx, struct ap_sites_env *env)
{
	const struct ap_config *c = ctx->app->cfg;

	memset(env, 0, sizeof(*env));
	env->db = ctx->db;
	env->cfg = c;
	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	env->helper = H_client;
}

static int
site_of(struct ap_ctx *ctx, struct ap_sites_env *env, struct ap_site *s)
{
	struct ap_problem pb;

	env_of(ctx, env);
	if (ap_site_get(env, ctx->fields[LG_ID].i, s, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	return 0;
}

/* The page's rows: each line's text, and the request id in it (a link to the
 * audit log) split out; a typed row source (rows.h), no object per line. A
 * line without a request id has only pre (req and post NULL: nothing shown). */
struct line_view {
	const char *pre, *req, *post;
};
static const struct ap_col line_cols[] = {
	AP_COL(struct line_view, pre, AP_COL_STR),
	AP_COL(struct line_view, req, AP_COL_STR),
	AP_COL(struct line_view, post, AP_COL_STR),
	AP_COL_END,
};

static struct json_object *
rows_of(struct json_object *lines)
{
	struct json_object *rows = ap_rows_new(line_cols, sizeof(struct line_view));

	for (size_t i = 0; i < json_object_array_length(lines); i++) {
		struct json_object *j = json_object_array_get_idx(lines, i);
		const char *l = json_object_get_string(j);
		struct line_view *v = ap_rows_add(rows);
		size_t off, len;

		/* The lines live as long as the model (it holds them): no copy
		 * but of a request id's prefix. */
		if (ap_logs_reqid(l, &off, &len)) {
			v->pre = ap_rows_strndup(rows, l, off);
			v->req = ap_rows_strndup(rows, l + off, len);
			v->post = l + off + len;
		} else {
			v->pre = l;
		}
	}
	return rows;
}

/* The rotations for the page: each with its link's query and whether it is the one shown. */
static void
model_rotations(struct ap_ctx *ctx, const struct ap_log_file *lf)
{
	struct json_object *rots = json_object_get(lf->rotations);

	for (size_t i = 0; i < json_object_array_length(rots); i++) {
		struct json_object *o = json_object_array_get_idx(rots, i), *v;

		if (!ctx->req->wants_json && json_object_object_get_ex(o, "rotation", &v) &&
		    json_object_get_int(v) == lf->rotation)
			json_object_object_add(o, "current", json_object_new_boolean(true));
	}
	ap_model_add(ctx->model, "has_rotations",
		     json_object_new_boolean(json_object_array_length(rots) > 0));
	ap_model_add(ctx->model, "rotations", rots);
	ap_model_add(ctx->model, "rotation", json_object_new_int(lf->rotation));
	ap_model_add(ctx->model, "is_current", json_object_new_boolean(lf->rotation == 0));
}

int
ap_page_site_log(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct ap_log_query q = {.lines = f[LG_LINES].present ? (int)f[LG_LINES].i : 200,
				 .search = f[LG_SEARCH].present ? f[LG_SEARCH].s : NULL,
				 .level = -1,
				 .tag = -1};
	struct json_object *lines = NULL;
	struct ap_log_file lf = {.fd = -1};
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int st, which = (int)f[LG_WHICH].i;
	int rotation = f[LG_ROTATION].present ? (int)f[LG_ROTATION].i : f[LG_ROTATED].b ? 1 : 0;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (which == 1 && f[LG_LEVEL].present)
		q.level = (int)f[LG_LEVEL].i;
	if (ap_logs_open(&env, &s, which, rotation, &lf, &pb) != AP_OK ||
	    ap_logs_read(&lf, &q, &lines, &pb) != AP_OK) {
		ap_logs_close(&lf);
		return ap_ctx_problem(ctx, &pb);
	}
	ap_model_add(ctx->model, "site", json_object_new_int64(s.id));
	ap_model_str(ctx->model, "which", ap_log_kinds[which]);
	ap_model_add(ctx->model, "size", json_object_new_int64(lf.size));
	ap_model_add(ctx->model, "lines", lines);
	model_rotations(ctx, &lf);
	if (!ctx->req->wants_json) {
		ctx->title = ap_ctx_tr(ctx, "Logs");
		ap_model_str(ctx->model, "domain", s.spec.domain);
		ap_model_add(ctx->model, "is_error", json_object_new_boolean(which == 1));
		/* Follow: the page's script reads the live stream from the size shown
		 * (the sampler's, no worker waits for new lines); without script the
		 * page reloads every two seconds (<noscript> refresh). Only the log
		 * itself grows: a rotation is not followed. */
		ap_model_add(ctx->model, "follow",
			     json_object_new_boolean(f[LG_FOLLOW].b && rotation == 0));
		ap_model_str(ctx->model, "search", f[LG_SEARCH].present ? f[LG_SEARCH].s : "");
		ap_model_str(ctx->model, "level", q.level >= 0 ? ap_log_levels[q.level] : "");
		ap_model_add(ctx->model, "empty",
			     json_object_new_boolean(json_object_array_length(lines) == 0));
	}
	ap_logs_close(&lf);
	return 200;
}

/* Send lf as the answer (its descriptor taken), as a download named name. */
static int
send_log(struct ap_ctx *ctx, struct ap_log_file *lf, const char *name)
{
	ctx->raw_from_fd = true;
	ctx->raw_fd = lf->fd;
	lf->fd = -1;
	ctx->raw_len = lf->size;
	ctx->raw_type = lf->gzip ? "application/gzip" : "text/plain; charset=utf-8";
	ap_ctx_header(ctx, "Content-Disposition",
		      ap_arena_printf(
			  ctx->arena, "attachment; filename=\"%s%s%s\"", name,
			  lf->rotation > 0 ? ap_arena_printf(ctx->arena, ".%d", lf->rotation) : "",
			  lf->gzip ? ".gz" : ""));
	ap_logs_close(lf);
	return 200;
}

int
ap_page_site_log_download(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct ap_log_file lf = {.fd = -1};
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int st, rotation = f[LD_ROTATION].present ? (int)f[LD_ROTATION].i : f[LD_ROTATED].b ? 1 : 0;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (ap_logs_open(&env, &s, (int)f[LD_WHICH].i, rotation, &lf, &pb) != AP_OK) {
		ap_logs_close(&lf);
		return ap_ctx_problem(ctx, &pb);
	}
	return send_log(
	    ctx, &lf,
	    ap_arena_printf(ctx->arena, "%s.%s.log", s.spec.domain, ap_log_kinds[f[LD_WHICH].i]));
}

int
ap_page_system_log_download(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct ap_log_file lf = {.fd = -1};
	struct ap_sites_env env;
	struct ap_problem pb;

	env_of(ctx, &env);
	if (ap_logs_system_open(&env, f[LP_ROTATION].present ? (int)f[LP_ROTATION].i : 0, &lf,
				&pb) != AP_OK) {
		ap_logs_close(&lf);
		return ap_ctx_problem(ctx, &pb);
	}
	return send_log(ctx, &lf, "aapanel.log");
}

/* log.file = "": the panel and the helper log to their standard error, journald's under
 * systemd; their lines are read from the journal. */
static bool
from_journal(struct ap_ctx *ctx)
{
	const char *file = ctx->app->cfg->log_file;

	return file == NULL || file[0] != '/';
}

int
ap_page_system_log(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	int which = (int)f[LP_WHICH].i;
	struct ap_log_query q = {.lines = f[LP_LINES].present ? (int)f[LP_LINES].i : 200,
				 .search = f[LP_SEARCH].present ? f[LP_SEARCH].s : NULL,
				 .level = -1,
				 .tag = which};
	struct json_object *lines = NULL, *older = NULL, *newest = NULL;
	struct ap_log_file lf = {.fd = -1};
	struct ap_sites_env env;
	struct ap_problem pb;
	bool follow = f[LP_FOLLOW].b && from_journal(ctx) && !f[LP_BEFORE].present;

	env_of(ctx, &env);
	if (from_journal(ctx)) {
		if (f[LP_ROTATION].present && f[LP_ROTATION].i > 0) {
			ap_problem_set(&pb, AP_PB_NOT_FOUND, "rotation",
				       "the journal has no rotations to pick");
			return ap_ctx_problem(ctx, &pb);
		}
		if (f[LP_LEVEL].present)
			q.level = (int)f[LP_LEVEL].i;
		if (ap_logs_journal(&env, which, &q, f[LP_BEFORE].present ? f[LP_BEFORE].s : NULL,
				    &lines, &older, &newest, &pb) != AP_OK)
			return ap_ctx_problem(ctx, &pb);
		lf.rotations = json_object_new_array();
	} else if (ap_logs_system_open(&env, f[LP_ROTATION].present ? (int)f[LP_ROTATION].i : 0,
				       &lf, &pb) != AP_OK ||
		   ap_logs_read(&lf, &q, &lines, &pb) != AP_OK) {
		ap_logs_close(&lf);
		return ap_ctx_problem(ctx, &pb);
	}
	ap_model_str(ctx->model, "which", ap_log_systems[which]);
	ap_model_str(ctx->model, "source", from_journal(ctx) ? "journal" : "file");
	ap_model_add(ctx->model, "size", json_object_new_int64(lf.size));
	model_rotations(ctx, &lf);
	if (!ctx->req->wants_json) {
		ctx->title = ap_ctx_tr(ctx, which == 0 ? "The panel's log" : "The helper's log");
		ap_model_add(ctx->model, "is_helper", json_object_new_boolean(which == 1));
		ap_model_add(ctx->model, "is_journal", json_object_new_boolean(from_journal(ctx)));
		if (older != NULL) {
			struct ap_buf b = {0};

			ap_buf_printf(&b, "%s/logs/%s?lines=%d&before=", ap_ctx_base(ctx),
				      ap_log_systems[which], q.lines);
			ap_url_encode(&b, json_object_get_string(older));
			if (q.search != NULL && q.search[0] != '\0') {
				ap_buf_printf(&b, "&search=");
				ap_url_encode(&b, q.search);
			}
			if (q.level >= 0)
				ap_buf_printf(&b, "&level=%s", ap_log_levels[q.level]);
			ap_model_str(ctx->model, "older_href", b.data);
			ap_buf_free(&b);
		}
		if (from_journal(ctx)) {
			struct json_object *opts = json_object_new_array();

			for (int i = 0; ap_log_levels[i] != NULL; i++) {
				struct json_object *o = json_object_new_object();

				json_object_object_add(o, "name",
						       json_object_new_string(ap_log_levels[i]));
				json_object_object_add(o, "selected",
						       json_object_new_boolean(i == q.level));
				json_object_array_add(opts, o);
			}
			ap_model_add(ctx->model, "level_opts", opts);
		}
		ap_model_str(ctx->model, "search", f[LP_SEARCH].present ? f[LP_SEARCH].s : "");
		if (follow) {
			/* The page's script reads the live stream from the newest entry shown on
			 * (the sampler asks the helper for what follows it; no worker waits),
			 * filtered there like the page; without script the page reloads every
			 * two seconds. */
			struct ap_buf b = {0};

			ap_buf_printf(&b, "%s/events/logs/%s?after=", ap_ctx_base(ctx),
				      ap_log_systems[which]);
			if (newest != NULL)
				ap_url_encode(&b, json_object_get_string(newest));
			if (q.level >= 0)
				ap_buf_printf(&b, "&level=%s", ap_log_levels[q.level]);
			if (q.search != NULL && q.search[0] != '\0') {
				ap_buf_printf(&b, "&search=");
				ap_url_encode(&b, q.search);
			}
			ap_model_str(ctx->model, "stream_url", b.data);
			ap_buf_free(&b);
		}
		ap_model_add(ctx->model, "follow", json_object_new_boolean(follow));
		ap_model_add(ctx->model, "rows", rows_of(lines));
		ap_model_add(ctx->model, "empty",
			     json_object_new_boolean(json_object_array_length(lines) == 0));
	}
	ap_model_add(ctx->model, "lines", lines);
	if (older != NULL)
		ap_model_add(ctx->model, "older", older);
	if (newest != NULL)
		ap_model_add(ctx->model, "newest", newest);
	ap_logs_close(&lf);
	return 200;
}

/* The stream's: the site and the log (indexes as LD_). */
const struct ap_field ap_logs_stream_fields[LD_WHICH + 2] = {
    [LD_ID] = {.name = "id",
	       .type = AP_FIELD_INT,
	       .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	       .min = 1,
	       .max = INT64_MAX},
    [LD_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
		  .choices = ap_log_kinds,
		  .desc = "the access or the error log"},
    [LD_WHICH + 1] = AP_FIELD_END,
};

int
ap_page_site_log_stream_auth(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_log_file lf = {.fd = -1};
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	char token[AP_SAMPLER_TOKEN_SIZE];
	int st;
	enum ap_err err;

	/* nginx's auth_request passes 401 and 403 on, and makes anything else a 500. */
	if ((st = site_of(ctx, &env, &s)) != 0)
		return st == 404 ? 403 : st;
	if (!c->monitor_enabled) {
		ap_problem_set(&pb, AP_PB_UNAVAILABLE, NULL,
			       "the live stream is off (monitor.enabled)");
		return ap_ctx_problem(ctx, &pb);
	}
	if (ap_logs_open(&env, &s, (int)ctx->fields[LD_WHICH].i, 0, &lf, &pb) != AP_OK) {
		ap_logs_close(&lf);
		return ap_ctx_problem(ctx, &pb);
	}
	/* The sampler gets its own copy of the descriptor; nginx connects the stream with the
	 * token. */
	err = ap_sampler_hand(c->monitor_socket, lf.fd, s.spec.domain,
			      ap_log_kinds[ctx->fields[LD_WHICH].i], token);
	ap_logs_close(&lf);
	if (err != AP_OK) {
		ap_problem_set(&pb, AP_PB_UNAVAILABLE, NULL,
			       "the live stream's server does not answer");
		return ap_ctx_problem(ctx, &pb);
	}
	ap_ctx_header(ctx, "X-Aapanel-Stream", token);
	return 204;
}

int
ap_page_logs_index(struct ap_ctx *ctx)
{
	return ap_ctx_redirect(ctx, 303,
			       ap_arena_printf(ctx->arena, "%s/logs/panel", ap_ctx_base(ctx)));
}

/* A journal cursor ("s=…;i=…;b=…;m=…;t=…;x=…"): lowercase letters, digits, '=' and ';'. */
static const char *
journal_cursor_check(const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'z') || v[i] == '=' ||
		      v[i] == ';'))
			return "is not a cursor of the journal";
	return NULL;
}

/* The journal's stream: which (path), its filters and where it starts. */
enum { LS_WHICH, LS_LEVEL, LS_SEARCH, LS_AFTER, LS__MAX };
const struct ap_field ap_logs_syslog_stream_fields[LS__MAX + 1] = {
    [LS_WHICH] = {.name = "which",
		  .type = AP_FIELD_ENUM,
		  .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
		  .choices = ap_log_systems,
		  .desc = "the panel's log or the helper's"},
    [LS_LEVEL] = {.name = "level",
		  .type = AP_FIELD_ENUM,
		  .choices = ap_log_levels,
		  .desc = "only entries of this level or more severe"},
    [LS_SEARCH] = {.name = "search",
		   .type = AP_FIELD_TEXT,
		   .flags = AP_FIELD_SINGLELINE,
		   .max = 200,
		   .desc = "only lines containing this text"},
    [LS_AFTER] = {.name = "after",
		  .type = AP_FIELD_TEXT,
		  .flags = AP_FIELD_SINGLELINE,
		  .max = 512,
		  .check = journal_cursor_check,
		  .desc = "the entries after this cursor (the page's newest; default: from now)"},
    [LS__MAX] = AP_FIELD_END,
};

int
ap_page_system_log_stream_auth(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	const struct ap_fieldval *f = ctx->fields;
	int which = (int)f[LS_WHICH].i;
	struct json_object *newest = NULL;
	const char *after = f[LS_AFTER].present && f[LS_AFTER].s[0] ? f[LS_AFTER].s : NULL;
	struct ap_sites_env env;
	struct ap_problem pb;
	char token[AP_SAMPLER_TOKEN_SIZE];
	enum ap_err err;

	if (!from_journal(ctx)) {
		ap_problem_set(&pb, AP_PB_NOT_FOUND, "which",
			       "log.file is a file: only the journal is followed here");
		return ap_ctx_problem(ctx, &pb);
	}
	if (!c->monitor_enabled) {
		ap_problem_set(&pb, AP_PB_UNAVAILABLE, NULL,
			       "the live stream is off (monitor.enabled)");
		return ap_ctx_problem(ctx, &pb);
	}
	if (after == NULL) {
		/* From now: the unit's newest entry (none yet: from its first). */
		struct ap_log_query q = {.lines = 1, .level = -1, .tag = which};
		struct json_object *lines = NULL, *older = NULL;

		env_of(ctx, &env);
		err = ap_logs_journal(&env, which, &q, NULL, &lines, &older, &newest, &pb);
		json_object_put(lines);
		json_object_put(older);
		if (err != AP_OK)
			return ap_ctx_problem(ctx, &pb);
		after = newest != NULL ? json_object_get_string(newest) : NULL;
	}
	err = ap_sampler_hand_journal(c->monitor_socket, ap_log_systems[which],
				      f[LS_LEVEL].present ? ap_log_levels[f[LS_LEVEL].i] : NULL,
				      f[LS_SEARCH].present ? f[LS_SEARCH].s : NULL, after, token);
	json_object_put(newest);
	if (err != AP_OK) {
		ap_problem_set(&pb, AP_PB_UNAVAILABLE, NULL,
			       "the live stream's server does not answer");
		return ap_ctx_problem(ctx, &pb);
	}
	ap_ctx_header(ctx, "X-Aapanel-Stream", token);
	return 204;
}
