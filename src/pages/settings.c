/*
 * settings.c — GET /settings and its forms:
 *
 *   /settings/security  require two-factor of everyone (the settings table;
 *                       the gate reloads ctx->app->require_2fa every few s)
 *   /settings/listen    the panel's port and listen address (nginx, through
 *                       the helper's panel.listen: test, reload, roll back)
 *   /settings/entrance  panel.base_path (nginx's include and the settings
 *                       layer, then a pool reload)
 *   /settings/access    access.allow (the settings layer, a pool reload)
 *   /settings/sessions  session.idle_timeout, session.absolute_timeout (same)
 *
 * Where the choices live: the port, address and entrance are what nginx
 * serves, so they live in nginx's own include (nginx.listen_file), read
 * back from its header line; the entrance, the allowed addresses and the
 * timeouts are configuration read before the first request (the gate, the
 * sessions, the router use them), so they live in panel.settings_file, a
 * configuration layer over the profile that only these keys may set,
 * validated by the loader's own rules, written by the helper; the master
 * reloads it (SIGHUP) with no failed request. The worker writes no file and
 * runs no program.
 *
 * The lock-out guards: an allowed-addresses list must include the address
 * of the admin who sends it; a port must be free (no listener in
 * /proc/net/tcp{,6}) and 1024 or above, unless it is the panel's own now.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aapanel/auth.h"
#include "aapanel/helper.h"
#include "aapanel/listenconf.h"
#include "aapanel/log.h"
#include "aapanel/pages.h"
#include "aapanel/settings.h"
#include "aapanel/users.h"

static const char *
check_address(const char *s, size_t n)
{
	(void)n;
	return ap_listen_address_ok(s) ? NULL : N_("must be * (every address) or an IPv4 or IPv6 address");
}

static const char *
check_base(const char *s, size_t n)
{
	(void)n;
	return ap_listen_base_ok(s) ? NULL
	    : N_("must be / or / followed by words of letters, digits, _ or - separated by /, without a trailing /");
}

static const char *
check_allow(const char *s, size_t n)
{
	char why[192];

	(void)n;
	return ap_config_setting_check("access.allow", s, why, sizeof(why)) ? NULL
	    : N_("must be addresses or networks separated by commas, e.g. 192.0.2.10, 10.0.0.0/8");
}

enum sec_field { SEC_REQUIRE_2FA, SEC__MAX };
const struct ap_field ap_settings_security_fields[SEC__MAX + 1] = {
	[SEC_REQUIRE_2FA] = { .name = "require_2fa", .type = AP_FIELD_BOOL },
	[SEC__MAX] = AP_FIELD_END,
};

enum listen_field { LST_ADDRESS, LST_PORT, LST__MAX };
const struct ap_field ap_settings_listen_fields[LST__MAX + 1] = {
	[LST_ADDRESS] = { .name = "address", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .min = 1, .max = 63, .check = check_address,
	    .desc = "where nginx listens for the panel: * (every IPv4 and IPv6 address) or one address; absent = unchanged" },
	[LST_PORT] = { .name = "port", .type = AP_FIELD_INT, .min = 1, .max = 65535,
	    .desc = "the panel's port; absent = unchanged" },
	[LST__MAX] = AP_FIELD_END,
};

enum entrance_field { ENT_BASE, ENT__MAX };
const struct ap_field ap_settings_entrance_fields[ENT__MAX + 1] = {
	[ENT_BASE] = { .name = "base_path", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .min = 1, .max = 255, .check = check_base,
	    .desc = "the security entrance (panel.base_path): / or /seg[/seg...]; absent = unchanged" },
	[ENT__MAX] = AP_FIELD_END,
};

enum access_field { ACC_ALLOW, ACC__MAX };
const struct ap_field ap_settings_access_fields[ACC__MAX + 1] = {
	[ACC_ALLOW] = { .name = "allow", .type = AP_FIELD_TEXT, .flags = AP_FIELD_SINGLELINE,
	    .max = 1024, .check = check_allow,
	    .desc = "access.allow: addresses and networks separated by commas; empty = everyone; absent = unchanged" },
	[ACC__MAX] = AP_FIELD_END,
};

enum sessions_field { SES_IDLE, SES_ABSOLUTE, SES__MAX };
const struct ap_field ap_settings_sessions_fields[SES__MAX + 1] = {
	[SES_IDLE] = { .name = "idle_timeout", .type = AP_FIELD_INT, .min = 60, .max = 86400,
	    .desc = "session.idle_timeout in seconds; absent = unchanged" },
	[SES_ABSOLUTE] = { .name = "absolute_timeout", .type = AP_FIELD_INT, .min = 300, .max = 604800,
	    .desc = "session.absolute_timeout in seconds; absent = unchanged" },
	[SES__MAX] = AP_FIELD_END,
};

static const struct ap_prop settings_props[] = {
	{ .name = "require_2fa", .type = AP_J_BOOL,
	    .desc = "every user must use two-factor authentication (until they do, only their account page)" },
	{ .name = "users_without_2fa", .type = AP_J_INT, .desc = "enabled users who have not turned it on" },
	{ .name = "address", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "where nginx listens for the panel (* = every address); null when nginx.listen_file is not set" },
	{ .name = "port", .type = AP_J_INT, .flags = AP_J_NULL, .desc = "the panel's port; null as address" },
	{ .name = "base_path", .type = AP_J_STRING, .desc = "the security entrance (panel.base_path)" },
	{ .name = "allow", .type = AP_J_STRING, .desc = "access.allow: \"\" = everyone" },
	{ .name = "idle_timeout", .type = AP_J_INT, .desc = "session.idle_timeout, seconds" },
	{ .name = "absolute_timeout", .type = AP_J_INT, .desc = "session.absolute_timeout, seconds" },
	{ .name = "url", .type = AP_J_STRING, .flags = AP_J_NULL,
	    .desc = "the panel's address as these settings make it (the host as this request named it)" },
	{ .name = "tls", .type = AP_J_BOOL, .desc = "nginx serves the panel over HTTPS" },
	{ .name = "certificate_names", .type = AP_J_ARRAY, .items = AP_J_STRING,
	    .desc = "the names of the panel's certificate (empty without TLS or when it cannot be read)" },
	{ .name = "certificate_issuer", .type = AP_J_STRING, .flags = AP_J_NULL, .desc = "who issued it" },
	{ .name = "certificate_expires", .type = AP_J_TIME, .flags = AP_J_NULL, .desc = "when it expires" },
	{ .name = "movable", .type = AP_J_BOOL,
	    .desc = "the panel can change its port, entrance and access here (nginx.listen_file and panel.settings_file set)" },
	AP_PROP_END,
};
const struct ap_schema ap_settings_schema = { .name = "Settings", .props = settings_props };

/* One client per worker, kept (each worker is its own process). */
static struct ap_helper_client *
helper(struct ap_ctx *ctx)
{
	static struct ap_helper_client *h;

	if (h == NULL)
		h = ap_helper_client_new(ctx->app->cfg->helper_socket, ctx->app->cfg->helper_timeout_ms, 1 << 20);
	return h;
}

