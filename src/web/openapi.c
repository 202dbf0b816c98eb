/*
 * openapi.c — the route table as an API contract (openapi.h): the rules a
 * route keeps, and the OpenAPI 3.1 document derived from it.
 *
 * Mapping, one rule each:
 *  - a route is a path item under the server {base}/api/v1; AP_ROUTE_BROWSER
 *    routes are documented at the panel's root ({base}, their own servers)
 *    and answer HTML or a redirect;
 *  - {name} fields are path parameters, a GET's other fields query
 *    parameters, a POST's fields the request body (JSON object or form);
 *  - a field's validator becomes its JSON Schema (type, range, length,
 *    choices, the NAME pattern), AP_FIELD_SECRET writeOnly;
 *  - the answer schema is the 200 (201 for AP_ROUTE_CREATE) response;
 *    without one a POST (or an AP_ROUTE_PROBE GET: nginx's auth_request)
 *    answers 204; a probe with one answers it with 503 too; every error is
 *    the Error document;
 *  - the permission, the roles and token scopes that have it, and whether
 *    a browser is asked first, are x-aapanel-* members of the operation.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aapanel/auth.h"
#include "aapanel/openapi.h"
#include "aapanel/problem.h"
#include "aapanel/schema.h"

static enum ap_err
fail(char *err, size_t errlen, size_t i, const struct ap_route *rt, const char *fmt, ...)
    AP_PRINTF(5, 6);

static enum ap_err
fail(char *err, size_t errlen, size_t i, const struct ap_route *rt, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "route %zu (%s): %s", i, rt->pattern ? rt->pattern : "?", why);
	return AP_ERR_INVAL;
}

/* ---------------------------------------------------------------- the rules */

struct seen {
	const struct ap_schema *s[128];
	size_t n;
};

/* What is wrong with s (and the schemas it holds), or NULL. */
static const char *
schema_problem(const struct ap_schema *s, struct seen *seen, char *buf, size_t len, int depth)
{
	if (s == NULL || s->name == NULL || s->name[0] == '\0')
		return "a schema without a name";
	if (depth > 8)
		return "schemas nested deeper than 8";
	for (size_t i = 0; i < seen->n; i++) {
		if (seen->s[i] == s)
			return NULL;
		if (strcmp(seen->s[i]->name, s->name) == 0) {
			snprintf(buf, len, "two different schemas are named %s", s->name);
			return buf;
		}
	}
	if (seen->n == AP_NELEM(seen->s))
		return "more than 128 schemas";
	seen->s[seen->n++] = s;
	for (const struct ap_prop *p = s->props; p != NULL && p->name != NULL; p++) {
		const char *why;

		for (const struct ap_prop *q = s->props; q != p; q++)
			if (strcmp(q->name, p->name) == 0) {
				snprintf(buf, len, "schema %s: member %s twice", s->name, p->name);
				return buf;
			}
		if (p->type == AP_J_NONE || (unsigned)p->type >= AP_J__MAX ||
		    p->flags & ~(AP_J_NULL | AP_J_OPT | AP_J_SECRET | AP_J_NULL_ITEMS)) {
			snprintf(buf, len, "schema %s: member %s has an unknown type or flag", s->name, p->name);
			return buf;
		}
		if ((p->type == AP_J_OBJECT && p->of == NULL) ||
		    (p->type == AP_J_ARRAY && p->of == NULL &&
			(p->items == AP_J_NONE || (unsigned)p->items >= AP_J__MAX || p->items == AP_J_OBJECT ||
			    p->items == AP_J_ARRAY))) {
			snprintf(buf, len, "schema %s: member %s does not say what it holds", s->name, p->name);
			return buf;
		}
		if ((p->flags & AP_J_NULL_ITEMS) && (p->type != AP_J_ARRAY || p->of != NULL)) {
			snprintf(buf, len, "schema %s: member %s has null items but is not an array of scalars",
			    s->name, p->name);
			return buf;
		}
		if (p->choices != NULL && p->type != AP_J_STRING) {
			snprintf(buf, len, "schema %s: member %s has choices but is not a string", s->name, p->name);
			return buf;
		}
		if (p->of != NULL && (why = schema_problem(p->of, seen, buf, len, depth + 1)) != NULL)
			return why;
	}
	return NULL;
}

