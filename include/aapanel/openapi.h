/*
 * openapi.h — the API as a contract, derived from the route table: the
 * rules every route keeps to be part of it (checked when a worker starts),
 * and the OpenAPI 3.1 document made from the table's methods, paths,
 * declared fields with their validators' limits, permissions, token scopes
 * and answer schemas (schema.h). Nothing in the document is written by
 * hand, so a route cannot exist without being described.
 */
#ifndef AAPANEL_OPENAPI_H
#define AAPANEL_OPENAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "aapanel/common.h"
#include "aapanel/route.h"

/*
 * The contract rules, on top of ap_route_table_check: every route has a
 * summary; every GET route that is neither AP_ROUTE_RAW nor
 * AP_ROUTE_BROWSER has an answer schema; an AP_ROUTE_CREATE route is a
 * POST with one and AP_ROUTE_DB (where its keys are kept); a route answering a list (AP_SCHEMA_LIST) is a GET that
 * declares the limit and cursor fields; schemas are well formed (members
 * named once, known types, objects and arrays saying what they hold) and
 * one name never stands for two different schemas; no two routes get the
 * same operationId. AP_OK, or AP_ERR_INVAL with "route N (pattern): why"
 * in err (may be NULL).
 */
enum ap_err ap_api_table_check(const struct ap_route *table, size_t n, char *err, size_t errlen);

/*
 * The OpenAPI 3.1 document for the table, as indented JSON text (malloc'd;
 * NULL only when out of memory). base is the panel's base path ("" or
 * "/abc"), the default of the servers' base variable; testing includes
 * the AP_ROUTE_TESTING routes (the test profile's own document).
 */
char *ap_openapi_doc(const struct ap_route *table, size_t n, const char *base, bool testing);

/* The operationId of a route and method: "get" + "/users/{id}/role" → "getUsersIdRole" (buf). */
const char *ap_openapi_op_id(enum ap_method m, const char *pattern, char *buf, size_t len);

#endif