/* What nginx serves now, from the include's header; false when there is none. */
static bool
current_listen(const struct ap_ctx *ctx, struct ap_listen *l)
{
	const char *f = ctx->app->cfg->nginx_listen_file;

	return f != NULL && f[0] != '\0' && ap_listen_read(f, l);
}

static bool
movable(const struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;

	return c->nginx_listen_file[0] != '\0' && c->settings_file[0] != '\0';
}

/* The host this request named, without its port; "" when it is not a plain name or address. */
static const char *
request_host(struct ap_ctx *ctx)
{
	const char *h = ctx->req->host ? ctx->req->host : "";
	size_t n = 0;

	if (h[0] == '[') {
		const char *e = strchr(h, ']');

		n = e ? (size_t)(e - h) + 1 : 0;
	} else {
		n = strcspn(h, ":");
	}
	if (n == 0 || n > 253)
		return "";
	for (size_t i = 0; i < n; i++)
		if (!(h[i] >= 'a' && h[i] <= 'z') && !(h[i] >= 'A' && h[i] <= 'Z') && !(h[i] >= '0' && h[i] <= '9') &&
		    strchr(".-[]:", h[i]) == NULL)
			return "";
	return ap_arena_strndup(ctx->arena, h, n);
}

/* The panel's URL once address, port and base apply. */
static const char *
panel_url(struct ap_ctx *ctx, const char *address, int port, bool tls, const char *base)
{
	const char *host = request_host(ctx);
	bool dflt = (tls && port == 443) || (!tls && port == 80);

	if (host[0] == '\0')
		host = strcmp(address, "*") == 0 ? "127.0.0.1"
		    : strchr(address, ':') ? ap_arena_printf(ctx->arena, "[%s]", address) : address;
	return ap_arena_printf(ctx->arena, "%s://%s%s%s/", tls ? "https" : "http", host,
	    dflt ? "" : ap_arena_printf(ctx->arena, ":%d", port), strcmp(base, "/") == 0 ? "" : base);
}

