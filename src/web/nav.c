/*
 * nav.c — the panel's navigation for the layout (app.h): the sections of
 * the sidebar in a fixed order, each shown only once the panel has its
 * screen (a GET route with that path exists) and only to roles whose
 * permission for it allows it; the current one marked; the user menu.
 */
#include <string.h>

#include "aapanel/tpl.h"
#include "aapanel/app.h"

struct section {
	const char *id;
	const char *label; /* msgid */
	const char *path;  /* the section's screen; its route gives the permission */
	const char *also;  /* another path prefix that belongs to the section, or NULL */
};

/* The order an operator expects, as in other panels: the server first, people last. */
static const struct section sections[] = {
	{ "dashboard", N_("Dashboard"), "/", NULL },
	{ "monitor", N_("Monitoring"), "/monitor", NULL },
	{ "alerts", N_("Alerts"), "/alerts", NULL },
	{ "sites", N_("Websites"), "/sites", NULL },
	/* The sites' HTTPS: beside them (an issue request's form page is in it too). */
	{ "certificates", N_("Certificates"), "/certificates", "/certificate-requests" },
	{ "databases", N_("Databases"), "/databases", "/database-servers" },
	{ "files", N_("Files"), "/files/roots", NULL }, /* the admins' other roots (files.roots) */
	{ "logs", N_("Logs"), "/logs", NULL },
	{ "tasks", N_("Scheduled tasks"), "/tasks", NULL },
	{ "firewall", N_("Firewall"), "/firewall", NULL },
	{ "services", N_("Services"), "/services", "/service-actions" },
	{ "backups", N_("Backups"), "/backups", "/backup-destinations" },
	{ "users", N_("Users"), "/users", NULL },
	{ "tokens", N_("API tokens"), "/tokens", NULL },
	{ "settings", N_("Settings"), "/settings", NULL },
	{ "audit", N_("Audit log"), "/audit", NULL },
};

static const struct section account[] = {
	{ "account", N_("Your account"), "/account", NULL },
	{ "twofactor", N_("Two-factor authentication"), "/account/2fa", NULL },
};

/* The GET route of path, or NULL: a section exists once its screen does. */
static const struct ap_route *
screen_of(const struct ap_app *app, const char *path)
{
	for (size_t i = 0; i < app->nroutes; i++)
		if ((app->routes[i].methods & AP_M_GET) && strcmp(app->routes[i].pattern, path) == 0)
			return &app->routes[i];
	return NULL;
}

/* Is the request's page path, or below it ("/users/7/..." is in "/users")? */
static bool
under(const char *page, const char *path)
{
	size_t n;

	if (page == NULL || path == NULL)
		return false;
	if (strcmp(path, "/") == 0)
		return strcmp(page, "/") == 0;
	n = strlen(path);
	return strncmp(page, path, n) == 0 && (page[n] == '\0' || page[n] == '/' || page[n] == '.');
}

static struct json_object *
item(struct ap_ctx *ctx, const struct section *s, bool current)
{
	struct json_object *o = json_object_new_object();

	ap_model_str(o, "id", s->id);
	ap_model_str(o, "label", ap_ctx_tr(ctx, s->label));
	ap_model_add(o, "href", json_object_new_string(
	    ap_arena_printf(ctx->arena, "%s%s", ap_ctx_base(ctx), strcmp(s->path, "/") == 0 ? "/" : s->path)));
	ap_model_add(o, "current", json_object_new_boolean(current));
	return o;
}

static struct json_object *
build(struct ap_ctx *ctx, const struct section *cur)
{
	struct json_object *nav = json_object_new_object();
	struct json_object *main_items = json_object_new_array(), *acct = json_object_new_array();

	for (size_t i = 0; i < AP_NELEM(sections); i++) {
		const struct ap_route *rt = screen_of(ctx->app, sections[i].path);

		if (rt == NULL || rt->perm == NULL || !ap_role_allows(ctx->user->role, rt->perm))
			continue;
		json_object_array_add(main_items, item(ctx, &sections[i], cur == &sections[i]));
	}
	for (size_t i = 0; i < AP_NELEM(account); i++)
		if (screen_of(ctx->app, account[i].path) != NULL)
			json_object_array_add(acct, item(ctx, &account[i], cur == &account[i]));
	ap_model_add(nav, "main", main_items);
	ap_model_add(nav, "account", acct);
	return nav;
}

/*
 * Navigations this worker built, by what they depend on: the role, the
 * language, the base path and the current section (the routes are fixed
 * for the process). Built once, shared by every page after (nothing
 * changes a model's nav once made): a signed-in page saved about 80,000
 * instructions of translations, printf and json-c objects (issue 19).
 */
#define NAV_KEPT 16
static struct {
	char role[16], lang[16], base[128];
	const struct section *cur;
	struct json_object *nav;
} kept[NAV_KEPT];
static unsigned kept_next;

struct json_object *
ap_nav_model(struct ap_ctx *ctx)
{
	const char *page = ctx->route ? ctx->route->pattern : NULL;
	const char *role = ctx->user->role, *lang = ctx->lang ? ctx->lang : "", *base = ap_ctx_base(ctx);
	const struct section *cur = NULL;
	unsigned k;

	/* The deepest section the page is in (account's 2FA page over account). */
	for (size_t i = 0; i < AP_NELEM(sections); i++)
		if (under(page, sections[i].path) || under(page, sections[i].also))
			cur = &sections[i];
	for (size_t i = 0; i < AP_NELEM(account); i++)
		if (under(page, account[i].path))
			cur = &account[i];
	if (strlen(role) >= sizeof(kept[0].role) || strlen(lang) >= sizeof(kept[0].lang) ||
	    strlen(base) >= sizeof(kept[0].base))
		return build(ctx, cur);
	for (k = 0; k < NAV_KEPT; k++)
		if (kept[k].nav != NULL && kept[k].cur == cur && strcmp(kept[k].role, role) == 0 &&
		    strcmp(kept[k].lang, lang) == 0 && strcmp(kept[k].base, base) == 0)
			return json_object_get(kept[k].nav);
	k = kept_next++ % NAV_KEPT;
	json_object_put(kept[k].nav);
	kept[k].nav = build(ctx, cur);
	/* Its section ({{#nav}}) shows only its members and text in its language:
	 * the bytes it rendered are given again (ap_tpl_keep). */
	ap_tpl_keep(kept[k].nav);
	kept[k].cur = cur;
	strcpy(kept[k].role, role);
	strcpy(kept[k].lang, lang);
	strcpy(kept[k].base, base);
	return json_object_get(kept[k].nav);
}
