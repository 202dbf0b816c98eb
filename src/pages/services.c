/*
 * services.c — the Services screen (services.read to look, services.write
 * to change; docs/services.md): the units of services.units with their
 * state, unit file state, since when, memory and main PID; a unit's page
 * with its last journal lines; start, stop, restart, reload, enable,
 * disable. Stopping or disabling a unit of services.protected (the panel's
 * own, SSH) needs its name typed into "confirm". Where systemd does not run
 * the screen, the API and the CLI say so (available false, the reason):
 * a state, not an error page.
 *
 * Resources: ServiceList {available, reason, units}, ServiceDetail
 * {available, reason, unit, journal}, ServiceChange {name, action, result,
 * before, after} (POST /service-actions, audited with before and after).
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/auth.h"
#include "aapanel/gate.h"
#include "aapanel/pages.h"
#include "aapanel/rows.h"
#include "aapanel/services.h"

enum { SD_NAME, SD__MAX };
const struct ap_field ap_service_fields[SD__MAX + 1] = {
	[SD_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_PATH | AP_FIELD_REQUIRED |
	    AP_FIELD_SINGLELINE, .min = 1, .max = AP_UNIT_NAME_MAX, .check = ap_check_unit_name,
	    .desc = "a unit of services.units, e.g. nginx.service (a bare name means NAME.service)" },
	[SD__MAX] = AP_FIELD_END,
};

enum { SA_NAME, SA_ACTION, SA_CONFIRM, SA__MAX };
const struct ap_field ap_service_action_fields[SA__MAX + 1] = {
	[SA_NAME] = { .name = "name", .type = AP_FIELD_TEXT, .flags = AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE,
	    .min = 1, .max = AP_UNIT_NAME_MAX, .check = ap_check_unit_name,
	    .desc = "a unit of services.units, e.g. nginx.service (a bare name means NAME.service)" },
	[SA_ACTION] = { .name = "action", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED,
	    .choices = ap_service_actions, .desc = "what systemd is asked to do" },
	[SA_CONFIRM] = { .name = "confirm", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = AP_UNIT_NAME_MAX, .check = ap_check_unit_name,
	    .desc = "the unit's name again: required to stop or disable a unit of services.protected" },
	[SA__MAX] = AP_FIELD_END,
};

static const struct ap_prop service_props[] = {
	{ .name = "name", .type = AP_J_STRING, .desc = "the unit, e.g. nginx.service" },
	{ .name = "description", .type = AP_J_STRING, .desc = "the unit's Description=" },
	{ .name = "load_state", .type = AP_J_STRING, .desc = "loaded, not-found (not installed), masked, error" },
	{ .name = "active_state", .type = AP_J_STRING, .desc = "active, inactive, failed, activating, deactivating, reloading" },
	{ .name = "sub_state", .type = AP_J_STRING, .desc = "running, exited, dead, ... (the unit type's own)" },
	{ .name = "unit_file_state", .type = AP_J_STRING, .desc = "enabled, disabled, static, masked, ... (\"\": no unit file)" },
	{ .name = "since", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when the state last changed" },
	{ .name = "memory", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "bytes its processes use; null: not known" },
	{ .name = "main_pid", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "a service's main process; null: none" },
	{ .name = "protected", .type = AP_J_BOOL, .desc = "in services.protected: stopping or disabling it needs its typed name" },
	AP_PROP_END,
};
const struct ap_schema ap_service_schema = { .name = "Service", .desc = "a systemd unit the panel may control",
	.props = service_props };

static const struct ap_prop list_props[] = {
	{ .name = "available", .type = AP_J_BOOL, .desc = "whether systemd runs here and answers" },
	{ .name = "reason", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why not; null when available" },
	{ .name = "units", .type = AP_J_ARRAY, .of = &ap_service_schema,
	    .desc = "the units of services.units systemd knows (empty when not available)" },
	{ .name = "configured", .type = AP_J_ARRAY, .items = AP_J_STRING,
	    .desc = "services.units as configured (names and patterns)" },
	AP_PROP_END,
};
const struct ap_schema ap_service_list_schema = { .name = "ServiceList",
	.desc = "the units the panel may control, or why systemd is not available", .props = list_props };

static const struct ap_prop line_props[] = {
	{ .name = "time", .type = AP_J_TIME },
	{ .name = "priority", .type = AP_J_INT, .desc = "syslog priority, 0 (emergency) to 7 (debug)" },
	{ .name = "message", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema line_schema = { .name = "JournalLine", .desc = "a line of the journal",
	.props = line_props };

static const struct ap_prop detail_props[] = {
	{ .name = "available", .type = AP_J_BOOL, .desc = "whether systemd runs here and answers" },
	{ .name = "reason", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "why not; null when available" },
	{ .name = "unit", .type = AP_J_OBJECT, .of = &ap_service_schema, .flags = AP_J_NULL,
	    .desc = "null when not available" },
	{ .name = "journal", .type = AP_J_ARRAY, .of = &line_schema,
	    .desc = "its last services.journal_lines lines, oldest first: its processes' and systemd's about it" },
	AP_PROP_END,
};
const struct ap_schema ap_service_detail_schema = { .name = "ServiceDetail",
	.desc = "a unit with its last journal lines", .props = detail_props };

static const struct ap_prop change_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "action", .type = AP_J_STRING, .choices = ap_service_actions },
	{ .name = "result", .type = AP_J_STRING, .desc = "systemd's job result: done" },
	{ .name = "before", .type = AP_J_OBJECT, .of = &ap_service_schema },
	{ .name = "after", .type = AP_J_OBJECT, .of = &ap_service_schema },
	AP_PROP_END,
};
const struct ap_schema ap_service_change_schema = { .name = "ServiceChange",
	.desc = "what an action did: the unit before and after", .props = change_props };

static struct ap_helper_client *H_client;

static struct ap_sites_env
env_of(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_sites_env e = { .db = NULL, .cfg = c };
	int wait = c->request_timeout * 1000 - 2000;

	if (H_client == NULL)
		H_client = ap_helper_client_new(c->helper_socket, c->helper_timeout_ms, 1 << 20);
	e.helper = H_client;
	e.job_wait_ms = wait < 1000 ? 1000 : wait > 25000 ? 25000 : wait;
	return e;
}

static bool
can_write(struct ap_ctx *ctx)
{
	return ctx->user != NULL && ap_role_allows(ctx->user->role, "services.write") &&
	    (ctx->token_scope == NULL || ap_scope_allows(ctx->token_scope, "services.write"));
}

/* Not an admin, but an operator who may restart or reload name (services.operator_units). */
static bool
can_operate(struct ap_ctx *ctx, const char *name)
{
	return !can_write(ctx) && ap_gate_allows(ctx, "services.operate") &&
	    ap_unit_list_has(ctx->app->cfg->services_operator_units, name);
}