/* The certificate, asked of the helper (the panel's user may not read it). */
static void
add_tls(struct ap_ctx *ctx, const struct ap_listen *l, bool have)
{
	struct json_object *res = NULL, *v, *names = json_object_new_array();
	struct ap_problem pb;
	int64_t exp = 0;

	ap_model_add(ctx->model, "tls", json_object_new_boolean(have && l->tls));
	ap_model_add(ctx->model, "certificate_names", names);
	ap_model_add(ctx->model, "certificate_issuer", NULL);
	ap_model_add(ctx->model, "certificate_expires", NULL);
	if (!have || !l->tls)
		return;
	if (ap_helper_call(helper(ctx), "panel.tls", NULL, &res, &pb) != AP_OK) {
		ap_model_str(ctx->model, "tls_error", ap_ctx_reason(ctx, &pb));
		return;
	}
	if (json_object_object_get_ex(res, "names", &v))
		for (size_t i = 0; i < json_object_array_length(v); i++)
			json_object_array_add(names, json_object_get(json_object_array_get_idx(v, i)));
	if (json_object_object_get_ex(res, "issuer", &v))
		ap_model_str(ctx->model, "certificate_issuer", json_object_get_string(v));
	if (json_object_object_get_ex(res, "not_after", &v) && (exp = json_object_get_int64(v)) > 0) {
		int64_t days = (exp - (int64_t)time(NULL)) / 86400;

		ap_model_add(ctx->model, "certificate_expires", ap_model_time(exp));
		ap_model_add(ctx->model, "certificate_days", json_object_new_int64(days));
		ap_model_add(ctx->model, "certificate_warning", json_object_new_boolean(days < 14));
	}
	json_object_put(res);
}

/* A kept value (the form came back with a problem) or the current one. */
static const char *
kept_or(const struct ap_ctx *ctx, const char *name, const char *cur)
{
	const char *k = ap_ctx_kept(ctx, name);

	return k != NULL ? k : cur;
}

