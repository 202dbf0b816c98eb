/*
 * schema.c — projecting a model onto its resource schema, with the check
 * that the answer is what the document says (schema.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "aapanel/common.h"
#include "aapanel/rows.h"
#include "aapanel/schema.h"

const char *
ap_jtype_name(enum ap_jtype t)
{
	switch (t) {
	case AP_J_STRING:
	case AP_J_TIME:
		return "string";
	case AP_J_INT:
		return "integer";
	case AP_J_NUMBER:
		return "number";
	case AP_J_BOOL:
		return "boolean";
	case AP_J_OBJECT:
		return "object";
	case AP_J_ARRAY:
		return "array";
	case AP_J_NONE:
	case AP_J__MAX:
		break;
	}
	return "null";
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool
ap_jtime_valid(const char *s)
{
	int mo, d, h, mi, se;

	if (s == NULL || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
	    s[16] != ':' || s[19] != 'Z')
		return false;
	if (!digits(s, 4) || !digits(s + 5, 2) || !digits(s + 8, 2) || !digits(s + 11, 2) ||
	    !digits(s + 14, 2) || !digits(s + 17, 2))
		return false;
	mo = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	h = (s[11] - '0') * 10 + (s[12] - '0');
	mi = (s[14] - '0') * 10 + (s[15] - '0');
	se = (s[17] - '0') * 10 + (s[18] - '0');
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

struct proj {
	bool secrets;
	bool ok;
	char *err;
	size_t errlen;
	char path[256]; /* where we are: "items[3].created" */
};

static void
mismatch(struct proj *p, const char *what, struct json_object *got)
{
	const char *g;

	if (!p->ok)
		return;
	p->ok = false;
	if (p->err == NULL || p->errlen == 0)
		return;
	g = got == NULL ? "null" : json_object_to_json_string_ext(got, JSON_C_TO_STRING_PLAIN);
	snprintf(p->err, p->errlen, "%s: expected %s, got %.60s", p->path[0] ? p->path : "(answer)",
	    what, g);
}

static struct json_object *project_object(struct proj *p, const struct ap_schema *s, struct json_object *in);
static struct json_object *project_value(struct proj *p, enum ap_jtype t, const struct ap_schema *of,
    enum ap_jtype items, const char *const *choices, unsigned flags, struct json_object *v);
static const char *expected(enum ap_jtype t, const char *const *choices);

/* Does v have scalar type t (choices: one of them)? */
static bool
scalar_ok(enum ap_jtype t, const char *const *choices, struct json_object *v)
{
	switch (t) {
	case AP_J_STRING:
		if (!json_object_is_type(v, json_type_string))
			return false;
		if (choices != NULL) {
			for (size_t i = 0; choices[i] != NULL; i++)
				if (strcmp(choices[i], json_object_get_string(v)) == 0)
					return true;
			return false;
		}
		return true;
	case AP_J_TIME:
		return json_object_is_type(v, json_type_string) && ap_jtime_valid(json_object_get_string(v));
	case AP_J_INT:
		return json_object_is_type(v, json_type_int);
	case AP_J_NUMBER:
		return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
	case AP_J_BOOL:
		return json_object_is_type(v, json_type_boolean);
	default:
		return false;
	}
}

static const char *
expected(enum ap_jtype t, const char *const *choices)
{
	if (choices != NULL)
		return "one of its listed values";
	return t == AP_J_TIME ? "a date-time YYYY-MM-DDTHH:MM:SSZ" : ap_jtype_name(t);
}

/* Does string s fit a member of type t (choices)? */
static bool
str_ok(enum ap_jtype t, const char *const *choices, const char *s)
{
	if (t == AP_J_TIME)
		return ap_jtime_valid(s);
	if (t != AP_J_STRING)
		return false;
	if (choices == NULL)
		return true;
	for (size_t i = 0; choices[i] != NULL; i++)
		if (strcmp(choices[i], s) == 0)
			return true;
	return false;
}

/*
 * A row source r (rows.h, the value v) projected onto the item schema s: the same checks
 * as its rows would get as objects, row by row, and a view that writes
 * them in the schema's order without a json-c object per row.
 */
