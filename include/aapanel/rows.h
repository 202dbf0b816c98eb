/*
 * rows.h — a typed row source: a list screen's rows as an array of C
 * structs, read by both representations of one handler without a json-c
 * object per row or per cell. The template engine loops over it like an
 * array of objects ({{#items}}{{name}}{{/items}}), the answer's schema
 * projects it (src/core/schema.c) and the JSON writer streams it, in the
 * schema's order, byte for byte what the same rows as json-c objects give.
 *
 *	struct user_view { int64_t id; const char *name; bool self; };
 *	static const struct ap_col user_cols[] = {
 *		AP_COL(struct user_view, id, AP_COL_INT),
 *		AP_COL(struct user_view, name, AP_COL_STR),
 *		AP_COL(struct user_view, self, AP_COL_BOOL),
 *		AP_COL_END,
 *	};
 *	struct json_object *rows = ap_rows_new(user_cols, sizeof(struct user_view));
 *	struct user_view *v = ap_rows_add(rows);	// zeroed, valid until the next add
 *	v->id = u->id;
 *	v->name = ap_rows_strdup(rows, u->username);	// copies live as long as rows
 *	...
 *	ap_model_add(ctx->model, "items", rows);	// or ap_ctx_page_done(…, rows, …)
 *
 * The object is a json-c array (empty to json-c's own functions) carrying
 * the rows; a model holding it is freed as usual. Names of columns follow
 * the members a json-c row would have; a NULL AP_COL_STR is JSON null (and
 * false, printing nothing, in a template), as ap_model_str's null.
 */
#ifndef AAPANEL_ROWS_H
#define AAPANEL_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <json-c/json.h>

enum ap_col_type {
	AP_COL_STR,  /* const char *; NULL is null */
	AP_COL_INT,  /* int64_t */
	AP_COL_INTN, /* int64_t; AP_ROWS_NULL (INT64_MIN) is null */
	AP_COL_BOOL, /* bool */
	AP_COL_TIME, /* int64_t seconds since the epoch, written as ap_model_time does
		      * ("2026-12-01T07:36:05Z"); 0 is null */
	AP_COL_JSON, /* struct json_object * (a reference the rows own; NULL is null):
		      * what one row needs that is not a scalar (its form's options) */
	AP_COL_DOUBLE, /* double, written as json-c writes json_object_new_double's
			* (and a template as a json double); NaN is null */
};

struct ap_col {
	const char *name; /* NULL ends the table (AP_COL_END) */
	enum ap_col_type type;
	size_t off;
};

#define AP_COL(T, member, type) { #member, (type), offsetof(T, member) }
/* A column whose name is not the member's. */
#define AP_COL_AS(name, T, member, type) { (name), (type), offsetof(T, member) }
#define AP_COL_END { NULL, AP_COL_STR, 0 }

#define AP_ROWS_MAGIC 0x52307753u
#define AP_ROWS_NULL INT64_MIN

/* The source behind the json-c object (see ap_rows_of). */
struct ap_rows {
	uint32_t magic;
	const struct ap_col *cols;
	size_t ncols, stride, n, cap;
	unsigned char *data;
	struct ap_arena *strs;
	/* A projection (schema.c): which column each member of the answer's
	 * item schema reads, and what it writes; data and strs are the
	 * source's, kept alive by a reference to it. */
	struct json_object *source;
	const struct ap_prop *props;
	int *map;              /* per prop: column index, -1: absent */
	bool *nulled;          /* per prop: written as null (a secret) */
	struct json_object **nested; /* per row and prop: a projected AP_COL_JSON value */
};

/* A new, empty row source whose rows are stride bytes, read through cols
 * (borrowed: a static table). A json-c object; its one reference is the caller's. */
struct json_object *ap_rows_new(const struct ap_col *cols, size_t stride);
/* A new zeroed row at the end; valid until the next ap_rows_add. */
void *ap_rows_add(struct json_object *rows);
/* s copied for the rows' lifetime (NULL stays NULL). */
const char *ap_rows_strdup(struct json_object *rows, const char *s);
/* The n bytes at s (which has n readable bytes, no NUL among them), NUL-terminated, as long as rows. */
const char *ap_rows_strndup(struct json_object *rows, const char *s, size_t n);
/* The source behind v, or NULL when v is not one. */
static inline const struct ap_rows *
ap_rows_of(struct json_object *v)
{
	const struct ap_rows *r;

	if (v == NULL || !json_object_is_type(v, json_type_array) || json_object_array_length(v) != 0)
		return NULL;
	r = json_object_get_userdata(v);
	return r != NULL && r->magic == AP_ROWS_MAGIC && r->source == NULL ? r : NULL;
}
static inline const void *
ap_rows_row(const struct ap_rows *r, size_t i)
{
	return r->data + i * r->stride;
}
/* t as "YYYY-MM-DDTHH:MM:SSZ" into buf (32 bytes); 0 when t is 0 (null). */
static inline size_t
ap_rows_fmt_time(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return 0;
	return strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Number of rows (0 when v is no row source). */
size_t ap_rows_count(struct json_object *v);

/* Column index of name in r (-1: none). */
int ap_rows_col(const struct ap_rows *r, const char *name);

/*
 * JSON text of a string exactly as json-c writes it with
 * JSON_C_TO_STRING_NOSLASHESCAPE (quotes included), appended to pb.
 */
struct printbuf;
void ap_rows_json_str(struct printbuf *pb, const char *s, size_t n);

/*
 * For the schema's projection (schema.c): a row source written as props
 * say — map[p] the column of props[p] (-1: left out), nulled[p] written as
 * null, nested[i * nprops + p] the projected AP_COL_JSON value of row i (or
 * NULL). Takes map, nulled and nested (malloc'd) and a reference to src.
 */
struct ap_prop;
struct json_object *ap_rows_view(struct json_object *src, const struct ap_prop *props,
    int *map, bool *nulled, struct json_object **nested);

#endif
