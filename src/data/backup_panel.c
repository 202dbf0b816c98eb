/*
 * backup_panel.c — backing up the panel itself and restoring it into a new
 * folder (docs/backups.md, "The panel itself"): the helper's
 * backup.panel_run and backup.panel_restore jobs (src/helper/ops_bkpanel.c),
 * recorded as runs of target_kind "panel", target "panel".
 */
#include <stdio.h>
#include <string.h>

#include "aapanel/backups.h"

#define TOOL_MSG "%s"

const char *
ap_backup_check_new_dir(const char *s)
{
	return ap_check_backup_new_dir(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

enum ap_err
ap_backup_panel_start(const struct ap_sites_env *env, const struct ap_backup_spec *spec,
    bool with_secret, struct ap_backup_run *out, struct ap_problem *pb)
{
	struct json_object *a;
	enum ap_err e;

	memset(out, 0, sizeof(*out));
	if ((e = ap_backup_dest_check(env, spec->dest, pb)) != AP_OK)
		return e;
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(spec->dest));
	json_object_object_add(a, "secret", json_object_new_boolean(with_secret));
	ap_backup_keep_args(a, spec);
	snprintf(out->action, sizeof(out->action), "backup");
	snprintf(out->target_kind, sizeof(out->target_kind), "panel");
	snprintf(out->target, sizeof(out->target), "panel");
	snprintf(out->dest, sizeof(out->dest), "%s", spec->dest);
	e = ap_backup_job_start(env, "backup.panel_run", a, out, pb);
	json_object_put(a);
	return e;
}

enum ap_err
ap_backup_panel_restore_start(const struct ap_sites_env *env, const char *dest,
    const char *snapshot, const char *new_dir, struct ap_backup_run *out, struct ap_problem *pb)
{
	struct json_object *a;
	const char *why;
	enum ap_err e;

	memset(out, 0, sizeof(*out));
	if ((e = ap_backup_dest_check(env, dest, pb)) != AP_OK)
		return e;
	if (snapshot == NULL || (why = ap_check_backup_snapshot(snapshot, strlen(snapshot))) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "snapshot", TOOL_MSG,
		    snapshot == NULL ? "is required" : why);
	if ((why = ap_backup_check_new_dir(new_dir)) != NULL)
		return ap_problem_set(pb, AP_PB_INVALID, "new_dir", TOOL_MSG,
		    new_dir == NULL || new_dir[0] == '\0' ? "is required (the panel is restored into a new folder)" : why);
	a = json_object_new_object();
	json_object_object_add(a, "dest", json_object_new_string(dest));
	json_object_object_add(a, "snapshot", json_object_new_string(snapshot));
	json_object_object_add(a, "new_dir", json_object_new_string(new_dir));
	snprintf(out->action, sizeof(out->action), "restore");
	snprintf(out->target_kind, sizeof(out->target_kind), "panel");
	snprintf(out->target, sizeof(out->target), "panel");
	snprintf(out->dest, sizeof(out->dest), "%s", dest);
	snprintf(out->snapshot, sizeof(out->snapshot), "%s", snapshot);
	e = ap_backup_job_start(env, "backup.panel_restore", a, out, pb);
	json_object_put(a);
	return e;
}