static bool
has_field(const struct ap_route *rt, const char *name)
{
	for (size_t i = 0; rt->fields != NULL && rt->fields[i].type != AP_FIELD__MAX; i++)
		if (strcmp(rt->fields[i].name, name) == 0 && !(rt->fields[i].flags & AP_FIELD_PATH))
			return true;
	return false;
}

const char *
ap_openapi_op_id(enum ap_method m, const char *pattern, char *buf, size_t len)
{
	const char *mn = ap_method_name(m);
	size_t o = 0;
	bool up = true;

	if (len == 0)
		return buf;
	for (size_t i = 0; mn[i] && o + 1 < len; i++)
		buf[o++] = (char)tolower((unsigned char)mn[i]);
	if (strcmp(pattern, "/") == 0)
		pattern = "/root";
	for (const char *p = pattern; *p && o + 1 < len; p++) {
		unsigned char c = (unsigned char)*p;

		if (!isalnum(c)) {
			up = true;
			continue;
		}
		buf[o++] = (char)(up ? toupper(c) : c);
		up = false;
	}
	buf[o] = '\0';
	return buf;
}

enum ap_err
ap_api_table_check(const struct ap_route *table, size_t n, char *err, size_t errlen)
{
	struct seen seen = { .n = 0 };
	char buf[200];
	struct {
		char id[96];
	} *ids = ap_xcalloc(n * AP_METHOD__MAX + 1, sizeof(*ids));
	size_t nids = 0;
	enum ap_err rc = AP_OK;

	for (size_t i = 0; i < n && rc == AP_OK; i++) {
		const struct ap_route *rt = &table[i];
		const char *why;

		if (rt->summary == NULL || rt->summary[0] == '\0')
			rc = fail(err, errlen, i, rt, "no summary (the API document's line for it)");
		else if ((rt->methods & AP_M_GET) && rt->answer == NULL &&
		    !(rt->flags & (AP_ROUTE_RAW | AP_ROUTE_BROWSER | AP_ROUTE_PROBE)))
			rc = fail(err, errlen, i, rt, "a GET route without an answer schema");
		else if ((rt->flags & AP_ROUTE_CREATE) &&
		    (rt->methods != AP_M_POST || rt->answer == NULL || !(rt->flags & AP_ROUTE_DB)))
			rc = fail(err, errlen, i, rt,
			    "AP_ROUTE_CREATE needs a POST route with an answer schema and AP_ROUTE_DB (its keys)");
		else if ((rt->flags & AP_ROUTE_RAW) && rt->media == NULL)
			rc = fail(err, errlen, i, rt, "AP_ROUTE_RAW needs media (what it sends)");
		else if (rt->answer != NULL && rt->answer->list &&
		    (rt->methods != AP_M_GET || !has_field(rt, "limit") || !has_field(rt, "cursor")))
			rc = fail(err, errlen, i, rt, "a list answer needs a GET route with limit and cursor fields");
		else if (rt->answer != NULL && (why = schema_problem(rt->answer, &seen, buf, sizeof(buf), 0)) != NULL)
			rc = fail(err, errlen, i, rt, "%s", why);
		if (rc != AP_OK)
			break;
		for (int m = 0; m < AP_METHOD__MAX; m++) {
			if (!(rt->methods & AP_M(m)))
				continue;
			ap_openapi_op_id((enum ap_method)m, rt->pattern, ids[nids].id, sizeof(ids[nids].id));
			for (size_t j = 0; j < nids; j++)
				if (strcmp(ids[j].id, ids[nids].id) == 0) {
					rc = fail(err, errlen, i, rt, "operationId %s is another route's", ids[j].id);
					break;
				}
			nids++;
		}
	}
	free(ids);
	return rc;
}

/* ---------------------------------------------------------------- the document */

static struct json_object *
str(const char *s)
{
	return json_object_new_string(s);
}

static void
add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *
ref(const char *kind, const char *name)
{
	struct json_object *o = json_object_new_object();
	char b[160];

	snprintf(b, sizeof(b), "#/components/%s/%s", kind, name);
	add(o, "$ref", str(b));
	return o;
}

/* A nullable type: ["string","null"]. */
static struct json_object *
type_of(const char *t, bool null)
{
	struct json_object *a;

	if (!null)
		return str(t);
	a = json_object_new_array();
	json_object_array_add(a, str(t));
	json_object_array_add(a, str("null"));
	return a;
}

struct doc {
	struct json_object *schemas; /* components/schemas */
};

