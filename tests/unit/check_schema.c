/* check_schema.c — answer schemas, their projection, the API table rules and the OpenAPI document. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aapanel/openapi.h"
#include "aapanel/pages.h"
#include "aapanel/schema.h"
#include "aapanel/sysstat.h"

static const char *const colours[] = { "red", "green", NULL };

static const struct ap_prop tag_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema tag_schema = { .name = "Tag", .props = tag_props };

static const struct ap_prop item_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "colour", .type = AP_J_STRING, .choices = colours },
	{ .name = "at", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "ratio", .type = AP_J_NUMBER },
	{ .name = "on", .type = AP_J_BOOL },
	{ .name = "tag", .type = AP_J_OBJECT, .of = &tag_schema, .flags = AP_J_NULL },
	{ .name = "tags", .type = AP_J_ARRAY, .of = &tag_schema },
	{ .name = "words", .type = AP_J_ARRAY, .items = AP_J_STRING },
	{ .name = "hint", .type = AP_J_STRING, .flags = AP_J_OPT },
	{ .name = "secret", .type = AP_J_STRING, .flags = AP_J_SECRET },
	AP_PROP_END,
};
static const struct ap_schema item_schema = { .name = "Item", .props = item_props };

static struct json_object *
parse(const char *s)
{
	struct json_object *o = json_tokener_parse(s);

	ck_assert_ptr_nonnull(o);
	return o;
}

static const char *
text(struct json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
}

START_TEST(test_project_keeps_declared_drops_the_rest)
{
	struct json_object *in = parse("{\"id\":7,\"colour\":\"red\",\"at\":\"2026-12-01T07:36:05Z\",\"ratio\":0.5,"
				       "\"on\":true,\"tag\":{\"name\":\"a\",\"label\":\"A\"},\"tags\":[{\"name\":\"b\","
				       "\"selected\":true}],\"words\":[\"x\"],\"secret\":\"s3\",\"role_options\":[1],"
				       "\"row_error\":null}");
	struct json_object *out = NULL;
	char err[200];

	ck_assert(ap_schema_project(&item_schema, in, true, &out, err, sizeof(err)));
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(text(out), "{\"id\":7,\"colour\":\"red\",\"at\":\"2026-12-01T07:36:05Z\",\"ratio\":0.5,"
				    "\"on\":true,\"tag\":{\"name\":\"a\"},\"tags\":[{\"name\":\"b\"}],\"words\":[\"x\"],"
				    "\"secret\":\"s3\"}");
	json_object_put(out);
	/* Without secrets (what an Idempotency-Key keeps): the secret is null. */
	ck_assert(ap_schema_project(&item_schema, in, false, &out, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(text(out), "\"secret\":null"));
	ck_assert_ptr_null(strstr(text(out), "s3"));
	json_object_put(out);
	json_object_put(in);
}
END_TEST

static const struct {
	const char *in;
	const char *err;
} mismatches[] = {
	{ "{\"colour\":\"red\",\"at\":null,\"ratio\":1,\"on\":false,\"tag\":null,\"tags\":[],\"words\":[],"
	  "\"secret\":null}", "id: expected a member here, got null" },
	{ "{\"id\":\"7\",\"colour\":\"red\",\"at\":null,\"ratio\":1,\"on\":false,\"tag\":null,\"tags\":[],"
	  "\"words\":[],\"secret\":null}", "id: expected integer, got \"7\"" },
	{ "{\"id\":1,\"colour\":\"blue\",\"at\":null,\"ratio\":1,\"on\":false,\"tag\":null,\"tags\":[],"
	  "\"words\":[],\"secret\":null}", "colour: expected one of its listed values, got \"blue\"" },
	{ "{\"id\":1,\"colour\":\"red\",\"at\":\"\",\"ratio\":1,\"on\":false,\"tag\":null,\"tags\":[],"
	  "\"words\":[],\"secret\":null}", "at: expected a date-time YYYY-MM-DDTHH:MM:SSZ, got \"\"" },
	{ "{\"id\":1,\"colour\":\"red\",\"at\":null,\"ratio\":1,\"on\":0,\"tag\":null,\"tags\":[],"
	  "\"words\":[],\"secret\":null}", "on: expected boolean, got 0" },
	{ "{\"id\":1,\"colour\":\"red\",\"at\":null,\"ratio\":1,\"on\":true,\"tag\":null,"
	  "\"tags\":[{\"name\":\"a\"},{\"name\":3}],\"words\":[],\"secret\":null}",
	  "tags[1].name: expected string, got 3" },
	{ "{\"id\":1,\"colour\":\"red\",\"at\":null,\"ratio\":1,\"on\":true,\"tag\":null,\"tags\":[],"
	  "\"words\":[\"a\",null],\"secret\":null}", "words[1]: expected string, got null" },
	{ "{\"id\":null,\"colour\":\"red\",\"at\":null,\"ratio\":1,\"on\":true,\"tag\":null,\"tags\":[],"
	  "\"words\":[],\"secret\":null}", "id: expected integer, got null" },
	{ "{\"id\":1,\"colour\":\"red\",\"at\":null,\"ratio\":\"x\",\"on\":true,\"tag\":{},\"tags\":[],"
	  "\"words\":[],\"secret\":null}", "ratio: expected number, got \"x\"" },
	{ "[]", "(answer): expected object, got []" },
};

