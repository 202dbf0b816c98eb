/*
 * rows.c — the typed row source (rows.h): rows kept as C structs, written
 * as JSON by a json-c serializer of their own, the same bytes json-c's
 * writer gives for the same rows built as objects.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "aapanel/arena.h"
#include "aapanel/common.h"
#include "aapanel/rows.h"
#include "aapanel/schema.h"

static void
rows_free(struct ap_rows *r)
{
	if (r->source == NULL) {
		for (size_t c = 0; c < r->ncols; c++) {
			if (r->cols[c].type != AP_COL_JSON)
				continue;
			for (size_t i = 0; i < r->n; i++) {
				struct json_object *v;

				memcpy(&v, r->data + i * r->stride + r->cols[c].off, sizeof(v));
				json_object_put(v);
			}
		}
		free(r->data);
		ap_arena_free(r->strs);
	} else {
		size_t np = 0;

		while (r->props[np].name != NULL)
			np++;
		if (r->nested != NULL)
			for (size_t i = 0; i < r->n * np; i++)
				json_object_put(r->nested[i]);
		free(r->nested);
		free(r->map);
		free(r->nulled);
		json_object_put(r->source);
	}
	free(r);
}

static void
rows_delete(struct json_object *jso, void *ud)
{
	(void)jso;
	rows_free(ud);
}

/* A string as json-c writes it with flags (which say whether '/' is escaped). */
static void
json_str(struct printbuf *pb, const char *s, size_t n, int flags)
{
	bool slash = !(flags & JSON_C_TO_STRING_NOSLASHESCAPE);
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	printbuf_strappend(pb, "\"");
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		const char *rep;
		char u[6];

		if (c >= 0x20 && c != '"' && c != '\\' && (c != '/' || !slash))
			continue;
		switch (c) {
		case '\b': rep = "\\b"; break;
		case '\n': rep = "\\n"; break;
		case '\r': rep = "\\r"; break;
		case '\t': rep = "\\t"; break;
		case '\f': rep = "\\f"; break;
		case '"': rep = "\\\""; break;
		case '\\': rep = "\\\\"; break;
		case '/': rep = "\\/"; break;
		default: rep = NULL; break;
		}
		if (i > start)
			printbuf_memappend(pb, s + start, (int)(i - start));
		if (rep != NULL) {
			printbuf_memappend(pb, rep, 2);
		} else {
			memcpy(u, "\\u00", 4);
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			printbuf_memappend(pb, u, 6);
		}
		start = i + 1;
	}
	if (n > start)
		printbuf_memappend(pb, s + start, (int)(n - start));
	printbuf_strappend(pb, "\"");
}