/* The settings, read from the table and the files (not the worker's cached copy). */
static int
settings_model(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_listen l;
	bool have = current_listen(ctx, &l);
	int64_t without = 0;
	char num[24];
	bool on;
	enum ap_db_rc rc;

	if ((rc = ap_setting_get_bool(ctx->db, AP_SETTING_REQUIRE_2FA, &on)) != AP_DB_OK ||
	    (rc = ap_user_count_without_2fa(ctx->db, &without)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ap_model_add(ctx->model, "require_2fa", json_object_new_boolean(on));
	ap_model_add(ctx->model, "users_without_2fa", json_object_new_int64(without));
	ap_model_add(ctx->model, "address", have ? json_object_new_string(l.address) : NULL);
	ap_model_add(ctx->model, "port", have ? json_object_new_int64(l.port) : NULL);
	ap_model_str(ctx->model, "base_path", c->base_path);
	ap_model_str(ctx->model, "allow", c->access_allow);
	ap_model_add(ctx->model, "idle_timeout", json_object_new_int64(c->session_idle_timeout));
	ap_model_add(ctx->model, "absolute_timeout", json_object_new_int64(c->session_absolute_timeout));
	ap_model_add(ctx->model, "url",
	    have ? json_object_new_string(panel_url(ctx, l.address, l.port, l.tls, c->base_path)) : NULL);
	ap_model_add(ctx->model, "movable", json_object_new_boolean(movable(ctx) && have));
	add_tls(ctx, &l, have);
	/* The forms' values: what was typed when a form came back, else the current ones. */
	snprintf(num, sizeof(num), "%d", have ? l.port : 0);
	ap_model_str(ctx->model, "form_address", kept_or(ctx, "address", have ? l.address : ""));
	ap_model_str(ctx->model, "form_port", kept_or(ctx, "port", have ? num : ""));
	ap_model_str(ctx->model, "form_base_path", kept_or(ctx, "base_path", c->base_path));
	ap_model_str(ctx->model, "form_allow", kept_or(ctx, "allow", c->access_allow));
	snprintf(num, sizeof(num), "%d", c->session_idle_timeout);
	ap_model_str(ctx->model, "form_idle_timeout", kept_or(ctx, "idle_timeout", num));
	snprintf(num, sizeof(num), "%d", c->session_absolute_timeout);
	ap_model_str(ctx->model, "form_absolute_timeout", kept_or(ctx, "absolute_timeout", num));
	ap_model_str(ctx->model, "client_addr", ctx->client_addr ? ctx->client_addr : "");
	return 200;
}

int
ap_page_settings(struct ap_ctx *ctx)
{
	ctx->title = ap_ctx_tr(ctx, "Settings");
	ap_model_add(ctx->model, "can_write",
	    json_object_new_boolean(ap_role_allows(ctx->user->role, "settings.write")));
	return settings_model(ctx);
}

/* After a change: the settings again (JSON), or the flash and 303 to where the panel now is. */
static int
done(struct ap_ctx *ctx, const char *to)
{
	if (ctx->req->wants_json)
		return settings_model(ctx);
	return to != NULL ? ap_ctx_redirect_moved(ctx, to) : ap_ctx_back(ctx, "/settings");
}

int
ap_page_settings_security(struct ap_ctx *ctx)
{
	bool want = ctx->fields[SEC_REQUIRE_2FA].b, before = false;
	enum ap_db_rc rc;

	if ((rc = ap_setting_get_bool(ctx->db, AP_SETTING_REQUIRE_2FA, &before)) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	/* Turning it on first needs two-factor on the admin's own account, or
	 * they would shut themself out of every page but their account. */
	if (want && !before && !ctx->user->totp_enabled)
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "require_2fa",
		    "turn on two-factor authentication for your own account first");
	if ((rc = ap_setting_set(ctx->db, AP_SETTING_REQUIRE_2FA, want ? "1" : "0")) != AP_DB_OK)
		return ap_ctx_db_error(ctx, rc);
	ctx->app->require_2fa = want;
	ap_ctx_audit(ctx, "settings.security", AP_SETTING_REQUIRE_2FA, "ok",
	    before ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}",
	    want ? "{\"require_2fa\":true}" : "{\"require_2fa\":false}");
	ap_ctx_flash(ctx, "ok", "The settings were saved.");
	return done(ctx, NULL);
}

/* The helper's problem as the field's, for the form or the JSON answer. */
static int
helper_failed(struct ap_ctx *ctx, const char *field, struct ap_problem *pb)
{
	if (pb->code == AP_PB_UNAVAILABLE || pb->code == AP_PB_BUSY || pb->code == AP_PB_TIMEOUT)
		return ap_ctx_problem(ctx, pb);
	if (pb->code == AP_PB_INVALID && pb->field[0] == '\0')
		snprintf(pb->field, sizeof(pb->field), "%s", field);
	if (pb->code != AP_PB_INVALID)
		return ap_ctx_fail(ctx, AP_PB_FAILED, field, "nginx refused the change and the previous configuration is back: %s",
		    pb->reason[0] ? pb->reason : "?");
	return ap_ctx_problem(ctx, pb);
}

static enum ap_err
call_listen(struct ap_ctx *ctx, const char *address, int port, const char *base, struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	enum ap_err rc;

	json_object_object_add(a, "address", json_object_new_string(address));
	json_object_object_add(a, "port", json_object_new_int64(port));
	json_object_object_add(a, "base_path", json_object_new_string(base));
	rc = ap_helper_call(helper(ctx), "panel.listen", a, &res, pb);
	json_object_put(res);
	json_object_put(a);
	return rc;
}

/* The settings layer with one key changed, then a reload of the pool. */
static enum ap_err
call_settings(struct ap_ctx *ctx, const char *base, const char *allow, int idle, int absolute,
    struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object(), *res = NULL;
	enum ap_err rc;

	json_object_object_add(a, "base_path", json_object_new_string(base));
	json_object_object_add(a, "allow", json_object_new_string(allow));
	json_object_object_add(a, "idle_timeout", json_object_new_int64(idle));
	json_object_object_add(a, "absolute_timeout", json_object_new_int64(absolute));
	rc = ap_helper_call(helper(ctx), "panel.settings", a, &res, pb);
	json_object_put(res);
	json_object_put(a);
	/* The master re-reads the configuration and starts a new generation of
	 * workers; this one finishes this request first. Outside the pool (the
	 * unit tests) the parent is not a master: nothing to tell. */
	if (rc == AP_OK && ctx->app->sb != NULL && kill(getppid(), SIGHUP) != 0)
		AP_WARN("settings: cannot ask the master to reload");
	return rc;
}

static const char *
json_pair(struct ap_ctx *ctx, const char *k1, const char *v1, const char *k2, int v2)
{
	struct json_object *o = json_object_new_object();
	const char *s;

	json_object_object_add(o, k1, json_object_new_string(v1));
	if (k2 != NULL)
		json_object_object_add(o, k2, json_object_new_int64(v2));
	s = ap_arena_strdup(ctx->arena, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

int
ap_page_settings_listen(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_listen l;
	struct ap_problem pb;
	const char *addr, *url;
	int port;

	if (!movable(ctx) || !current_listen(ctx, &l))
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "port",
		    "this panel's nginx is not managed by the panel (nginx.listen_file); see docs/operations.md");
	addr = ctx->fields[LST_ADDRESS].present ? ctx->fields[LST_ADDRESS].s : l.address;
	port = ctx->fields[LST_PORT].present ? (int)ctx->fields[LST_PORT].i : l.port;
	if (port != l.port && port < 1024 && !(l.tls && port == 443))
		return ap_ctx_fail(ctx, AP_PB_INVALID, "port",
		    "ports below 1024 belong to system services; choose 1024 or above");
	if (port != l.port && ap_listen_port_in_use(port))
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "port", "port %d is already in use on this server", port);
	url = panel_url(ctx, addr, port, l.tls, c->base_path);
	if (ap_ctx_unconfirmed(ctx, "Move the panel to %s? This page will stop answering at its current address.", url))
		return 200;
	if (strcmp(addr, l.address) == 0 && port == l.port) {
		ap_ctx_flash(ctx, "ok", "Nothing changed.");
		return done(ctx, NULL);
	}
	if (call_listen(ctx, addr, port, c->base_path, &pb) != AP_OK) {
		ap_ctx_audit(ctx, "settings.listen", "nginx", "failed", json_pair(ctx, "address", l.address, "port", l.port),
		    json_pair(ctx, "address", addr, "port", port));
		return helper_failed(ctx, "port", &pb);
	}
	ap_ctx_audit(ctx, "settings.listen", "nginx", "ok", json_pair(ctx, "address", l.address, "port", l.port),
	    json_pair(ctx, "address", addr, "port", port));
	ap_ctx_flash(ctx, "ok", "The panel moved to %s. Use this address from now on.", url);
	return done(ctx, ap_arena_printf(ctx->arena, "%ssettings", url));
}

int
ap_page_settings_entrance(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	struct ap_listen l;
	struct ap_problem pb;
	const char *base, *url;

	if (!movable(ctx) || !current_listen(ctx, &l))
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "base_path",
		    "this panel's nginx is not managed by the panel (nginx.listen_file); see docs/operations.md");
	base = ctx->fields[ENT_BASE].present ? ctx->fields[ENT_BASE].s : c->base_path;
	url = panel_url(ctx, l.address, l.port, l.tls, base);
	if (ap_ctx_unconfirmed(ctx, "Move the panel to %s? This page will stop answering at its current address.", url))
		return 200;
	if (strcmp(base, c->base_path) == 0) {
		ap_ctx_flash(ctx, "ok", "Nothing changed.");
		return done(ctx, NULL);
	}
	/* nginx first (its static files and stream follow the entrance), then the
	 * panel's own layer; a failure of the second puts nginx back. */
	if (call_listen(ctx, l.address, l.port, base, &pb) != AP_OK)
		return helper_failed(ctx, "base_path", &pb);
	if (call_settings(ctx, base, c->access_allow, c->session_idle_timeout, c->session_absolute_timeout, &pb) != AP_OK) {
		struct ap_problem pb2;

		call_listen(ctx, l.address, l.port, c->base_path, &pb2);
		return helper_failed(ctx, "base_path", &pb);
	}
	ap_ctx_audit(ctx, "settings.entrance", "panel.base_path", "ok", json_pair(ctx, "base_path", c->base_path, NULL, 0),
	    json_pair(ctx, "base_path", base, NULL, 0));
	ap_ctx_flash(ctx, "ok", "The panel moved to %s. Use this address from now on.", url);
	/* The next page is under the new entrance: the message goes there. */
	ctx->flash_base = strcmp(base, "/") == 0 ? "" : ap_arena_strdup(ctx->arena, base);
	return done(ctx, ap_arena_printf(ctx->arena, "%ssettings", url));
}