START_TEST(test_project_names_the_first_mismatch)
{
	struct json_object *in = parse(mismatches[_i].in), *out = NULL;
	char err[200];

	ck_assert(!ap_schema_project(&item_schema, in, true, &out, err, sizeof(err)));
	ck_assert_str_eq(err, mismatches[_i].err);
	ck_assert_ptr_nonnull(out); /* made anyway */
	json_object_put(out);
	json_object_put(in);
}
END_TEST

/* A series of readings: numbers, null where one is missing (AP_J_NULL_ITEMS). */
static const struct ap_prop reading_props[] = {
	{ .name = "values", .type = AP_J_ARRAY, .items = AP_J_NUMBER, .flags = AP_J_NULL_ITEMS },
	AP_PROP_END,
};
static const struct ap_schema reading_schema = { .name = "Reading", .props = reading_props };

static const struct {
	const char *in;
	const char *err; /* NULL: matches, and projects to in */
} null_items[] = {
	{ "{\"values\":[1,null,2.5]}", NULL },
	{ "{\"values\":[null]}", NULL },
	{ "{\"values\":[]}", NULL },
	{ "{\"values\":[1,\"x\"]}", "values[1]: expected number, got \"x\"" },
	{ "{\"values\":[true,null]}", "values[0]: expected number, got true" },
	/* the items may be null, the array itself may not */
	{ "{\"values\":null}", "values: expected array, got null" },
};

START_TEST(test_project_null_items)
{
	struct json_object *in = parse(null_items[_i].in), *out = NULL;
	char err[200];
	bool ok = ap_schema_project(&reading_schema, in, true, &out, err, sizeof(err));

	if (null_items[_i].err == NULL) {
		ck_assert_msg(ok, "%s: %s", null_items[_i].in, err);
		ck_assert_str_eq(text(out), null_items[_i].in);
	} else {
		ck_assert(!ok);
		ck_assert_str_eq(err, null_items[_i].err);
	}
	json_object_put(out);
	json_object_put(in);
}
END_TEST

START_TEST(test_jtime)
{
	ck_assert(ap_jtime_valid("2026-12-01T07:36:05Z"));
	ck_assert(ap_jtime_valid("1970-01-01T00:00:00Z"));
	ck_assert(!ap_jtime_valid("2026-12-01 07:36:05Z"));
	ck_assert(!ap_jtime_valid("2026-13-01T07:36:05Z"));
	ck_assert(!ap_jtime_valid("2026-12-01T24:00:00Z"));
	ck_assert(!ap_jtime_valid("2026-12-01T07:36:05+00:00"));
	ck_assert(!ap_jtime_valid(""));
	ck_assert(!ap_jtime_valid(NULL));
}
END_TEST

START_TEST(test_cursor_check)
{
	ck_assert_ptr_null(ap_cursor_check("1", 1));
	ck_assert_ptr_null(ap_cursor_check("9223372036854775807", 19));
	ck_assert_ptr_nonnull(ap_cursor_check("0", 1));
	ck_assert_ptr_nonnull(ap_cursor_check("01", 2));
	ck_assert_ptr_nonnull(ap_cursor_check("-1", 2));
	ck_assert_ptr_nonnull(ap_cursor_check("1a", 2));
	ck_assert_ptr_nonnull(ap_cursor_check("12345678901234567890", 20));
}
END_TEST

