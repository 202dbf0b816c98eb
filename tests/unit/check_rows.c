/*
 * check_rows.c — the typed row source (rows.h): the same rows given as
 * C structs and as json-c objects must give the same bytes, in the
 * template engine, in the answer's projection and in every JSON writing.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aapanel/common.h"
#include "aapanel/rows.h"
#include "aapanel/schema.h"
#include "aapanel/tpl.h"

struct item {
	int64_t id, size, at, dur;
	const char *name, *note, *secret;
	bool on;
	struct json_object *tags;
	double ratio;
};

static const struct ap_col item_cols[] = {
	AP_COL(struct item, id, AP_COL_INT),
	AP_COL(struct item, name, AP_COL_STR),
	AP_COL(struct item, note, AP_COL_STR),
	AP_COL(struct item, on, AP_COL_BOOL),
	AP_COL(struct item, size, AP_COL_INT),
	AP_COL(struct item, at, AP_COL_TIME),
	AP_COL(struct item, tags, AP_COL_JSON),
	AP_COL(struct item, secret, AP_COL_STR),
	AP_COL(struct item, dur, AP_COL_INTN),
	AP_COL(struct item, ratio, AP_COL_DOUBLE),
	AP_COL_END,
};

static const struct ap_prop tag_props[] = {
	{ .name = "t", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema tag_schema = { .name = "Tag", .props = tag_props };
/* In another order than the columns, one column (size) left out, one member optional. */
static const struct ap_prop item_props[] = {
	{ .name = "name", .type = AP_J_STRING },
	{ .name = "id", .type = AP_J_INT },
	{ .name = "at", .type = AP_J_TIME, .flags = AP_J_NULL },
	{ .name = "note", .type = AP_J_STRING, .flags = AP_J_NULL },
	{ .name = "on", .type = AP_J_BOOL },
	{ .name = "tags", .type = AP_J_ARRAY, .of = &tag_schema, .flags = AP_J_NULL },
	{ .name = "secret", .type = AP_J_STRING, .flags = AP_J_SECRET },
	{ .name = "hint", .type = AP_J_STRING, .flags = AP_J_OPT },
	{ .name = "dur", .type = AP_J_INT, .flags = AP_J_NULL },
	{ .name = "ratio", .type = AP_J_NUMBER, .flags = AP_J_NULL },
	AP_PROP_END,
};
static const struct ap_schema item_schema = { .name = "Item", .props = item_props };
static const struct ap_prop list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &item_schema },
	AP_PROP_END,
};
static const struct ap_schema list_schema = { .name = "ItemList", .props = list_props };

/* Names with every byte JSON and HTML escape, Arabic, and an empty one. */
static const char *const names[] = {
	"site-001", "<b>\"Tom\" & 'Jerry'</b>", "مرحبا بالعالم", "", "a\\b/c\n\t\r\b\f\x01\x1f\x7f",
};

/* Doubles json-c writes in every way it has: whole, short, long, tiny, huge, negative, NaN (null). */
static const double ratios[] = { 0.0, 0.1, 12.5, 100.0, 1e-300, 1.7976931348623157e308, -2.25,
	1.0 / 3.0, 12345678.9, NAN, -0.0, 99.99 };

static struct item
nth(int i, struct json_object *tags)
{
	struct item it = {
		.id = i + 1,
		.size = (int64_t)i * 1536 - 3,
		.at = i % 2 ? 1796112965 + i : 0,
		.name = names[i % AP_NELEM(names)],
		.note = i % 3 ? NULL : "a note",
		.secret = "s3cret",
		.on = i % 3 != 0,
		.tags = tags,
		.dur = i % 2 ? AP_ROWS_NULL : -i,
		.ratio = ratios[i % AP_NELEM(ratios)],
	};
	return it;
}

static struct json_object *
tags_of(int i)
{
	struct json_object *a, *t;

	if (i % 4 == 3)
		return NULL;
	a = json_object_new_array();
	for (int k = 0; k < i % 3; k++) {
		t = json_object_new_object();
		json_object_object_add(t, "t", json_object_new_string(k ? "x<y" : "tag"));
		json_object_object_add(t, "dropped", json_object_new_int(k));
		json_object_array_add(a, t);
	}
	return a;
}

