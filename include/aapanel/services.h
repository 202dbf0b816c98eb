/*
 * services.h — the systemd units the panel may control (docs/services.md):
 * the panel's side of the helper's service.list, service.status and
 * service.control, shared by the Services screen, its API and `aapanel
 * service`. No database: systemd's state is read from systemd each time.
 *
 * Names are checked here before the helper checks them again: the strict
 * pattern (unitname.h), then services.units; stopping or disabling a unit
 * of services.protected needs confirm equal to its name. Problems name the
 * field ("name", "action", "confirm").
 */
#ifndef AAPANEL_SERVICES_H
#define AAPANEL_SERVICES_H

#include <json-c/json.h>

#include "aapanel/sites.h"
#include "aapanel/unitname.h"

#define AP_SERVICE_NAME_LEN (AP_UNIT_NAME_MAX + 16)

/* The actions, in the helper's order (service.control's "action"). */
extern const char *const ap_service_actions[];

/*
 * The full name of in ("nginx" → "nginx.service") into out, checked
 * against the pattern and services.units; AP_ERR_INVAL with pb (field).
 */
enum ap_err ap_service_name(const struct ap_config *cfg, const char *field, const char *in,
    char out[AP_SERVICE_NAME_LEN], struct ap_problem *pb);

/* Whether stopping or disabling name needs its typed name (services.protected). */
bool ap_service_protected(const struct ap_config *cfg, const char *name, const char *action);

/*
 * service.list: *out (owned) {available, reason?, units:[...]}; units are
 * the helper's (name, description, load_state, active_state, sub_state,
 * unit_file_state, since, memory, main_pid, protected), only names when
 * systemd is not available. AP_ERR_UNAVAIL when the helper cannot be reached.
 */
enum ap_err ap_service_list(const struct ap_sites_env *env, struct json_object **out,
    struct ap_problem *pb);

/* service.status of a checked full name: *out (owned) {available, reason?, unit?, journal?}. */
enum ap_err ap_service_status(const struct ap_sites_env *env, const char *name, struct json_object **out,
    struct ap_problem *pb);

/*
 * service.control: action (an ap_service_actions entry) on a checked full
 * name, confirm (may be NULL) checked for the protected ones, waiting for
 * the helper's job: *out (owned) {name, action, result, before, after}.
 */
enum ap_err ap_service_control(const struct ap_sites_env *env, const char *name, const char *action,
    const char *confirm, struct json_object **out, struct ap_problem *pb);

#endif