void
ap_rows_json_str(struct printbuf *pb, const char *s, size_t n)
{
	json_str(pb, s, n, JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* json-c's indentation of a pretty document. */
static void
indent(struct printbuf *pb, int level, int flags)
{
	if (!(flags & JSON_C_TO_STRING_PRETTY))
		return;
	for (int i = 0; i < level; i++) {
		if (flags & JSON_C_TO_STRING_PRETTY_TAB)
			printbuf_strappend(pb, "\t");
		else
			printbuf_strappend(pb, "  ");
	}
}

static void
put_cell(struct printbuf *pb, const struct ap_col *col, const unsigned char *row, int flags)
{
	const char *s;
	struct json_object *v;
	int64_t i;
	bool b;
	char num[24];
	int n;

	switch (col->type) {
	case AP_COL_STR:
		memcpy(&s, row + col->off, sizeof(s));
		if (s == NULL)
			printbuf_strappend(pb, "null");
		else
			json_str(pb, s, strlen(s), flags);
		return;
	case AP_COL_INT:
	case AP_COL_INTN:
		memcpy(&i, row + col->off, sizeof(i));
		if (col->type == AP_COL_INTN && i == AP_ROWS_NULL) {
			printbuf_strappend(pb, "null");
			return;
		}
		n = snprintf(num, sizeof(num), "%" PRId64, i);
		printbuf_memappend(pb, num, n);
		return;
	case AP_COL_TIME: {
		char iso[32];
		size_t tl;

		memcpy(&i, row + col->off, sizeof(i));
		tl = ap_rows_fmt_time(i, iso);
		if (tl == 0)
			printbuf_strappend(pb, "null");
		else
			json_str(pb, iso, tl, flags);
		return;
	}
	case AP_COL_BOOL:
		memcpy(&b, row + col->off, sizeof(b));
		if (b)
			printbuf_strappend(pb, "true");
		else
			printbuf_strappend(pb, "false");
		return;
	case AP_COL_DOUBLE: {
		/* json-c's own serializer, on one object reused: the same bytes
		 * as a json_object_new_double of the value, under every flag. */
		static struct json_object *dbl;
		double d;
		size_t len;
		const char *t;

		memcpy(&d, row + col->off, sizeof(d));
		if (isnan(d)) {
			printbuf_strappend(pb, "null");
			return;
		}
		if (dbl == NULL)
			dbl = json_object_new_double(0);
		json_object_set_double(dbl, d);
		t = json_object_to_json_string_length(dbl, flags, &len);
		printbuf_memappend(pb, t, (int)len);
		return;
	}
	case AP_COL_JSON:
		memcpy(&v, row + col->off, sizeof(v));
		if (v == NULL) {
			printbuf_strappend(pb, "null");
		} else {
			size_t len;
			const char *t = json_object_to_json_string_length(v, flags, &len);

			printbuf_memappend(pb, t, (int)len);
		}
		return;
	}
}

/* Before the k-th member or item at level (json-c's separators). */
static void
before_member(struct printbuf *pb, size_t k, int level, int flags)
{
	if (k > 0)
		printbuf_strappend(pb, ",");
	if (flags & JSON_C_TO_STRING_PRETTY)
		printbuf_strappend(pb, "\n");
	if ((flags & JSON_C_TO_STRING_SPACED) && !(flags & JSON_C_TO_STRING_PRETTY))
		printbuf_strappend(pb, " ");
	indent(pb, level, flags);
}

static void
after_members(struct printbuf *pb, size_t k, int level, int flags, const char *close)
{
	if (flags & JSON_C_TO_STRING_PRETTY) {
		if (k > 0)
			printbuf_strappend(pb, "\n");
		indent(pb, level, flags);
	}
	if ((flags & JSON_C_TO_STRING_SPACED) && !(flags & JSON_C_TO_STRING_PRETTY))
		printbuf_strappend(pb, " ");
	printbuf_memappend(pb, close, 1);
}

static void
put_key(struct printbuf *pb, const char *name, int flags)
{
	json_str(pb, name, strlen(name), flags);
	if (flags & JSON_C_TO_STRING_SPACED)
		printbuf_strappend(pb, ": ");
	else
		printbuf_strappend(pb, ":");
}

static int
rows_serialize(struct json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct ap_rows *r = json_object_get_userdata(jso);
	const struct ap_rows *src = r->source ? json_object_get_userdata(r->source) : r;
	size_t np = 0;

	if (r->props != NULL)
		while (r->props[np].name != NULL)
			np++;
	printbuf_strappend(pb, "[");
	for (size_t i = 0; i < r->n; i++) {
		const unsigned char *row = src->data + i * src->stride;
		size_t k = 0;

		before_member(pb, i, level + 1, flags);
		printbuf_strappend(pb, "{");
		if (r->props == NULL) {
			for (size_t c = 0; c < r->ncols; c++, k++) {
				before_member(pb, k, level + 2, flags);
				put_key(pb, r->cols[c].name, flags);
				put_cell(pb, &r->cols[c], row, flags);
			}
		} else {
			for (size_t p = 0; p < np; p++) {
				struct json_object *nv = r->nested ? r->nested[i * np + p] : NULL;

				if (r->map[p] < 0)
					continue;
				before_member(pb, k++, level + 2, flags);
				put_key(pb, r->props[p].name, flags);
				if (r->nulled[p]) {
					printbuf_strappend(pb, "null");
				} else if (src->cols[r->map[p]].type == AP_COL_JSON) {
					size_t len;
					const char *t = nv ? json_object_to_json_string_length(nv, flags, &len) : "null";

					printbuf_memappend(pb, t, nv ? (int)len : 4);
				} else {
					put_cell(pb, &src->cols[r->map[p]], row, flags);
				}
			}
		}
		after_members(pb, k, level + 1, flags, "}");
	}
	after_members(pb, r->n, level, flags, "]");
	return 0;
}

static struct json_object *
rows_object(struct ap_rows *r)
{
	struct json_object *o = json_object_new_array();

	r->magic = AP_ROWS_MAGIC;
	json_object_set_serializer(o, rows_serialize, r, rows_delete);
	return o;
}

struct json_object *
ap_rows_new(const struct ap_col *cols, size_t stride)
{
	struct ap_rows *r = ap_xcalloc(1, sizeof(*r));

	r->cols = cols;
	while (cols[r->ncols].name != NULL)
		r->ncols++;
	r->stride = stride;
	return rows_object(r);
}

/* A projection of src (a source) onto props; takes map, nulled and nested. */
struct json_object *
ap_rows_view(struct json_object *src, const struct ap_prop *props, int *map, bool *nulled,
    struct json_object **nested)
{
	const struct ap_rows *s = json_object_get_userdata(src);
	struct ap_rows *r = ap_xcalloc(1, sizeof(*r));

	r->cols = s->cols;
	r->ncols = s->ncols;
	r->n = s->n;
	r->source = json_object_get(src);
	r->props = props;
	r->map = map;
	r->nulled = nulled;
	r->nested = nested;
	return rows_object(r);
}

void *
ap_rows_add(struct json_object *rows)
{
	struct ap_rows *r = json_object_get_userdata(rows);
	unsigned char *p;

	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 32;
		r->data = ap_xrealloc(r->data, r->cap * r->stride);
	}
	p = r->data + r->n++ * r->stride;
	memset(p, 0, r->stride);
	return p;
}

const char *
ap_rows_strdup(struct json_object *rows, const char *s)
{
	struct ap_rows *r = json_object_get_userdata(rows);

	if (s == NULL)
		return NULL;
	if (r->strs == NULL)
		r->strs = ap_arena_new();
	return ap_arena_strdup(r->strs, s);
}

const char *
ap_rows_strndup(struct json_object *rows, const char *s, size_t n)
{
	struct ap_rows *r = json_object_get_userdata(rows);

	if (r->strs == NULL)
		r->strs = ap_arena_new();
	return ap_arena_strndup(r->strs, s, n);
}

size_t
ap_rows_count(struct json_object *v)
{
	const struct ap_rows *r = ap_rows_of(v);

	return r ? r->n : 0;
}

int
ap_rows_col(const struct ap_rows *r, const char *name)
{
	for (size_t c = 0; c < r->ncols; c++)
		if (strcmp(r->cols[c].name, name) == 0)
			return (int)c;
	return -1;
}