static const char *
jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
	    ? json_object_get_string(v) : "";
}

static struct json_object *
jint_or_null(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)
	    ? json_object_new_int64(json_object_get_int64(v)) : NULL;
}

/* The helper's unit as the API's Service (since as a time). */
struct json_object *
ap_service_resource(struct json_object *u)
{
	struct json_object *o = json_object_new_object(), *v;

	ap_model_str(o, "name", jstr(u, "name"));
	ap_model_str(o, "description", jstr(u, "description"));
	ap_model_str(o, "load_state", jstr(u, "load_state"));
	ap_model_str(o, "active_state", jstr(u, "active_state"));
	ap_model_str(o, "sub_state", jstr(u, "sub_state"));
	ap_model_str(o, "unit_file_state", jstr(u, "unit_file_state"));
	ap_model_add(o, "since", json_object_object_get_ex(u, "since", &v) && v != NULL
	    ? ap_model_time(json_object_get_int64(v)) : NULL);
	ap_model_add(o, "memory", jint_or_null(u, "memory"));
	ap_model_add(o, "main_pid", jint_or_null(u, "main_pid"));
	ap_model_add(o, "protected", json_object_new_boolean(json_object_object_get_ex(u, "protected", &v) &&
	    json_object_get_boolean(v)));
	return o;
}

