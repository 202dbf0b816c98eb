/*
 * logs.c — a site's nginx logs (sites.read; docs/files.md, "Logs"): the last
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
#include "aapanel/sampler.h"

enum { LG_ID, LG_WHICH, LG_LINES, LG_SEARCH, LG_LEVEL, LG_ROTATED, LG_FOLLOW, LG__MAX };
const struct ap_field ap_logs_fields[LG__MAX + 1] = {
	[LG_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[LG_WHICH] = { .name = "which", .type = AP_FIELD_ENUM, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .choices = ap_log_kinds, .desc = "the access or the error log" },
	[LG_LINES] = { .name = "lines", .type = AP_FIELD_INT, .min = 1, .max = 5000,
	    .desc = "how many of the last lines (default 200)" },
	[LG_SEARCH] = { .name = "search", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE, .max = 200,
	    .desc = "only lines containing this text" },
	[LG_LEVEL] = { .name = "level", .type = AP_FIELD_ENUM, .choices = ap_log_levels,
	    .desc = "error log: this level or more severe" },
	[LG_ROTATED] = { .name = "rotated", .type = AP_FIELD_BOOL, .desc = "the rotated log (.1) instead" },
	[LG_FOLLOW] = { .name = "follow", .type = AP_FIELD_BOOL,
	    .desc = "the page follows the log live (its stream; without script it reloads every 2 s)" },
	[LG__MAX] = AP_FIELD_END,
};

/* The download's: the site, the log, its rotation (indexes as above for the first two). */
enum { LD_ID, LD_WHICH, LD_ROTATED, LD__MAX };
const struct ap_field ap_logs_download_fields[LD__MAX + 1] = {
	[LD_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[LD_WHICH] = { .name = "which", .type = AP_FIELD_ENUM, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .choices = ap_log_kinds, .desc = "the access or the error log" },
	[LD_ROTATED] = { .name = "rotated", .type = AP_FIELD_BOOL, .desc = "the rotated log (.1) instead" },
	[LD__MAX] = AP_FIELD_END,
};

static const struct ap_prop log_props[] = {
	{ .name = "site", .type = AP_J_INT },
	{ .name = "which", .type = AP_J_STRING, .choices = ap_log_kinds },
	{ .name = "size", .type = AP_J_INT, .desc = "the log's size in bytes" },
	{ .name = "lines", .type = AP_J_ARRAY, .items = AP_J_STRING, .desc = "the last lines that match, oldest first" },
	AP_PROP_END,
};
const struct ap_schema ap_log_schema = { .name = "SiteLog", .desc = "the end of a site's log", .props = log_props };

static struct ap_helper_client *H_client;

static int
site_of(struct ap_ctx *ctx, struct ap_sites_env *env, struct ap_site *s)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_problem pb;

	memset(env, 0, sizeof(*env));
	env->db = ctx->db;
	env->cfg = c;
	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	env->helper = H_client;
	if (ap_site_get(env, ctx->fields[LG_ID].i, s, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	return 0;
}

int
ap_page_site_log(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct json_object *lines = NULL;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int64_t size = 0;
	int st, which = (int)f[LG_WHICH].i;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (ap_logs_tail(&env, &s, which, f[LG_ROTATED].b, f[LG_LINES].present ? (int)f[LG_LINES].i : 200,
		f[LG_SEARCH].present ? f[LG_SEARCH].s : NULL,
		f[LG_LEVEL].present ? ap_log_levels[f[LG_LEVEL].i] : NULL, &lines, &size, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	ap_model_add(ctx->model, "site", json_object_new_int64(s.id));
	ap_model_str(ctx->model, "which", ap_log_kinds[which]);
	ap_model_add(ctx->model, "size", json_object_new_int64(size));
	ap_model_add(ctx->model, "lines", lines);
	if (!ctx->req->wants_json) {
		ctx->title = ap_ctx_tr(ctx, "Logs");
		ap_model_str(ctx->model, "domain", s.spec.domain);
		ap_model_add(ctx->model, "is_error", json_object_new_boolean(which == 1));
		ap_model_add(ctx->model, "follow", json_object_new_boolean(f[LG_FOLLOW].b));
		ap_model_str(ctx->model, "search", f[LG_SEARCH].present ? f[LG_SEARCH].s : "");
		ap_model_str(ctx->model, "level", f[LG_LEVEL].present ? ap_log_levels[f[LG_LEVEL].i] : "");
		ap_model_add(ctx->model, "empty", json_object_new_boolean(json_object_array_length(lines) == 0));
		/* Follow: the page's script reads the live stream from the size shown
		 * (the sampler's, no worker waits for new lines); without script the
		 * page reloads every two seconds (<noscript> refresh). */
	}
	return 200;
}

int
ap_page_site_log_download(struct ap_ctx *ctx)
{
	const struct ap_fieldval *f = ctx->fields;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	int64_t size;
	int st, fd;

	if ((st = site_of(ctx, &env, &s)) != 0)
		return st;
	if (ap_logs_open(&env, &s, (int)f[LD_WHICH].i, f[LD_ROTATED].b, &fd, &size, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	ctx->raw_from_fd = true;
	ctx->raw_fd = fd;
	ctx->raw_len = size;
	ctx->raw_type = "text/plain; charset=utf-8";
	ap_ctx_header(ctx, "Content-Disposition", ap_arena_printf(ctx->arena, "attachment; filename=\"%s.%s.log\"",
	    s.spec.domain, ap_log_kinds[f[LD_WHICH].i]));
	return 200;
}

/* The stream's: the site and the log (indexes as LD_). */
const struct ap_field ap_logs_stream_fields[LD_ROTATED + 1] = {
	[LD_ID] = { .name = "id", .type = AP_FIELD_INT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED, .min = 1,
	    .max = INT64_MAX },
	[LD_WHICH] = { .name = "which", .type = AP_FIELD_ENUM, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED,
	    .choices = ap_log_kinds, .desc = "the access or the error log" },
	[LD_ROTATED] = AP_FIELD_END,
};

int
ap_page_site_log_stream_auth(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env env;
	struct ap_problem pb;
	struct ap_site s;
	char token[AP_SAMPLER_TOKEN_SIZE];
	int64_t size;
	int st, fd;
	enum ap_err err;

	/* nginx's auth_request passes 401 and 403 on, and makes anything else a 500. */
	if ((st = site_of(ctx, &env, &s)) != 0)
		return st == 404 ? 403 : st;
	if (!c->monitor_enabled) {
		ap_problem_set(&pb, AP_PB_UNAVAILABLE, NULL, "the live stream is off (monitor.enabled)");
		return ap_ctx_problem(ctx, &pb);
	}
	if (ap_logs_open(&env, &s, (int)ctx->fields[LD_WHICH].i, false, &fd, &size, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	/* The sampler gets its own copy of the descriptor; nginx connects the stream with the token. */
	err = ap_sampler_hand(c->monitor_socket, fd, token);
	close(fd);
	if (err != AP_OK) {
		ap_problem_set(&pb, AP_PB_UNAVAILABLE, NULL, "the live stream's server does not answer");
		return ap_ctx_problem(ctx, &pb);
	}
	ap_ctx_header(ctx, "X-Aapanel-Stream", token);
	return 204;
}