/* ---------------------------------------------------------------- the table's rules */

static int
h(struct ap_ctx *ctx)
{
	(void)ctx;
	return 204;
}

AP_SCHEMA_LIST(item_list_schema, "ItemList", item_schema);
static const struct ap_field page_fields[] = { AP_FIELD_LIMIT, AP_FIELD_CURSOR, AP_FIELD_END };

static const struct ap_prop twice_props[] = {
	{ .name = "a", .type = AP_J_INT },
	{ .name = "a", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema twice_schema = { .name = "Twice", .props = twice_props };
static const struct ap_schema other_tag = { .name = "Tag", .props = twice_props + 1 };
static const struct ap_prop clash_props[] = {
	{ .name = "a", .type = AP_J_OBJECT, .of = &tag_schema },
	{ .name = "b", .type = AP_J_OBJECT, .of = &other_tag },
	AP_PROP_END,
};
static const struct ap_schema clash_schema = { .name = "Clash", .props = clash_props };
static const struct ap_prop vague_props[] = {
	{ .name = "a", .type = AP_J_ARRAY },
	AP_PROP_END,
};
static const struct ap_schema vague_schema = { .name = "Vague", .props = vague_props };
static const struct ap_prop null_scalar_props[] = {
	{ .name = "a", .type = AP_J_NUMBER, .flags = AP_J_NULL_ITEMS },
	AP_PROP_END,
};
static const struct ap_schema null_scalar_schema = { .name = "NullScalar", .props = null_scalar_props };
static const struct ap_prop null_objects_props[] = {
	{ .name = "a", .type = AP_J_ARRAY, .of = &tag_schema, .flags = AP_J_NULL_ITEMS },
	AP_PROP_END,
};
static const struct ap_schema null_objects_schema = { .name = "NullObjects", .props = null_objects_props };

static const struct {
	struct ap_route rt[2];
	size_t n;
	const char *err;
} rules[] = {
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .answer = &tag_schema } }, 1,
	    "route 0 (/a): no summary (the API document's line for it)" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s" } }, 1,
	    "route 0 (/a): a GET route without an answer schema" },
	/* asked by nginx's auth_request: a GET that answers 204 */
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .flags = AP_ROUTE_PROBE } }, 1, NULL },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .flags = AP_ROUTE_PUBLIC | AP_ROUTE_PROBE, .answer = &tag_schema } }, 1, NULL },
	{ { { .methods = AP_M_POST, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .flags = AP_ROUTE_CREATE, .answer = &tag_schema } }, 1,
	    "route 0 (/a): AP_ROUTE_CREATE needs a POST route with an answer schema and AP_ROUTE_DB (its keys)" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .flags = AP_ROUTE_RAW } }, 1, "route 0 (/a): AP_ROUTE_RAW needs media (what it sends)" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &item_list_schema } }, 1,
	    "route 0 (/a): a list answer needs a GET route with limit and cursor fields" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &twice_schema } }, 1, "route 0 (/a): schema Twice: member a twice" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &clash_schema } }, 1, "route 0 (/a): two different schemas are named Tag" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &vague_schema } }, 1, "route 0 (/a): schema Vague: member a does not say what it holds" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &null_scalar_schema } }, 1,
	    "route 0 (/a): schema NullScalar: member a has null items but is not an array of scalars" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &null_objects_schema } }, 1,
	    "route 0 (/a): schema NullObjects: member a has null items but is not an array of scalars" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &reading_schema } }, 1, NULL },
	{ { { .methods = AP_M_POST, .pattern = "/a-b", .handler = h, .perm = "p", .summary = "s" },
	    { .methods = AP_M_POST, .pattern = "/a/b", .handler = h, .perm = "p", .summary = "s" } }, 2,
	    "route 1 (/a/b): operationId postAB is another route's" },
	{ { { .methods = AP_M_GET, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
	    .answer = &item_list_schema, .fields = page_fields },
	    { .methods = AP_M_POST, .pattern = "/a", .handler = h, .perm = "p", .summary = "s",
		.flags = AP_ROUTE_CREATE | AP_ROUTE_DB, .answer = &item_schema } }, 2, NULL },
};