/* The rows both ways: a model {"items": rows-or-array, "title": ...}. */
static struct json_object *
model(int n, bool typed)
{
	struct json_object *m = json_object_new_object(), *arr;

	if (typed) {
		arr = ap_rows_new(item_cols, sizeof(struct item));
		for (int i = 0; i < n; i++) {
			struct item *v = ap_rows_add(arr);

			*v = nth(i, tags_of(i));
			/* Copies outlive what they were made from. */
			v->name = ap_rows_strdup(arr, v->name);
		}
	} else {
		arr = json_object_new_array();
		for (int i = 0; i < n; i++) {
			struct item it = nth(i, tags_of(i));
			struct json_object *o = json_object_new_object();
			char iso[32];
			size_t tl = ap_rows_fmt_time(it.at, iso);

			json_object_object_add(o, "id", json_object_new_int64(it.id));
			json_object_object_add(o, "name", json_object_new_string(it.name));
			json_object_object_add(o, "note", it.note ? json_object_new_string(it.note) : NULL);
			json_object_object_add(o, "on", json_object_new_boolean(it.on));
			json_object_object_add(o, "size", json_object_new_int64(it.size));
			json_object_object_add(o, "at", tl ? json_object_new_string_len(iso, (int)tl) : NULL);
			json_object_object_add(o, "tags", it.tags);
			json_object_object_add(o, "secret", json_object_new_string(it.secret));
			json_object_object_add(o, "dur", it.dur == AP_ROWS_NULL ? NULL : json_object_new_int64(it.dur));
			json_object_object_add(o, "ratio", isnan(it.ratio) ? NULL : json_object_new_double(it.ratio));
			json_object_array_add(arr, o);
		}
	}
	json_object_object_add(m, "items", arr);
	json_object_object_add(m, "title", json_object_new_string("Sites & more"));
	return m;
}

START_TEST(test_string_escapes_as_json_c)
{
	char s[2] = { 0, 0 };

	for (int c = 1; c < 256; c++) {
		struct json_object *j;
		struct printbuf *pb = printbuf_new();

		s[0] = (char)c;
		j = json_object_new_string(s);
		ap_rows_json_str(pb, s, 1);
		ck_assert_msg(strcmp(pb->buf, json_object_to_json_string_ext(j, JSON_C_TO_STRING_NOSLASHESCAPE)) == 0,
		    "byte %d: %s", c, pb->buf);
		json_object_put(j);
		printbuf_free(pb);
	}
}
END_TEST

static const int flag_sets[] = {
	JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	JSON_C_TO_STRING_PLAIN,
	JSON_C_TO_STRING_SPACED,
	JSON_C_TO_STRING_PRETTY,
	JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB,
};

/* Unprojected (logs, a model printed whole): every column in its order. */
START_TEST(test_json_as_objects)
{
	for (int n = 0; n <= 12; n += 12) {
		struct json_object *a = model(n, true), *b = model(n, false);
		const char *ta = json_object_to_json_string_ext(a, flag_sets[_i]);
		const char *tb = json_object_to_json_string_ext(b, flag_sets[_i]);

		if (flag_sets[_i] & JSON_C_TO_STRING_PRETTY) {
			/* Pretty: nested values of a cell are written flat; compare without white space. */
			struct json_object *pa = json_tokener_parse(ta), *pb = json_tokener_parse(tb);

			ck_assert_ptr_nonnull(pa);
			ck_assert(json_object_equal(pa, pb));
			json_object_put(pa);
			json_object_put(pb);
		} else {
			ck_assert_msg(strcmp(ta, tb) == 0, "flags %d:\n%s\n%s", flag_sets[_i], ta, tb);
		}
		json_object_put(a);
		json_object_put(b);
	}
}
END_TEST