int
ap_page_settings_access(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	const char *allow = ap_req_form(ctx->req, "allow"), *me = ctx->client_addr ? ctx->client_addr : "";
	struct ap_problem pb;

	if (!movable(ctx))
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "allow",
		    "panel.settings_file is not set: change access.allow in the configuration");
	/* Absent: unchanged; present and empty: everyone. */
	if (ctx->fields[ACC_ALLOW].present)
		allow = ctx->fields[ACC_ALLOW].s;
	else if (allow == NULL)
		allow = c->access_allow;
	/* The lock-out guard: the list must let the admin who sends it back in. */
	if (allow[0] != '\0') {
		struct ap_cidr *nets = NULL;
		size_t n = 0;
		char bad[64];
		bool in = ap_cidr_list_parse(allow, &nets, &n, bad, sizeof(bad)) && ap_cidr_list_match(nets, n, me);

		free(nets);
		if (!in)
			return ap_ctx_fail(ctx, AP_PB_CONFLICT, "allow",
			    "this list does not include your own address %s: you would be locked out", me);
	}
	if (ap_ctx_unconfirmed(ctx, "Allow only %s to reach the panel?", allow[0] ? allow : ap_ctx_tr(ctx, "everyone")))
		return 200;
	if (strcmp(allow, c->access_allow) == 0) {
		ap_ctx_flash(ctx, "ok", "Nothing changed.");
		return done(ctx, NULL);
	}
	if (call_settings(ctx, c->base_path, allow, c->session_idle_timeout, c->session_absolute_timeout, &pb) != AP_OK)
		return helper_failed(ctx, "allow", &pb);
	ap_ctx_audit(ctx, "settings.access", "access.allow", "ok", json_pair(ctx, "allow", c->access_allow, NULL, 0),
	    json_pair(ctx, "allow", allow, NULL, 0));
	ap_ctx_flash(ctx, "ok", "The settings were saved.");
	return done(ctx, NULL);
}