START_TEST(test_api_table_rules)
{
	char err[256] = "";
	enum ap_err rc = ap_api_table_check(rules[_i].rt, rules[_i].n, err, sizeof(err));

	if (rules[_i].err == NULL) {
		ck_assert_msg(rc == AP_OK, "row %d: %s", _i, err);
	} else {
		ck_assert_int_eq(rc, AP_ERR_INVAL);
		ck_assert_str_eq(err, rules[_i].err);
	}
}
END_TEST

START_TEST(test_panel_table_keeps_the_rules)
{
	char err[256] = "";

	ck_assert_msg(ap_api_table_check(ap_routes, ap_nroutes, err, sizeof(err)) == AP_OK, "%s", err);
}
END_TEST

START_TEST(test_op_id)
{
	char b[96];

	ck_assert_str_eq(ap_openapi_op_id(AP_METHOD_GET, "/", b, sizeof(b)), "getRoot");
	ck_assert_str_eq(ap_openapi_op_id(AP_METHOD_POST, "/users/{id}/role", b, sizeof(b)), "postUsersIdRole");
	ck_assert_str_eq(ap_openapi_op_id(AP_METHOD_GET, "/audit.csv", b, sizeof(b)), "getAuditCsv");
	ck_assert_str_eq(ap_openapi_op_id(AP_METHOD_POST, "/account/sessions/revoke-others", b, sizeof(b)),
	    "postAccountSessionsRevokeOthers");
	ck_assert_str_eq(ap_openapi_op_id(AP_METHOD_GET, "/users", b, 6), "getUs");
}
END_TEST

/* ---------------------------------------------------------------- the document */

static struct json_object *
at(struct json_object *o, const char *path)
{
	char buf[256], *save = NULL, *k;

	snprintf(buf, sizeof(buf), "%s", path);
	for (k = strtok_r(buf, "|", &save); k != NULL && o != NULL; k = strtok_r(NULL, "|", &save)) {
		struct json_object *v = NULL;

		if (json_object_is_type(o, json_type_array))
			v = json_object_array_get_idx(o, (size_t)atoi(k));
		else if (!json_object_object_get_ex(o, k, &v))
			return NULL;
		o = v;
	}
	return o;
}

static const char *
str_at(struct json_object *o, const char *path)
{
	struct json_object *v = at(o, path);

	return v ? json_object_get_string(v) : "(none)";
}

/*
 * The sampler's document of a captured /proc tree, in the API's form
 * (ap_sys_json_api), matches the System schema: on a first reading (every
 * rate null) and on the next (numbers); the processes list of
 * /monitor/processes is beyond the schema and left out.
 */
START_TEST(test_system_reading_matches_its_schema)
{
	const char *src = getenv("AAPANEL_SRCDIR");
	char root[4096], err[200];
	struct ap_sysread *r;
	struct ap_sys *s = calloc(1, sizeof(*s));
	struct json_object *o, *out = NULL;

	snprintf(root, sizeof(root), "%s/tests/fixtures/proc/debian12-vm", src ? src : ".");
	r = ap_sysread_new(root, false);
	for (int i = 0; i < 2; i++) {
		ck_assert(ap_sysread_sample(r, 1800000000 + 10 * i, true, s));
		o = ap_sys_json(s, "fixture", true);
		ap_sys_json_api(o);
		json_object_object_add(o, "live", json_object_new_boolean(i == 1));
		ck_assert_msg(ap_schema_project(&ap_system_schema, o, true, &out, err, sizeof(err)),
		    "reading %d: %s", i, err);
		ck_assert(!json_object_object_get_ex(out, "processes", NULL));
		ck_assert(json_object_object_get_ex(out, "top_cpu", NULL));
		json_object_put(out);
		json_object_put(o);
	}
	ap_sysread_free(r);
	free(s);
}
END_TEST