/* The template's words beside a Service (never under its members). */
static void
labels(struct ap_ctx *ctx, struct json_object *o)
{
	const char *a = jstr(o, "active_state"), *l = jstr(o, "load_state");
	bool missing = strcmp(l, "not-found") == 0;

	ap_model_str(o, "state_label", ap_ctx_tr(ctx, missing ? N_("Not installed")
	    : strcmp(a, "active") == 0 ? N_("Running") : strcmp(a, "failed") == 0 ? N_("Failed")
	    : strcmp(a, "activating") == 0 ? N_("Starting") : strcmp(a, "deactivating") == 0 ? N_("Stopping")
	    : strcmp(a, "reloading") == 0 ? N_("Reloading") : N_("Stopped")));
	ap_model_str(o, "state_class", missing ? "" : strcmp(a, "active") == 0 ? " badge-ok"
	    : strcmp(a, "failed") == 0 ? " badge-danger" : strcmp(a, "inactive") == 0 ? "" : " badge-warn");
	ap_model_add(o, "is_installed", json_object_new_boolean(!missing));
	ap_model_add(o, "is_active", json_object_new_boolean(strcmp(a, "active") == 0));
	ap_model_add(o, "is_enabled", json_object_new_boolean(strcmp(jstr(o, "unit_file_state"), "enabled") == 0));
}

/*
 * The list's rows (rows.h): ap_service_resource's members and labels',
 * read from structs — the same bytes as those objects give.
 */
struct unit_view {
	const char *name, *description, *load_state, *active_state, *sub_state, *unit_file_state,
	    *state_label, *state_class;
	int64_t since, memory, main_pid;
	bool protected_, is_installed, is_active, is_enabled;
};
static const struct ap_col unit_cols[] = {
	AP_COL(struct unit_view, name, AP_COL_STR),
	AP_COL(struct unit_view, description, AP_COL_STR),
	AP_COL(struct unit_view, load_state, AP_COL_STR),
	AP_COL(struct unit_view, active_state, AP_COL_STR),
	AP_COL(struct unit_view, sub_state, AP_COL_STR),
	AP_COL(struct unit_view, unit_file_state, AP_COL_STR),
	AP_COL(struct unit_view, since, AP_COL_TIME),
	AP_COL(struct unit_view, memory, AP_COL_INTN),
	AP_COL(struct unit_view, main_pid, AP_COL_INTN),
	AP_COL_AS("protected", struct unit_view, protected_, AP_COL_BOOL),
	AP_COL(struct unit_view, state_label, AP_COL_STR),
	AP_COL(struct unit_view, state_class, AP_COL_STR),
	AP_COL(struct unit_view, is_installed, AP_COL_BOOL),
	AP_COL(struct unit_view, is_active, AP_COL_BOOL),
	AP_COL(struct unit_view, is_enabled, AP_COL_BOOL),
	AP_COL_END,
};

/* jint_or_null's value as a cell. */
static int64_t
jint_cell(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)
	    ? json_object_get_int64(v) : AP_ROWS_NULL;
}

/* One row: ap_service_resource(u) with labels(ctx, …). */
static void
unit_row(struct ap_ctx *ctx, struct json_object *rows, struct json_object *u)
{
	struct unit_view *w = ap_rows_add(rows);
	struct json_object *v;
	const char *a = jstr(u, "active_state");
	bool missing = strcmp(jstr(u, "load_state"), "not-found") == 0;

	w->name = ap_rows_strdup(rows, jstr(u, "name"));
	w->description = ap_rows_strdup(rows, jstr(u, "description"));
	w->load_state = ap_rows_strdup(rows, jstr(u, "load_state"));
	w->active_state = ap_rows_strdup(rows, a);
	w->sub_state = ap_rows_strdup(rows, jstr(u, "sub_state"));
	w->unit_file_state = ap_rows_strdup(rows, jstr(u, "unit_file_state"));
	w->since = json_object_object_get_ex(u, "since", &v) && v != NULL ? json_object_get_int64(v) : 0;
	w->memory = jint_cell(u, "memory");
	w->main_pid = jint_cell(u, "main_pid");
	w->protected_ = json_object_object_get_ex(u, "protected", &v) && json_object_get_boolean(v);
	/* labels' */
	w->state_label = ap_ctx_tr(ctx, missing ? N_("Not installed")
	    : strcmp(a, "active") == 0 ? N_("Running") : strcmp(a, "failed") == 0 ? N_("Failed")
	    : strcmp(a, "activating") == 0 ? N_("Starting") : strcmp(a, "deactivating") == 0 ? N_("Stopping")
	    : strcmp(a, "reloading") == 0 ? N_("Reloading") : N_("Stopped"));
	w->state_class = missing ? "" : strcmp(a, "active") == 0 ? " badge-ok"
	    : strcmp(a, "failed") == 0 ? " badge-danger" : strcmp(a, "inactive") == 0 ? "" : " badge-warn";
	w->is_installed = !missing;
	w->is_active = strcmp(a, "active") == 0;
	w->is_enabled = strcmp(jstr(u, "unit_file_state"), "enabled") == 0;
}

