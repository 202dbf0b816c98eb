/*
 * schema.h — the shape of a JSON resource, declared once in C beside the
 * handler that builds it. The route table names each route's answer
 * schema; from it the response layer projects the handler's model onto
 * the resource (so what exists only for the HTML template — form options,
 * labels, row errors — never reaches an API client) and the OpenAPI
 * document describes it (src/web/openapi.c). A field cannot be in the
 * API without being in the document, because both come from here.
 *
 *	static const struct ap_prop user_props[] = {
 *		{ .name = "id", .type = AP_J_INT },
 *		{ .name = "username", .type = AP_J_STRING },
 *		{ .name = "last_login", .type = AP_J_TIME, .flags = AP_J_NULL },
 *		AP_PROP_END,
 *	};
 *	const struct ap_schema ap_user_schema = { .name = "User", .props = user_props };
 *	AP_SCHEMA_LIST(ap_user_list_schema, "UserList", ap_user_schema);
 *
 * Conventions every schema keeps: times are RFC 3339 UTC strings
 * ("2026-12-01T07:36:05Z", AP_J_TIME), sizes are integers in bytes,
 * booleans are booleans, ids are integers; a value that may be missing is
 * null (AP_J_NULL), not "" or 0. A list is { "items": [...], "next": URL
 * or null } (AP_SCHEMA_LIST), paged by the route's limit and cursor fields.
 */
#ifndef AAPANEL_SCHEMA_H
#define AAPANEL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

enum ap_jtype {
	AP_J_NONE,   /* not set: a mistake the table check reports (0, so a forgotten .items shows) */
	AP_J_STRING,
	AP_J_INT,    /* a JSON integer (64-bit) */
	AP_J_NUMBER, /* a JSON number (integer or fraction) */
	AP_J_BOOL,
	AP_J_TIME,   /* a string, RFC 3339 date-time in UTC: YYYY-MM-DDTHH:MM:SSZ */
	AP_J_OBJECT, /* of: its schema */
	AP_J_ARRAY,  /* of: the schema of its items (objects), or items: their scalar type */
	AP_J__MAX
};

#define AP_J_NULL 0x1u   /* may be null */
#define AP_J_OPT 0x2u    /* may be absent (only where a member exists in some states) */
#define AP_J_SECRET 0x4u /* shown once (a new token, recovery codes): never stored, so an
			  * answer replayed for an Idempotency-Key has null here */
#define AP_J_NULL_ITEMS 0x8u /* an ARRAY of scalars whose items may be null: a series of
			      * readings where one is missing ([12.5, null, 13]) */

struct ap_schema;

struct ap_prop {
	const char *name;           /* NULL ends the table (AP_PROP_END) */
	enum ap_jtype type;
	unsigned flags;             /* AP_J_* */
	const struct ap_schema *of; /* OBJECT: its schema; ARRAY of objects: theirs */
	enum ap_jtype items;        /* ARRAY of scalars (of NULL): their type */
	const char *const *choices; /* STRING: the only values it takes (NULL-terminated) */
	const char *desc;           /* one line for the document (English) */
};

#define AP_PROP_END { .name = NULL }

struct ap_schema {
	const char *name; /* the document's components/schemas key: "User", "UserList" */
	const char *desc;
	const struct ap_prop *props;
	bool list;        /* made by AP_SCHEMA_LIST: items and next, the route is paged */
};

/* A list of item (a struct ap_schema), named title: { "items": [item...], "next": URL|null }. */
#define AP_SCHEMA_LIST(var, title, item)                                                              \
	static const struct ap_prop var##_props[] = {                                                 \
		{ .name = "items", .type = AP_J_ARRAY, .of = &(item), .desc = "this page, in order" }, \
		{ .name = "next", .type = AP_J_STRING, .flags = AP_J_NULL,                             \
		    .desc = "the URL of the next page, null on the last" },                            \
		AP_PROP_END,                                                                           \
	};                                                                                             \
	const struct ap_schema var = { .name = (title), .props = var##_props, .list = true }

/* "string", "integer", ... as JSON Schema names the type (AP_J_TIME: "string"). */
const char *ap_jtype_name(enum ap_jtype t);

/*
 * Project in (the handler's model) onto s: a new object with s's members
 * only, taken by reference (json_object_get), nested objects and arrays of
 * objects projected the same way. Members of in that s does not declare are
 * left out: that is how view-only parts of a model stay out of the API.
 * secrets false replaces AP_J_SECRET members by null (what an
 * Idempotency-Key replay stores).
 *
 * Every declared member is also checked: present unless AP_J_OPT, null
 * only with AP_J_NULL (an item of an array of scalars only with
 * AP_J_NULL_ITEMS), of its type (an AP_J_TIME a well-formed UTC time,
 * a string with choices one of them). The first mismatch is described in
 * err ("items[3].created: expected a date-time, got \"\""); the projection
 * is made anyway (a mismatched member is copied as it is). Returns true
 * when everything matched. in NULL or not an object: an empty object and
 * false. err may be NULL.
 */
bool ap_schema_project(const struct ap_schema *s, struct json_object *in, bool secrets,
    struct json_object **out, char *err, size_t errlen);

/* True when s (0-terminated) is YYYY-MM-DDTHH:MM:SSZ with plausible fields. */
bool ap_jtime_valid(const char *s);

#endif