static struct json_object *schema_ref(struct doc *d, const struct ap_schema *s);

static struct json_object *
scalar_schema(enum ap_jtype t, bool null, const char *const *choices)
{
	struct json_object *o = json_object_new_object();

	add(o, "type", type_of(ap_jtype_name(t), null));
	if (t == AP_J_TIME)
		add(o, "format", str("date-time"));
	if (t == AP_J_INT)
		add(o, "format", str("int64"));
	if (choices != NULL) {
		struct json_object *e = json_object_new_array();

		for (size_t i = 0; choices[i] != NULL; i++)
			json_object_array_add(e, str(choices[i]));
		if (null)
			json_object_array_add(e, NULL);
		add(o, "enum", e);
	}
	return o;
}

static struct json_object *
prop_schema(struct doc *d, const struct ap_prop *p)
{
	bool null = (p->flags & (AP_J_NULL | AP_J_SECRET)) != 0;
	struct json_object *o;

	if (p->type == AP_J_OBJECT) {
		struct json_object *r = schema_ref(d, p->of), *any, *nul;

		if (!null)
			o = r;
		else {
			o = json_object_new_object();
			any = json_object_new_array();
			nul = json_object_new_object();
			add(nul, "type", str("null"));
			json_object_array_add(any, r);
			json_object_array_add(any, nul);
			add(o, "anyOf", any);
		}
	} else if (p->type == AP_J_ARRAY) {
		o = json_object_new_object();
		add(o, "type", type_of("array", null));
		add(o, "items", p->of ? schema_ref(d, p->of)
				      : scalar_schema(p->items, (p->flags & AP_J_NULL_ITEMS) != 0, NULL));
	} else {
		o = scalar_schema(p->type, null, p->choices);
	}
	if (p->desc != NULL || (p->flags & AP_J_SECRET)) {
		char b[400];

		snprintf(b, sizeof(b), "%s%s%s", p->desc ? p->desc : "",
		    p->desc && (p->flags & AP_J_SECRET) ? ". " : "",
		    (p->flags & AP_J_SECRET) ? "Shown once; null in an answer replayed for an Idempotency-Key" : "");
		/* Beside a $ref too: OpenAPI 3.1 allows a description there. */
		add(o, "description", str(b));
	}
	return o;
}

/* The schema in components (added once), and a $ref to it. */
static struct json_object *
schema_ref(struct doc *d, const struct ap_schema *s)
{
	struct json_object *o, *props, *req;

	if (!json_object_object_get_ex(d->schemas, s->name, NULL)) {
		o = json_object_new_object();
		/* Placed first so a schema that holds itself ends. */
		add(d->schemas, s->name, o);
		add(o, "type", str("object"));
		if (s->desc)
			add(o, "description", str(s->desc));
		props = json_object_new_object();
		req = json_object_new_array();
		for (const struct ap_prop *p = s->props; p != NULL && p->name != NULL; p++) {
			add(props, p->name, prop_schema(d, p));
			if (!(p->flags & AP_J_OPT))
				json_object_array_add(req, str(p->name));
		}
		add(o, "properties", props);
		add(o, "required", req);
		add(o, "additionalProperties", json_object_new_boolean(false));
	}
	return ref("schemas", s->name);
}

