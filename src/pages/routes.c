/*
 * routes.c — the panel's route table. Every route declares its methods,
 * its permission (enforced from the accounts issue on), its template and
 * the fields it reads; nothing else reaches a handler.
 */
#include "aapanel/app.h"
#include "pages.h"

static const char *const lang_choices[] = { "en", "ar", NULL };

static const struct ap_field lang_fields[] = {
	{ .name = "lang", .type = AP_FIELD_ENUM, .flags = AP_FIELD_REQUIRED, .choices = lang_choices },
	{ .name = NULL },
};

static const struct ap_field sleep_fields[] = {
	{ .name = "ms", .type = AP_FIELD_INT, .flags = AP_FIELD_REQUIRED, .min = 0, .max = 600000 },
	{ .name = NULL },
};

static const struct ap_field table_fields[] = {
	{ .name = "rows", .type = AP_FIELD_INT, .min = 0, .max = 1000 },
	{ .name = NULL },
};

const struct ap_route ap_routes[] = {
	{ AP_M_GET, "/", ap_page_home, "overview.read", 0, "home", NULL },
	{ AP_M_GET, "/healthz", ap_page_healthz, NULL, AP_ROUTE_PUBLIC, NULL, NULL },
	{ AP_M_POST, "/lang", ap_page_lang, NULL, AP_ROUTE_PUBLIC, NULL, lang_fields },
	{ AP_M_GET, "/_test/sleep", ap_page_test_sleep, "debug.test", 0, NULL, sleep_fields },
	{ AP_M_GET, "/_test/table", ap_page_test_table, "debug.test", 0, "testing/table", table_fields },
};

const size_t ap_nroutes = AP_NELEM(ap_routes);