static struct json_object *
project_rows(struct proj *p, const struct ap_schema *s, struct json_object *v, const struct ap_rows *r)
{
	size_t np = 0, plen = strlen(p->path);
	int *map;
	bool *nulled;
	struct json_object **nested = NULL;

	while (s->props != NULL && s->props[np].name != NULL)
		np++;
	map = ap_xcalloc(np + 1, sizeof(*map));
	nulled = ap_xcalloc(np + 1, sizeof(*nulled));
	for (size_t k = 0; k < np; k++) {
		const struct ap_prop *pr = &s->props[k];

		map[k] = ap_rows_col(r, pr->name);
		nulled[k] = (pr->flags & AP_J_SECRET) && !p->secrets;
		if (map[k] < 0 && !(pr->flags & AP_J_OPT) && r->n > 0) {
			snprintf(p->path + plen, sizeof(p->path) - plen, "[0].%s", pr->name);
			mismatch(p, "a member here", NULL);
		}
		if (map[k] >= 0 && r->cols[map[k]].type == AP_COL_JSON && nested == NULL && r->n > 0)
			nested = ap_xcalloc(r->n * np, sizeof(*nested));
	}
	for (size_t i = 0; i < r->n && p->ok; i++) {
		const unsigned char *row = ap_rows_row(r, i);

		for (size_t k = 0; k < np; k++) {
			const struct ap_prop *pr = &s->props[k];
			const struct ap_col *col;
			struct json_object *jv, *got;
			const char *str;
			bool bad = false, null = false;
			char iso[32];

			if (map[k] < 0 || nulled[k])
				continue;
			col = &r->cols[map[k]];
			snprintf(p->path + plen, sizeof(p->path) - plen, "[%zu].%s", i, pr->name);
			switch (col->type) {
			case AP_COL_STR:
				memcpy(&str, row + col->off, sizeof(str));
				null = str == NULL;
				bad = !null && !str_ok(pr->type, pr->choices, str);
				break;
			case AP_COL_TIME: {
				int64_t t;

				memcpy(&t, row + col->off, sizeof(t));
				null = ap_rows_fmt_time(t, iso) == 0;
				bad = !null && pr->type != AP_J_TIME && pr->type != AP_J_STRING;
				break;
			}
			case AP_COL_INT:
			case AP_COL_INTN: {
				int64_t iv;

				memcpy(&iv, row + col->off, sizeof(iv));
				null = col->type == AP_COL_INTN && iv == AP_ROWS_NULL;
				bad = !null && pr->type != AP_J_INT && pr->type != AP_J_NUMBER;
				break;
			}
			case AP_COL_BOOL:
				bad = pr->type != AP_J_BOOL;
				break;
			case AP_COL_DOUBLE: {
				double dv;

				memcpy(&dv, row + col->off, sizeof(dv));
				null = isnan(dv);
				bad = !null && pr->type != AP_J_NUMBER;
				break;
			}
			case AP_COL_JSON:
				memcpy(&jv, row + col->off, sizeof(jv));
				null = jv == NULL;
				if (!null)
					nested[i * np + k] = project_value(p, pr->type, pr->of, pr->items,
					    pr->choices, pr->flags, jv);
				break;
			}
			if (null && !(pr->flags & AP_J_NULL))
				mismatch(p, expected(pr->type, pr->choices), NULL);
			if (bad) {
				got = json_object_new_string(col->type == AP_COL_STR ? str : "(a row source's cell)");
				mismatch(p, expected(pr->type, pr->choices), got);
				json_object_put(got);
			}
		}
	}
	p->path[plen] = '\0';
	return ap_rows_view(v, s->props, map, nulled, nested);
}

/* The value of one member (or array item) of type t, projected; a new reference.
 * flags: the member's (AP_J_NULL_ITEMS lets a scalar item be null). */
static struct json_object *
project_value(struct proj *p, enum ap_jtype t, const struct ap_schema *of, enum ap_jtype items,
    const char *const *choices, unsigned flags, struct json_object *v)
{
	size_t plen = strlen(p->path);
	const struct ap_rows *rows;
	struct json_object *arr;

	switch (t) {
	case AP_J_OBJECT:
		if (!json_object_is_type(v, json_type_object)) {
			mismatch(p, "object", v);
			return json_object_get(v);
		}
		return project_object(p, of, v);
	case AP_J_ARRAY:
		if (of != NULL && (rows = ap_rows_of(v)) != NULL)
			return project_rows(p, of, v, rows);
		if (!json_object_is_type(v, json_type_array)) {
			mismatch(p, "array", v);
			return json_object_get(v);
		}
		arr = json_object_new_array_ext((int)json_object_array_length(v));
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *it = json_object_array_get_idx(v, i);

			snprintf(p->path + plen, sizeof(p->path) - plen, "[%zu]", i);
			if (of != NULL)
				json_object_array_add(arr, project_value(p, AP_J_OBJECT, of, AP_J__MAX, NULL, 0, it));
			else if (it == NULL && (flags & AP_J_NULL_ITEMS))
				json_object_array_add(arr, NULL);
			else
				json_object_array_add(arr, project_value(p, items, NULL, AP_J__MAX, NULL, 0, it));
		}
		p->path[plen] = '\0';
		return arr;
	default:
		if (!scalar_ok(t, choices, v))
			mismatch(p, expected(t, choices), v);
		return json_object_get(v);
	}
}

static struct json_object *
project_object(struct proj *p, const struct ap_schema *s, struct json_object *in)
{
	struct json_object *out = json_object_new_object();
	size_t plen = strlen(p->path);

	/* An object with no schema of its own (s NULL) has no member to let through. */
	for (const struct ap_prop *pr = s != NULL ? s->props : NULL; pr != NULL && pr->name != NULL; pr++) {
		struct json_object *v = NULL;
		bool has = json_object_object_get_ex(in, pr->name, &v);

		snprintf(p->path + plen, sizeof(p->path) - plen, "%s%s", plen ? "." : "", pr->name);
		if (!has) {
			if (!(pr->flags & AP_J_OPT))
				mismatch(p, "a member here", NULL);
		} else if (v == NULL || ((pr->flags & AP_J_SECRET) && !p->secrets)) {
			if (v == NULL && !(pr->flags & AP_J_NULL) && !(pr->flags & AP_J_SECRET && !p->secrets))
				mismatch(p, expected(pr->type, pr->choices), NULL);
			json_object_object_add(out, pr->name, NULL);
		} else {
			json_object_object_add(out, pr->name,
			    project_value(p, pr->type, pr->of, pr->items, pr->choices, pr->flags, v));
		}
		p->path[plen] = '\0';
	}
	return out;
}

bool
ap_schema_project(const struct ap_schema *s, struct json_object *in, bool secrets,
    struct json_object **out, char *err, size_t errlen)
{
	struct proj p = { .secrets = secrets, .ok = true, .err = err, .errlen = errlen };

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (in == NULL || !json_object_is_type(in, json_type_object)) {
		*out = json_object_new_object();
		mismatch(&p, "object", in);
		return false;
	}
	*out = project_object(&p, s, in);
	return p.ok;
}