/* The JSON Schema of a declared field, from its validator. */
static struct json_object *
field_schema(const struct ap_field *f)
{
	struct json_object *o = json_object_new_object();
	const char *what = NULL;

	switch (f->type) {
	case AP_FIELD_INT:
		add(o, "type", str("integer"));
		add(o, "format", str("int64"));
		if (f->min != 0 || f->max != 0) {
			add(o, "minimum", json_object_new_int64(f->min));
			add(o, "maximum", json_object_new_int64(f->max));
		}
		break;
	case AP_FIELD_BOOL:
		add(o, "type", str("boolean"));
		break;
	case AP_FIELD_ENUM: {
		struct json_object *e = json_object_new_array();

		add(o, "type", str("string"));
		for (size_t i = 0; f->choices && f->choices[i]; i++)
			json_object_array_add(e, str(f->choices[i]));
		add(o, "enum", e);
		break;
	}
	case AP_FIELD_NAME:
		add(o, "type", str("string"));
		add(o, "pattern", str("^[A-Za-z0-9_][A-Za-z0-9_.-]*$"));
		goto lengths;
	case AP_FIELD_HOSTNAME:
		add(o, "type", str("string"));
		add(o, "format", str("hostname"));
		add(o, "maxLength", json_object_new_int(253));
		break;
	case AP_FIELD_EMAIL:
		add(o, "type", str("string"));
		add(o, "format", str("email"));
		add(o, "maxLength", json_object_new_int(254));
		break;
	case AP_FIELD_TEXT:
	default:
		add(o, "type", str("string"));
		if (f->flags & AP_FIELD_SINGLELINE) {
			add(o, "pattern", str("^[^\\x00-\\x08\\x0A-\\x1F]*$"));
			what = "one line";
		}
lengths:
		if (f->min != 0 || f->max != 0) {
			add(o, "minLength", json_object_new_int64(f->min));
			add(o, "maxLength", json_object_new_int64(f->max));
		}
		break;
	}
	if (f->flags & AP_FIELD_SECRET) {
		add(o, "format", str("password"));
		add(o, "writeOnly", json_object_new_boolean(true));
	}
	if (f->desc != NULL || what != NULL || f->check != NULL) {
		char b[400];

		snprintf(b, sizeof(b), "%s%s%s%s", f->desc ? f->desc : "", f->desc && what ? "; " : "",
		    what ? what : "", f->check ? (f->desc || what ? "; also checked by the panel" :
							  "Also checked by the panel") : "");
		add(o, "description", str(b));
	}
	return o;
}

static struct json_object *
parameter(const struct ap_field *f, const char *in)
{
	struct json_object *p = json_object_new_object();

	add(p, "name", str(f->name));
	add(p, "in", str(in));
	add(p, "required", json_object_new_boolean(strcmp(in, "path") == 0 || (f->flags & AP_FIELD_REQUIRED)));
	add(p, "schema", field_schema(f));
	return p;
}

static struct json_object *
request_body(const struct ap_route *rt)
{
	struct json_object *rb = json_object_new_object(), *content = json_object_new_object();
	struct json_object *sch = json_object_new_object(), *props = json_object_new_object();
	struct json_object *req = json_object_new_array();
	bool any_required = false;

	add(sch, "type", str("object"));
	for (size_t i = 0; rt->fields[i].type != AP_FIELD__MAX; i++) {
		const struct ap_field *f = &rt->fields[i];

		if (f->flags & AP_FIELD_PATH)
			continue;
		add(props, f->name, field_schema(f));
		if (f->flags & AP_FIELD_REQUIRED) {
			json_object_array_add(req, str(f->name));
			any_required = true;
		}
	}
	add(sch, "properties", props);
	add(sch, "required", req);
	{
		struct json_object *j = json_object_new_object(), *form = json_object_new_object();

		add(j, "schema", sch);
		add(form, "schema", json_object_get(sch));
		add(content, "application/json", j);
		add(content, "application/x-www-form-urlencoded", form);
	}
	add(rb, "required", json_object_new_boolean(any_required));
	add(rb, "content", content);
	return rb;
}

static bool
has_body_fields(const struct ap_route *rt)
{
	for (size_t i = 0; rt->fields != NULL && rt->fields[i].type != AP_FIELD__MAX; i++)
		if (!(rt->fields[i].flags & AP_FIELD_PATH))
			return true;
	return false;
}

static struct json_object *
json_response(struct doc *d, const char *desc, const struct ap_schema *s)
{
	struct json_object *r = json_object_new_object(), *c = json_object_new_object();
	struct json_object *j = json_object_new_object();

	add(r, "description", str(desc));
	add(j, "schema", schema_ref(d, s));
	add(c, "application/json", j);
	add(r, "content", c);
	return r;
}

