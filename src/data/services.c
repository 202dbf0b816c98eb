/*
 * services.c — the panel's side of the helper's service operations
 * (services.h, docs/services.md). The checks here are the helper's too:
 * a refusal costs no round trip and names the field the same way.
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/services.h"

const char *const ap_service_actions[] = { "start", "stop", "restart", "reload", "enable", "disable", NULL };

enum ap_err
ap_service_name(const struct ap_config *cfg, const char *field, const char *in, char out[AP_SERVICE_NAME_LEN],
    struct ap_problem *pb)
{
	const char *why = ap_check_unit_name(in, strlen(in));

	if (why != NULL)
		return ap_problem_msg(pb, AP_PB_INVALID, field, why);
	if (!ap_unit_full_name(in, out, AP_SERVICE_NAME_LEN) || !ap_unit_list_has(cfg->services_units, out))
		return ap_problem_set(pb, AP_PB_INVALID, field,
		    "is not one of the units the panel may control (services.units)");
	return AP_OK;
}

bool
ap_service_protected(const struct ap_config *cfg, const char *name, const char *action)
{
	return action != NULL && (strcmp(action, "stop") == 0 || strcmp(action, "disable") == 0) &&
	    ap_unit_list_has(cfg->services_protected, name);
}

static enum ap_err
call(const struct ap_sites_env *env, const char *op, struct json_object *args, struct json_object **out,
    struct ap_problem *pb)
{
	enum ap_err rc = ap_site_helper_call(env, op, args, out, pb);

	json_object_put(args);
	return rc;
}

enum ap_err
ap_service_list(const struct ap_sites_env *env, struct json_object **out, struct ap_problem *pb)
{
	return call(env, "service.list", json_object_new_object(), out, pb);
}

enum ap_err
ap_service_status(const struct ap_sites_env *env, const char *name, struct json_object **out,
    struct ap_problem *pb)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, "name", json_object_new_string(name));
	return call(env, "service.status", a, out, pb);
}

enum ap_err
ap_service_control(const struct ap_sites_env *env, const char *name, const char *action, const char *confirm,
    struct json_object **out, struct ap_problem *pb)
{
	struct json_object *a;
	char typed[AP_SERVICE_NAME_LEN] = "";
	bool known = false;
	enum ap_err rc;

	*out = NULL;
	for (size_t i = 0; ap_service_actions[i] != NULL; i++)
		known = known || (action != NULL && strcmp(action, ap_service_actions[i]) == 0);
	if (!known)
		return ap_problem_set(pb, AP_PB_INVALID, "action",
		    "must be start, stop, restart, reload, enable or disable");
	if (ap_service_protected(env->cfg, name, action)) {
		if (confirm != NULL && confirm[0] != '\0' && ap_check_unit_name(confirm, strlen(confirm)) == NULL)
			ap_unit_full_name(confirm, typed, sizeof(typed));
		if (strcmp(typed, name) != 0)
			return ap_problem_set(pb, AP_PB_INVALID, "confirm",
			    "type the unit's name to confirm: stopping or disabling it may cut off the panel or SSH");
	}
	a = json_object_new_object();
	json_object_object_add(a, "name", json_object_new_string(name));
	json_object_object_add(a, "action", json_object_new_string(action));
	if (typed[0] != '\0')
		json_object_object_add(a, "confirm", json_object_new_string(typed));
	rc = ap_site_helper_job(env, "service.control", a, out, pb);
	json_object_put(a);
	return rc;
}