START_TEST(test_document_null_items)
{
	static const struct ap_route rt[] = {
		{ .methods = AP_M_GET, .pattern = "/r", .handler = h, .perm = "p", .summary = "s",
		    .answer = &reading_schema },
	};
	char *s = ap_openapi_doc(rt, 1, "", false);
	struct json_object *d = parse(s), *p = at(d, "components|schemas|Reading|properties|values");

	/* the array is not nullable, its items are: {"type":"array","items":{"type":["number","null"]}} */
	ck_assert_str_eq(str_at(p, "type"), "array");
	ck_assert_str_eq(str_at(p, "items|type|0"), "number");
	ck_assert_str_eq(str_at(p, "items|type|1"), "null");
	ck_assert_ptr_null(at(p, "items|type|2"));
	json_object_put(d);
	free(s);
}
END_TEST

START_TEST(test_document_from_the_table)
{
	char *s = ap_openapi_doc(ap_routes, ap_nroutes, "/entry", false);
	struct json_object *d = parse(s), *p;
	bool secret_seen = false;

	ck_assert_str_eq(str_at(d, "openapi"), "3.1.0");
	ck_assert_str_eq(str_at(d, "servers|0|url"), "{base}/api/v1");
	ck_assert_str_eq(str_at(d, "servers|0|variables|base|default"), "/entry");
	/* every route's every method is an operation; test routes only in the test profile's */
	for (size_t i = 0; i < ap_nroutes; i++) {
		const struct ap_route *rt = &ap_routes[i];
		char k[200];

		snprintf(k, sizeof(k), "paths|%s", rt->pattern);
		if (rt->flags & AP_ROUTE_TESTING) {
			ck_assert_msg(at(d, k) == NULL, "%s is in the production document", rt->pattern);
			continue;
		}
		ck_assert_msg(at(d, k) != NULL, "%s is not in the document", rt->pattern);
	}
	ck_assert_str_eq(str_at(d, "paths|/users|get|x-aapanel-permission"), "users.read");
	ck_assert_str_eq(str_at(d, "paths|/users|get|x-aapanel-roles|0"), "admin");
	ck_assert_ptr_null(at(d, "paths|/users|get|x-aapanel-roles|1"));
	/* a read token of an admin reads users; a write token reaches no administration */
	ck_assert_str_eq(str_at(d, "paths|/users|get|x-aapanel-token-scopes|0"), "read");
	ck_assert_str_eq(str_at(d, "paths|/users|get|x-aapanel-token-scopes|1"), "admin");
	ck_assert_ptr_null(at(d, "paths|/users|get|x-aapanel-token-scopes|2"));
	ck_assert_str_eq(str_at(d, "paths|/users|get|responses|200|content|application/json|schema|$ref"),
	    "#/components/schemas/UserList");
	ck_assert_str_eq(str_at(d, "paths|/users|post|responses|201|content|application/json|schema|$ref"),
	    "#/components/schemas/User");
	ck_assert_str_eq(str_at(d, "paths|/users|post|responses|4XX|$ref"), "#/components/responses/Error");
	/* the create's Idempotency-Key header and its fields from the validators */
	p = at(d, "paths|/users|post|parameters|0");
	ck_assert_str_eq(str_at(p, "name"), "Idempotency-Key");
	ck_assert_str_eq(str_at(p, "in"), "header");
	p = at(d, "paths|/users|post|requestBody|content|application/json|schema|properties");
	ck_assert_str_eq(str_at(p, "username|pattern"), "^[A-Za-z0-9_][A-Za-z0-9_.-]*$");
	ck_assert_int_eq(json_object_get_int(at(p, "username|minLength")), 3);
	ck_assert_int_eq(json_object_get_int(at(p, "username|maxLength")), 32);
	ck_assert_str_eq(str_at(p, "role|enum|2"), "viewer");
	ck_assert(json_object_get_boolean(at(p, "password|writeOnly")));
	/* path and query parameters */
	ck_assert_str_eq(str_at(d, "paths|/users/{id}/role|post|parameters|0|in"), "path");
	ck_assert(json_object_get_boolean(at(d, "paths|/users/{id}/role|post|parameters|0|required")));
	ck_assert_int_eq(json_object_get_int(at(d, "paths|/users|get|parameters|2|schema|maximum")), 500);
	ck_assert_str_eq(str_at(d, "paths|/users|get|parameters|3|name"), "cursor");
	ck_assert_str_eq(str_at(d, "paths|/users|get|parameters|0|schema|enum|0"), "admin");
	/* answers without a body, raw files, pages for browsers, public routes */
	ck_assert_ptr_nonnull(at(d, "paths|/tokens/{id}/revoke|post|responses|204"));
	ck_assert_ptr_nonnull(at(d, "paths|/audit.csv|get|responses|200|content|text/csv"));
	ck_assert_str_eq(str_at(d, "paths|/login|servers|0|url"), "{base}");
	ck_assert_str_eq(str_at(d, "paths|/login|get|tags|0"), "browser");
	ck_assert_int_eq(json_object_array_length(at(d, "paths|/healthz|get|security")), 0);
	ck_assert_ptr_nonnull(at(d, "paths|/healthz|get|responses|503"));
	/* nginx's auth_request before a live stream: 204, no body, no 503 of its own */
	ck_assert_ptr_nonnull(at(d, "paths|/events/auth|get|responses|204"));
	ck_assert_ptr_null(at(d, "paths|/events/auth|get|responses|200"));
	ck_assert_ptr_null(at(d, "paths|/events/auth|get|responses|503"));
	ck_assert_ptr_null(at(d, "paths|/events/auth|get|responses|204|content"));
	/* history points: a time and values that may be null */
	ck_assert_str_eq(str_at(d, "components|schemas|MetricPoint|properties|at|format"), "date-time");
	ck_assert_str_eq(str_at(d, "components|schemas|MetricPoint|properties|values|items|type|1"), "null");
	/* a channel's secret is an input, never answered */
	ck_assert(json_object_get_boolean(at(d,
	    "paths|/alerts/channels|post|requestBody|content|application/json|schema|properties|secret|writeOnly")));
	ck_assert_ptr_null(at(d, "components|schemas|AlertChannel|properties|secret"));
	ck_assert_str_eq(str_at(d, "paths|/alerts/channels|post|responses|201|content|application/json|schema|$ref"),
	    "#/components/schemas/AlertChannel");
	ck_assert_ptr_nonnull(at(d, "paths|/alerts/channels/{id}/test|post|responses|204"));
	ck_assert_str_eq(str_at(d, "paths|/alerts/history|get|parameters|1|name"), "cursor");
	ck_assert(json_object_get_boolean(at(d, "paths|/users/{id}/disable|post|x-aapanel-destructive")));
	/* schemas: closed, nullable members typed so, secrets marked */
	p = at(d, "components|schemas|User");
	ck_assert(!json_object_get_boolean(at(p, "additionalProperties")));
	ck_assert_str_eq(str_at(p, "properties|last_login|type|1"), "null");
	ck_assert_str_eq(str_at(p, "properties|last_login|format"), "date-time");
	ck_assert_str_eq(str_at(d, "components|schemas|NewToken|properties|token|type|1"), "null");
	secret_seen = strstr(str_at(d, "components|schemas|NewToken|properties|token|description"), "Shown once") != NULL;
	ck_assert(secret_seen);
	ck_assert_str_eq(str_at(d, "components|schemas|Error|properties|error|required|4"), "request_id");
	ck_assert_str_eq(str_at(d, "components|schemas|Error|properties|error|properties|code|enum|0"), "invalid");
	json_object_put(d);
	free(s);
	s = ap_openapi_doc(ap_routes, ap_nroutes, "", true);
	d = parse(s);
	ck_assert_ptr_nonnull(at(d, "paths|/_test/sleep|get"));
	ck_assert_str_eq(str_at(d, "servers|0|variables|base|default"), "");
	json_object_put(d);
	free(s);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("schema");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_project_keeps_declared_drops_the_rest);
	tcase_add_loop_test(tc, test_project_names_the_first_mismatch, 0, (int)AP_NELEM(mismatches));
	tcase_add_loop_test(tc, test_project_null_items, 0, (int)AP_NELEM(null_items));
	tcase_add_test(tc, test_jtime);
	tcase_add_test(tc, test_cursor_check);
	tcase_add_loop_test(tc, test_api_table_rules, 0, (int)AP_NELEM(rules));
	tcase_add_test(tc, test_panel_table_keeps_the_rules);
	tcase_add_test(tc, test_op_id);
	tcase_add_test(tc, test_system_reading_matches_its_schema);
	tcase_add_test(tc, test_document_null_items);
	tcase_add_test(tc, test_document_from_the_table);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