static struct json_object *
responses(struct doc *d, const struct ap_route *rt, enum ap_method m)
{
	struct json_object *rs = json_object_new_object();

	if (rt->flags & AP_ROUTE_BROWSER) {
		struct json_object *ok = json_object_new_object(), *c = json_object_new_object();
		struct json_object *h = json_object_new_object(), *see = json_object_new_object();

		add(h, "schema", scalar_schema(AP_J_STRING, false, NULL));
		add(c, "text/html", h);
		add(ok, "description", str("the page"));
		add(ok, "content", c);
		add(rs, "200", ok);
		add(see, "description", str("done: on to the next page (Location)"));
		add(rs, "303", see);
	} else if (rt->flags & AP_ROUTE_RAW) {
		struct json_object *ok = json_object_new_object(), *c = json_object_new_object();
		struct json_object *b = json_object_new_object(), *bs = json_object_new_object();

		/* A JSON document of its own (this document), or a file. */
		add(bs, "type", str(strstr(rt->media, "json") != NULL ? "object" : "string"));
		add(b, "schema", bs);
		add(c, rt->media, b);
		add(ok, "description", str("the file"));
		add(ok, "content", c);
		add(rs, "200", ok);
	} else if (rt->answer == NULL) {
		struct json_object *nc = json_object_new_object();

		add(nc, "description", str(m == AP_METHOD_GET ? "yes; nothing to answer" : "done; nothing to answer"));
		add(rs, "204", nc);
	} else if (rt->flags & AP_ROUTE_CREATE) {
		struct json_object *r = json_response(d, "made (or, for a repeated Idempotency-Key, "
						      "the first answer again: header Idempotent-Replayed: true)",
		    rt->answer);

		add(rs, "201", r);
	} else {
		add(rs, "200", json_response(d, m == AP_METHOD_GET ? "the resource" : "done", rt->answer));
	}
	if ((rt->flags & AP_ROUTE_JOB) && rt->answer != NULL)
		add(rs, "202", json_response(d, "started, still running as a helper job: its id, state and url "
						"in job", rt->answer));
	if ((rt->flags & AP_ROUTE_PROBE) && rt->answer != NULL)
		add(rs, "503", json_response(d, "degraded: the same document, saying what is down", rt->answer));
	add(rs, "4XX", ref("responses", "Error"));
	add(rs, "5XX", ref("responses", "Error"));
	return rs;
}

static const char *
tag_of(const char *pattern, char *buf, size_t len)
{
	const char *s = pattern + 1, *e = s;

	while (*e && *e != '/' && *e != '.')
		e++;
	if (e == s || *s == '{')
		return "overview";
	snprintf(buf, len, "%.*s", (int)(e - s), s);
	return buf;
}

static struct json_object *
operation(struct doc *d, const struct ap_route *rt, enum ap_method m)
{
	struct json_object *op = json_object_new_object(), *params = json_object_new_array();
	struct json_object *tags = json_object_new_array();
	char id[96], tag[64];

	ap_openapi_op_id(m, rt->pattern, id, sizeof(id));
	add(op, "operationId", str(id));
	add(op, "summary", str(rt->summary));
	json_object_array_add(tags, str((rt->flags & AP_ROUTE_BROWSER) ? "browser" : tag_of(rt->pattern, tag, sizeof(tag))));
	add(op, "tags", tags);
	for (size_t i = 0; rt->fields != NULL && rt->fields[i].type != AP_FIELD__MAX; i++) {
		const struct ap_field *f = &rt->fields[i];

		if (f->flags & AP_FIELD_PATH)
			json_object_array_add(params, parameter(f, "path"));
		else if (m == AP_METHOD_GET || (rt->flags & AP_ROUTE_STREAM))
			json_object_array_add(params, parameter(f, "query"));
	}
	if (rt->flags & AP_ROUTE_CREATE) {
		struct json_object *p = json_object_new_object(), *s = json_object_new_object();

		add(p, "name", str("Idempotency-Key"));
		add(p, "in", str("header"));
		add(p, "required", json_object_new_boolean(false));
		add(p, "description", str("a key of the client's choosing (for example a UUID): a retry with the "
					  "same key and the same fields within 24 hours answers the first result "
					  "instead of making a second resource"));
		add(s, "type", str("string"));
		add(s, "minLength", json_object_new_int(1));
		add(s, "maxLength", json_object_new_int(255));
		add(s, "pattern", str("^[\\x21-\\x7E]+$"));
		add(p, "schema", s);
		json_object_array_add(params, p);
	}
	if (json_object_array_length(params) > 0)
		add(op, "parameters", params);
	else
		json_object_put(params);
	if (m != AP_METHOD_GET && (rt->flags & AP_ROUTE_STREAM)) {
		/* The body is the content itself, streamed; its fields are in the query. */
		struct json_object *rb = json_object_new_object(), *c = json_object_new_object();
		struct json_object *b = json_object_new_object(), *bs = json_object_new_object();

		add(bs, "type", str("string"));
		add(bs, "contentMediaType", str("application/octet-stream"));
		add(b, "schema", bs);
		add(c, "application/octet-stream", b);
		add(rb, "required", json_object_new_boolean(true));
		add(rb, "content", c);
		add(op, "requestBody", rb);
	} else if (m != AP_METHOD_GET && has_body_fields(rt)) {
		add(op, "requestBody", request_body(rt));
	}
	add(op, "responses", responses(d, rt, m));
	if (rt->flags & AP_ROUTE_PUBLIC) {
		add(op, "security", json_object_new_array());
	} else if (rt->flags & AP_ROUTE_BROWSER) {
		struct json_object *sec = json_object_new_array(), *s = json_object_new_object();

		add(s, "session", json_object_new_array());
		json_object_array_add(sec, s);
		add(op, "security", sec);
	}
	if (rt->perm != NULL) {
		static const char *const roles[] = { "admin", "operator", "viewer" };
		static const char *const scopes[] = { "read", "write", "admin" };
		struct json_object *ra = json_object_new_array(), *sa = json_object_new_array();

		add(op, "x-aapanel-permission", str(rt->perm));
		for (size_t i = 0; i < AP_NELEM(roles); i++)
			if (ap_role_allows(roles[i], rt->perm))
				json_object_array_add(ra, str(roles[i]));
		for (size_t i = 0; i < AP_NELEM(scopes); i++)
			if (ap_scope_allows(scopes[i], rt->perm))
				json_object_array_add(sa, str(scopes[i]));
		add(op, "x-aapanel-roles", ra);
		if (!(rt->flags & AP_ROUTE_BROWSER))
			add(op, "x-aapanel-token-scopes", sa);
		else
			json_object_put(sa);
	}
	if (rt->flags & AP_ROUTE_CONFIRM)
		add(op, "x-aapanel-destructive", json_object_new_boolean(true));
	return op;
}

