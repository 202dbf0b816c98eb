/* perm.c — roles, permissions and token scopes (auth.h). */
#include <string.h>

#include "aapanel/auth.h"

/* Areas only an admin may see or change. */
static const char *const admin_areas[] = { "users", "settings", "audit", "debug", "roots" };
/* Areas an operator may change. */
static const char *const operator_write_areas[] = { "sites", "databases", "files", "cron",
	"certificates", "backups" };

static bool
area_in(const char *perm, const char *const *areas, size_t n)
{
	const char *dot = strchr(perm, '.');
	size_t len = dot ? (size_t)(dot - perm) : strlen(perm);

	for (size_t i = 0; i < n; i++)
		if (strlen(areas[i]) == len && strncmp(perm, areas[i], len) == 0)
			return true;
	return false;
}

static bool
is_read(const char *perm)
{
	const char *dot = strchr(perm, '.');

	return dot != NULL && strcmp(dot, ".read") == 0;
}

bool
ap_role_valid(const char *role)
{
	return role && (strcmp(role, "admin") == 0 || strcmp(role, "operator") == 0 ||
			   strcmp(role, "viewer") == 0);
}

bool
ap_role_allows(const char *role, const char *perm)
{
	if (role == NULL || perm == NULL)
		return false;
	if (strcmp(role, "admin") == 0)
		return true;
	if (strcmp(role, "operator") != 0 && strcmp(role, "viewer") != 0)
		return false;
	if (strcmp(perm, "account.self") == 0)
		return true;
	/* Operators may restart or reload the units of services.operator_units (the
	 * handler checks the action and the unit); the rest of services.write is the admins'. */
	if (strcmp(perm, "services.operate") == 0)
		return strcmp(role, "operator") == 0;
	if (area_in(perm, admin_areas, AP_NELEM(admin_areas)))
		return false;
	if (is_read(perm))
		return true;
	return strcmp(role, "operator") == 0 &&
	    area_in(perm, operator_write_areas, AP_NELEM(operator_write_areas)) &&
	    strchr(perm, '.') != NULL && strcmp(strchr(perm, '.'), ".write") == 0;
}

bool
ap_scope_valid(const char *scope)
{
	return scope && (strcmp(scope, "read") == 0 || strcmp(scope, "write") == 0 ||
			    strcmp(scope, "admin") == 0);
}

bool
ap_scope_allows(const char *scope, const char *perm)
{
	if (scope == NULL || perm == NULL)
		return false;
	if (strcmp(scope, "admin") == 0)
		return true;
	if (strcmp(scope, "read") == 0)
		return is_read(perm);
	/* write: everything but administration; the firewall may be read, not changed.
	 * regression: a write token was refused firewall.read that a read token had */
	if (strcmp(scope, "write") == 0)
		return !area_in(perm, admin_areas, AP_NELEM(admin_areas)) &&
		    !(area_in(perm, (const char *const[]) { "firewall" }, 1) && !is_read(perm));
	return false;
}