static int
helper_down(struct ap_ctx *ctx, const struct ap_problem *pb)
{
	return ap_ctx_problem(ctx, pb);
}

/* ---------------------------------------------------------------- GET /services */

static bool
add_configured(void *p, const char *entry)
{
	json_object_array_add(p, json_object_new_string(entry));
	return true;
}

int
ap_page_services(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct json_object *res = NULL, *units, *v, *arr = ap_rows_new(unit_cols, sizeof(struct unit_view));
	struct json_object *conf = json_object_new_array();
	struct ap_problem pb;
	bool available;

	ctx->title = ap_ctx_tr(ctx, "Services");
	if (ap_service_list(&env, &res, &pb) != AP_OK) {
		json_object_put(arr);
		json_object_put(conf);
		return helper_down(ctx, &pb);
	}
	available = json_object_object_get_ex(res, "available", &v) && json_object_get_boolean(v);
	if (available && json_object_object_get_ex(res, "units", &units)) {
		for (size_t i = 0; i < json_object_array_length(units); i++)
			unit_row(ctx, arr, json_object_array_get_idx(units, i));
	}
	ap_unit_list_each(ctx->app->cfg->services_units, add_configured, conf);
	ap_model_add(ctx->model, "available", json_object_new_boolean(available));
	ap_model_opt(ctx->model, "reason", available ? NULL : jstr(res, "reason"));
	ap_model_add(ctx->model, "units", arr);
	ap_model_add(ctx->model, "configured", conf);
	if (!ctx->req->wants_json) {
		ap_model_add(ctx->model, "has_units", json_object_new_boolean(ap_rows_count(arr) > 0));
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
	}
	json_object_put(res);
	return 200;
}

/* ---------------------------------------------------------------- GET /services/{name} */

int
ap_page_service(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	struct json_object *res = NULL, *v, *o = NULL, *lines = json_object_new_array();
	char name[AP_SERVICE_NAME_LEN];
	struct ap_problem pb;
	bool available;

	/* A name the panel may not control is no page of it. */
	if (!ctx->fields[SD_NAME].present || ctx->fields[SD_NAME].s == NULL ||
	    ap_service_name(ctx->app->cfg, "name", ctx->fields[SD_NAME].s, name, &pb) != AP_OK) {
		const char *kept = ctx->form_again ? ap_ctx_kept(ctx, "name") : NULL;

		json_object_put(lines);
		if (!ctx->form_again)
			return ap_ctx_fail(ctx, AP_PB_NOT_FOUND, NULL, "no such page");
		/* The action form again after a refused name: what was typed, the reason at it. */
		ctx->title = ap_ctx_tr(ctx, "Service");
		ap_model_add(ctx->model, "available", json_object_new_boolean(true));
		ap_model_add(ctx->model, "pick", json_object_new_boolean(true));
		ap_model_str(ctx->model, "kept_name", kept != NULL ? kept : "");
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx)));
		return 200;
	}
	ctx->title = ap_ctx_tr(ctx, "Service");
	if (ap_service_status(&env, name, &res, &pb) != AP_OK) {
		json_object_put(lines);
		return helper_down(ctx, &pb);
	}
	available = json_object_object_get_ex(res, "available", &v) && json_object_get_boolean(v);
	if (available && json_object_object_get_ex(res, "unit", &v)) {
		o = ap_service_resource(v);
		if (!ctx->req->wants_json)
			labels(ctx, o);
	}
	if (available && json_object_object_get_ex(res, "journal", &v)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *l = json_object_array_get_idx(v, i), *n = json_object_new_object(), *t;

			ap_model_add(n, "time", ap_model_time(json_object_object_get_ex(l, "time", &t)
			    ? json_object_get_int64(t) : 0));
			ap_model_add(n, "priority", json_object_new_int(json_object_object_get_ex(l, "priority", &t)
			    ? json_object_get_int(t) : 6));
			ap_model_str(n, "message", jstr(l, "message"));
			if (!ctx->req->wants_json)
				ap_model_add(n, "is_error", json_object_new_boolean(json_object_object_get_ex(l, "priority", &t)
				    && json_object_get_int(t) <= 3));
			json_object_array_add(lines, n);
		}
	}
	ap_model_add(ctx->model, "available", json_object_new_boolean(available));
	ap_model_opt(ctx->model, "reason", available ? NULL : jstr(res, "reason"));
	ap_model_add(ctx->model, "unit", o);
	ap_model_add(ctx->model, "journal", lines);
	if (!ctx->req->wants_json) {
		ap_model_str(ctx->model, "unit_name", name);
		ap_model_add(ctx->model, "has_journal", json_object_new_boolean(json_object_array_length(lines) > 0));
		ap_model_opt(ctx->model, "journal_error", json_object_object_get_ex(res, "journal_error", &v)
		    ? json_object_get_string(v) : NULL);
		ap_model_add(ctx->model, "can_write", json_object_new_boolean(can_write(ctx) && available));
		ap_model_add(ctx->model, "can_operate", json_object_new_boolean(can_operate(ctx, name) && available));
		ap_model_add(ctx->model, "confirm_needed", json_object_new_boolean(
		    ap_unit_list_has(ctx->app->cfg->services_protected, name)));
	}
	json_object_put(res);
	return 200;
}