static struct json_object *
server(const char *url, const char *base, const char *desc)
{
	struct json_object *s = json_object_new_object(), *v = json_object_new_object();
	struct json_object *b = json_object_new_object();

	add(s, "url", str(url));
	/* The variable's meaning goes in the server's description: validators of
	 * 3.1 documents refuse a description on the variable itself. */
	{
		char *d = ap_xasprintf("%s; {base} is panel.base_path, the security entrance (\"\" when it is /)",
		    desc);

		add(s, "description", str(d));
		free(d);
	}
	add(b, "default", str(base));
	add(v, "base", b);
	add(s, "variables", v);
	return s;
}

static struct json_object *
error_component(void)
{
	struct json_object *o = json_object_new_object(), *props = json_object_new_object();
	struct json_object *e = json_object_new_object(), *ep = json_object_new_object();
	struct json_object *codes = json_object_new_array(), *req, *st;
	struct ap_buf desc = { 0 };

	ap_buf_puts(&desc, "What went wrong. code is stable (scripts branch on it); title, message "
			   "and reason are for people (title and message in the request's language, reason "
			   "in English). Codes:");
	for (int c = AP_PB_INVALID; c < AP_PB__MAX; c++) {
		json_object_array_add(codes, str(ap_pb_name((enum ap_pb_code)c)));
		ap_buf_printf(&desc, "%s %s (%d)", c == AP_PB_INVALID ? "" : ",", ap_pb_name((enum ap_pb_code)c),
		    ap_pb_status((enum ap_pb_code)c));
	}
	st = json_object_new_object();
	add(st, "type", str("integer"));
	add(st, "minimum", json_object_new_int(400));
	add(st, "maximum", json_object_new_int(599));
	add(ep, "status", st);
	st = scalar_schema(AP_J_STRING, false, NULL);
	add(st, "enum", codes);
	add(ep, "code", st);
	add(ep, "title", scalar_schema(AP_J_STRING, false, NULL));
	add(ep, "message", scalar_schema(AP_J_STRING, false, NULL));
	st = scalar_schema(AP_J_STRING, false, NULL);
	add(st, "description", str("the input at fault (a field, a header, \"body\"), when one is"));
	add(ep, "field", st);
	st = scalar_schema(AP_J_STRING, false, NULL);
	add(st, "description", str("why that input was refused, in English"));
	add(ep, "reason", st);
	st = scalar_schema(AP_J_STRING, false, NULL);
	add(st, "description", str("also in the X-Request-Id header and the panel's log"));
	add(ep, "request_id", st);
	add(e, "type", str("object"));
	add(e, "description", str(ap_buf_cstr(&desc)));
	add(e, "properties", ep);
	req = json_object_new_array();
	json_object_array_add(req, str("status"));
	json_object_array_add(req, str("code"));
	json_object_array_add(req, str("title"));
	json_object_array_add(req, str("message"));
	json_object_array_add(req, str("request_id"));
	add(e, "required", req);
	add(e, "additionalProperties", json_object_new_boolean(false));
	add(props, "error", e);
	add(o, "type", str("object"));
	add(o, "properties", props);
	req = json_object_new_array();
	json_object_array_add(req, str("error"));
	add(o, "required", req);
	add(o, "additionalProperties", json_object_new_boolean(false));
	ap_buf_free(&desc);
	return o;
}

