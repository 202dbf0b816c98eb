/*
 * settings.h — panel settings kept in the panel's database (the settings
 * table, name → value), as opposed to the configuration file: what an
 * administrator changes from the panel itself.
 */
#ifndef AAPANEL_SETTINGS_H
#define AAPANEL_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

#include "aapanel/db.h"

/* Every user must enrol two-factor authentication: "1" or "0" (no row = "0"). */
#define AP_SETTING_REQUIRE_2FA "security.require_2fa"

/*
 * The value of setting name into out (truncated to outlen - 1 bytes; ""
 * when there is no row). Returns AP_DB_OK or the database error, with out
 * then "".
 */
enum ap_db_rc ap_setting_get(struct ap_db *db, const char *name, char *out, size_t outlen);
/*
 * Store value (not NULL) under name: UPDATE, then INSERT when no row
 * matched, the same on every backend. AP_DB_OK or the error class; an
 * INSERT that meets a row another writer just inserted counts as success
 * (that writer's value stays).
 */
enum ap_db_rc ap_setting_set(struct ap_db *db, const char *name, const char *value);
/* A boolean setting ("1" = true, anything else or no row = false) into *on; false on failure. */
enum ap_db_rc ap_setting_get_bool(struct ap_db *db, const char *name, bool *on);

#endif