int
ap_page_settings_sessions(struct ap_ctx *ctx)
{
	const struct ap_config *c = ctx->app->cfg;
	int idle = ctx->fields[SES_IDLE].present ? (int)ctx->fields[SES_IDLE].i : c->session_idle_timeout;
	int absolute = ctx->fields[SES_ABSOLUTE].present ? (int)ctx->fields[SES_ABSOLUTE].i : c->session_absolute_timeout;
	struct ap_problem pb;
	char before[96], after[96];

	if (!movable(ctx))
		return ap_ctx_fail(ctx, AP_PB_CONFLICT, "idle_timeout",
		    "panel.settings_file is not set: change the timeouts in the configuration");
	if (absolute < idle)
		return ap_ctx_fail(ctx, AP_PB_INVALID, "absolute_timeout",
		    "must be at least the idle timeout (%d seconds)", idle);
	if (idle == c->session_idle_timeout && absolute == c->session_absolute_timeout) {
		ap_ctx_flash(ctx, "ok", "Nothing changed.");
		return done(ctx, NULL);
	}
	if (call_settings(ctx, c->base_path, c->access_allow, idle, absolute, &pb) != AP_OK)
		return helper_failed(ctx, "idle_timeout", &pb);
	snprintf(before, sizeof(before), "{\"idle_timeout\":%d,\"absolute_timeout\":%d}", c->session_idle_timeout,
	    c->session_absolute_timeout);
	snprintf(after, sizeof(after), "{\"idle_timeout\":%d,\"absolute_timeout\":%d}", idle, absolute);
	ap_ctx_audit(ctx, "settings.sessions", "session", "ok", before, after);
	ap_ctx_flash(ctx, "ok", "The settings were saved.");
	return done(ctx, NULL);
}