char *
ap_openapi_doc(const struct ap_route *table, size_t n, const char *base, bool testing)
{
	struct json_object *root = json_object_new_object(), *info = json_object_new_object();
	struct json_object *servers = json_object_new_array(), *paths = json_object_new_object();
	struct json_object *comp = json_object_new_object(), *sec = json_object_new_object();
	struct json_object *gsec = json_object_new_array(), *bearer = json_object_new_object();
	struct json_object *session = json_object_new_object(), *resp = json_object_new_object();
	struct json_object *err = json_object_new_object(), *ec = json_object_new_object();
	struct json_object *ej = json_object_new_object(), *g = json_object_new_object();
	struct doc d = { json_object_new_object() };
	char *out;

	add(root, "openapi", str("3.1.0"));
	add(info, "title", str("aaPanel API"));
	add(info, "version", str(AP_VERSION));
	add(info, "summary", str("Every screen of the panel as JSON resources"));
	add(info, "description",
	    str("Made from the panel's route table (never written by hand): every route, its fields with "
		"their limits, its permission and the token scopes that reach it, and what it answers. "
		"Within v1, members and routes are only added; nothing is renamed, retyped or removed "
		"(docs/api.md)."));
	add(root, "info", info);
	json_object_array_add(servers, server("{base}/api/v1", base, "the API (Bearer tokens)"));
	add(root, "servers", servers);
	add(g, "bearer", json_object_new_array());
	json_object_array_add(gsec, g);
	add(root, "security", gsec);

	for (size_t i = 0; i < n; i++) {
		const struct ap_route *rt = &table[i];
		struct json_object *item;
		char *p;

		if ((rt->flags & AP_ROUTE_TESTING) && !testing)
			continue;
		if (!json_object_object_get_ex(paths, rt->pattern, &item)) {
			item = json_object_new_object();
			add(paths, rt->pattern, item);
			if (rt->flags & AP_ROUTE_BROWSER) {
				struct json_object *ss = json_object_new_array();

				json_object_array_add(ss, server("{base}", base, "the panel's pages (browsers)"));
				add(item, "servers", ss);
			}
		}
		for (int m = 0; m < AP_METHOD__MAX; m++) {
			char lower[16];

			if (!(rt->methods & AP_M(m)))
				continue;
			snprintf(lower, sizeof(lower), "%s", ap_method_name((enum ap_method)m));
			for (p = lower; *p; p++)
				*p = (char)tolower((unsigned char)*p);
			add(item, lower, operation(&d, rt, (enum ap_method)m));
		}
	}
	add(root, "paths", paths);

	add(bearer, "type", str("http"));
	add(bearer, "scheme", str("bearer"));
	add(bearer, "description", str("an API token (apn_…): `aapanel token create` or the account page; "
				       "its scope (read, write, admin) caps what the user's role allows"));
	add(sec, "bearer", bearer);
	add(session, "type", str("apiKey"));
	add(session, "in", str("cookie"));
	add(session, "name", str("__Host-aapanel"));
	add(session, "description", str("the browser's session after signing in (aapanel in development, "
					"over plain HTTP); a state change also needs the session's CSRF token"));
	add(sec, "session", session);
	add(comp, "securitySchemes", sec);
	add(d.schemas, "Error", error_component());
	add(comp, "schemas", d.schemas);
	add(err, "description", str("the Error document"));
	add(ej, "schema", ref("schemas", "Error"));
	add(ec, "application/json", ej);
	add(err, "content", ec);
	add(resp, "Error", err);
	add(comp, "responses", resp);
	add(root, "components", comp);

	out = strdup(json_object_to_json_string_ext(root,
	    JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
	return out;
}