/* The answer: projected onto the schema (order, left-out columns, secrets, nested items). */
START_TEST(test_projection_as_objects)
{
	for (int secrets = 0; secrets < 2; secrets++) {
		for (int n = 0; n <= 12; n += 12) {
			struct json_object *a = model(n, true), *b = model(n, false), *pa, *pb;
			char why[200];

			ck_assert_msg(ap_schema_project(&list_schema, a, secrets, &pa, why, sizeof(why)), "%s", why);
			ck_assert_msg(ap_schema_project(&list_schema, b, secrets, &pb, why, sizeof(why)), "%s", why);
			ck_assert_str_eq(json_object_to_json_string_ext(pa, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			    json_object_to_json_string_ext(pb, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			if (n > 0 && !secrets)
				ck_assert_ptr_nonnull(strstr(json_object_to_json_string(pa), "\"secret\": null"));
			/* The projection holds the rows: the model may go first. */
			json_object_put(a);
			ck_assert_ptr_nonnull(json_object_to_json_string(pa));
			json_object_put(pa);
			json_object_put(pb);
			json_object_put(b);
		}
	}
}
END_TEST

static const struct ap_prop strict_props[] = {
	{ .name = "id", .type = AP_J_INT },
	{ .name = "note", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema strict_schema = { .name = "Strict", .props = strict_props };
static const struct ap_prop strict_list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &strict_schema },
	AP_PROP_END,
};
static const struct ap_schema strict_list = { .name = "StrictList", .props = strict_list_props };
static const struct ap_prop wrong_props[] = {
	{ .name = "name", .type = AP_J_INT },
	AP_PROP_END,
};
static const struct ap_schema wrong_schema = { .name = "Wrong", .props = wrong_props };
static const struct ap_prop wrong_list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &wrong_schema },
	AP_PROP_END,
};
static const struct ap_schema wrong_list = { .name = "WrongList", .props = wrong_list_props };
static const struct ap_prop missing_props[] = {
	{ .name = "absent", .type = AP_J_STRING },
	AP_PROP_END,
};
static const struct ap_schema missing_schema = { .name = "Missing", .props = missing_props };
static const struct ap_prop missing_list_props[] = {
	{ .name = "items", .type = AP_J_ARRAY, .of = &missing_schema },
	AP_PROP_END,
};
static const struct ap_schema missing_list = { .name = "MissingList", .props = missing_list_props };

/* A mismatch is reported as for objects: the row and the member. */
START_TEST(test_projection_mismatch_names_row_and_member)
{
	static const struct {
		const struct ap_schema *s;
		const char *why;
	} cases[] = {
		{ &strict_list, "items[1].note: expected string, got null" },
		{ &wrong_list, "items[0].name: expected integer, got \"site-001\"" },
		{ &missing_list, "items[0].absent: expected a member here, got null" },
	};

	for (size_t c = 0; c < AP_NELEM(cases); c++) {
		struct json_object *a = model(3, true), *b = model(3, false), *pa, *pb;
		char wa[200], wb[200];

		ck_assert(!ap_schema_project(cases[c].s, a, true, &pa, wa, sizeof(wa)));
		ck_assert(!ap_schema_project(cases[c].s, b, true, &pb, wb, sizeof(wb)));
		ck_assert_str_eq(wb, cases[c].why);
		if (c == 1) /* the cell's own text, as an object's member shows it */
			ck_assert_str_eq(wa, "items[0].name: expected integer, got \"site-001\"");
		else
			ck_assert_str_eq(wa, wb);
		json_object_put(pa);
		json_object_put(pb);
		json_object_put(a);
		json_object_put(b);
	}
}
END_TEST

static const char tpl_text[] =
    "<h1>{{title}}</h1>{{#items}}<tr data-id=\"{{id}}\"><td>{{name}}</td>"
    "<td>{{#note}}[{{note}}]{{/note}}{{^note}}-{{/note}}</td>"
    "<td>{{#on}}on {{title}}{{/on}}{{^on}}off{{/on}}</td><td>{{size|bytes}}</td><td>{{at|time}}</td>"
    "<td>{{at}}|{{on}}|{{secret}}</td><td>{{#tags}}<i>{{t}}</i>{{/tags}}{{^tags}}none{{/tags}}</td>"
    "<td>{{tags.0.t}}{{.}}{{missing}}{{dur}}{{#dur}}+{{/dur}}{{^dur}}-{{/dur}}</td><td>{{ratio}}{{#ratio}}!{{/ratio}}{{^ratio}}0{{/ratio}}</td></tr>\n{{/items}}{{^items}}<p>empty</p>{{/items}}";

static char *
render(struct json_object *m)
{
	struct ap_tpl_set *s = NULL;
	struct ap_buf out = { 0 };
	char err[256] = "";
	char *res;

	ck_assert_msg(ap_tpl_compile_string("t", tpl_text, &s, err, sizeof(err)) == AP_OK, "%s", err);
	ck_assert_int_eq(ap_tpl_render(s, "t", m, NULL, NULL, &out), AP_OK);
	res = ap_xstrdup(ap_buf_cstr(&out));
	ap_buf_free(&out);
	ap_tpl_free(s);
	return res;
}

START_TEST(test_template_as_objects)
{
	for (int n = 0; n <= 12; n += 12) {
		struct json_object *a = model(n, true), *b = model(n, false);
		char *ha = render(a), *hb = render(b);

		ck_assert_msg(strcmp(ha, hb) == 0, "typed:\n%s\nobjects:\n%s", ha, hb);
		ck_assert_ptr_nonnull(strstr(ha, n ? "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;" : "<p>empty</p>"));
		free(ha);
		free(hb);
		json_object_put(a);
		json_object_put(b);
	}
}
END_TEST

START_TEST(test_rows_count_and_of)
{
	struct json_object *r = ap_rows_new(item_cols, sizeof(struct item)), *plain = json_object_new_array();

	ck_assert_ptr_nonnull(ap_rows_of(r));
	ck_assert_ptr_null(ap_rows_of(plain));
	ck_assert_uint_eq(ap_rows_count(r), 0);
	for (int i = 0; i < 100; i++)
		((struct item *)ap_rows_add(r))->id = i;
	ck_assert_uint_eq(ap_rows_count(r), 100);
	ck_assert_int_eq(((const struct item *)ap_rows_row(ap_rows_of(r), 99))->id, 99);
	ck_assert_int_eq(ap_rows_col(ap_rows_of(r), "at"), 5);
	ck_assert_int_eq(ap_rows_col(ap_rows_of(r), "nope"), -1);
	json_object_put(r);
	r = ap_rows_new(item_cols, 1);
	ck_assert_str_eq(json_object_to_json_string_ext(r, 0), "[]");
	ck_assert_str_eq(json_object_to_json_string_ext(r, JSON_C_TO_STRING_SPACED), "[ ]");
	json_object_put(r);
	json_object_put(plain);
}
END_TEST

/* ap_rows_strndup: the n bytes, terminated, living as long as the rows (a log line's part). */
START_TEST(test_rows_strndup)
{
	struct json_object *r = ap_rows_new(item_cols, sizeof(struct item));
	char line[] = "GET /x req=0123abcd <&> tail";
	struct item *v = ap_rows_add(r);
	const char *pre = ap_rows_strndup(r, line, 11), *empty = ap_rows_strndup(r, line, 0);

	ck_assert_str_eq(pre, "GET /x req=");
	ck_assert_str_eq(empty, "");
	v->name = ap_rows_strndup(r, line + 11, 8);
	v->note = ap_rows_strndup(r, line + 20, 3);
	memset(line, 'x', sizeof(line) - 1); /* the copies are the rows' own */
	ck_assert_str_eq(pre, "GET /x req=");
	ck_assert_str_eq(v->name, "0123abcd");
	ck_assert_str_eq(v->note, "<&>");
	json_object_put(r);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("rows");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_string_escapes_as_json_c);
	tcase_add_loop_test(tc, test_json_as_objects, 0, (int)AP_NELEM(flag_sets));
	tcase_add_test(tc, test_projection_as_objects);
	tcase_add_test(tc, test_projection_mismatch_names_row_and_member);
	tcase_add_test(tc, test_template_as_objects);
	tcase_add_test(tc, test_rows_count_and_of);
	tcase_add_test(tc, test_rows_strndup);
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