/* ---------------------------------------------------------------- POST /service-actions */

/* The unit as the helper reads it now (for the audit), or NULL. */
static struct json_object *
state_of(const struct ap_sites_env *env, const char *name)
{
	struct json_object *res = NULL, *v, *o = NULL;
	struct ap_problem pb;

	if (ap_service_status(env, name, &res, &pb) == AP_OK && json_object_object_get_ex(res, "unit", &v))
		o = ap_service_resource(v);
	json_object_put(res);
	return o;
}

int
ap_page_service_action(struct ap_ctx *ctx)
{
	struct ap_sites_env env = env_of(ctx);
	const struct ap_fieldval *f = ctx->fields;
	const char *action = ap_service_actions[f[SA_ACTION].i];
	struct json_object *res = NULL, *before = NULL, *after = NULL, *answer, *v;
	char name[AP_SERVICE_NAME_LEN];
	struct ap_problem pb;

	if (ap_service_name(ctx->app->cfg, "name", f[SA_NAME].s, name, &pb) != AP_OK)
		return ap_ctx_problem(ctx, &pb);
	/* Operators: restart and reload only, of services.operator_units only (admins: all). */
	if (!can_write(ctx) && (!can_operate(ctx, name) ||
	    (strcmp(action, "restart") != 0 && strcmp(action, "reload") != 0))) {
		ap_problem_set(&pb, AP_PB_DENIED, NULL,
		    "operators may only restart or reload the units of services.operator_units");
		return ap_ctx_problem(ctx, &pb);
	}
	before = state_of(&env, name);
	if (ap_service_control(&env, name, action, f[SA_CONFIRM].present ? f[SA_CONFIRM].s : NULL, &res, &pb) != AP_OK) {
		struct json_object *a = state_of(&env, name);

		if (a == NULL)
			a = json_object_new_object();
		ap_model_str(a, "error", ap_pb_name(pb.code));
		ap_model_str(a, "reason", pb.reason);
		if (pb.code != AP_PB_INVALID) /* a refusal changed nothing: not worth a row */
			ap_ctx_audit(ctx, ap_arena_printf(ctx->arena, "service.%s", action), name, "failed",
			    before ? ap_ctx_json_text(ctx, before) : NULL, ap_ctx_json_text(ctx, a));
		else {
			json_object_put(a);
			json_object_put(before);
		}
		return ap_ctx_problem(ctx, &pb);
	}
	json_object_put(before);
	before = json_object_object_get_ex(res, "before", &v) ? ap_service_resource(v) : json_object_new_object();
	after = json_object_object_get_ex(res, "after", &v) ? ap_service_resource(v) : json_object_new_object();
	ap_ctx_audit(ctx, ap_arena_printf(ctx->arena, "service.%s", action), name, "ok",
	    ap_ctx_json_text(ctx, json_object_get(before)), ap_ctx_json_text(ctx, json_object_get(after)));
	answer = json_object_new_object();
	ap_model_str(answer, "name", name);
	ap_model_str(answer, "action", action);
	ap_model_str(answer, "result", jstr(res, "result"));
	ap_model_add(answer, "before", before);
	ap_model_add(answer, "after", after);
	json_object_put(res);
	if (!ctx->req->wants_json) {
		json_object_put(answer);
		ap_ctx_flash(ctx, "ok", "systemd carried out the action on %s.", name);
		return ap_ctx_back(ctx, ap_arena_printf(ctx->arena, "/services/%s", name));
	}
	return ap_ctx_answer(ctx, 200, answer);
}
