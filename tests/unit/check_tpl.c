/* check_tpl.c — template compiler and renderer. */
#include <sys/stat.h>

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "aapanel/tpl.h"

/* Compile text as template "t", render it with the JSON model; owned. */
static char *
render_with(const char *text, const char *json, ap_tpl_gettext_fn tr, void *trctx)
{
	struct ap_tpl_set *s = NULL;
	struct json_object *model = json ? json_tokener_parse(json) : NULL;
	struct ap_buf out = { 0 };
	char err[256] = "";
	enum ap_err rc;
	char *res;

	ck_assert_msg(json == NULL || model != NULL, "bad test JSON: %s", json);
	rc = ap_tpl_compile_string("t", text, &s, err, sizeof(err));
	ck_assert_msg(rc == AP_OK, "compile failed: %s", err);
	rc = ap_tpl_render(s, "t", model, tr, trctx, &out);
	ck_assert_int_eq(rc, AP_OK);
	res = ap_xstrdup(ap_buf_cstr(&out));
	ap_buf_free(&out);
	json_object_put(model);
	ap_tpl_free(s);
	return res;
}

static char *
render(const char *text, const char *json)
{
	return render_with(text, json, NULL, NULL);
}

#define CHECK_RENDER(text, json, want)                                      \
	do {                                                                \
		char *got_ = render((text), (json));                        \
		ck_assert_msg(strcmp(got_, (want)) == 0,                    \
		    "template %s: got \"%s\", want \"%s\"", (text), got_, (want)); \
		free(got_);                                                 \
	} while (0)

/* Compile several named templates as one set. */
static struct ap_tpl_set *
compile_set(const char *const *names, const char *const *texts, size_t n)
{
	struct ap_tpl_set *s = NULL;
	char err[256] = "";
	enum ap_err rc = ap_tpl_compile_strings(names, texts, n, &s, err, sizeof(err));

	ck_assert_msg(rc == AP_OK, "compile failed: %s", err);
	return s;
}

static char *
render_set(struct ap_tpl_set *s, const char *name, const char *json)
{
	struct json_object *model = json_tokener_parse(json);
	struct ap_buf out = { 0 };
	char *res;

	ck_assert_ptr_nonnull(model);
	ck_assert_int_eq(ap_tpl_render(s, name, model, NULL, NULL, &out), AP_OK);
	res = ap_xstrdup(ap_buf_cstr(&out));
	ap_buf_free(&out);
	json_object_put(model);
	return res;
}

/* ------------------------------------------------------------ escaping */

static const struct {
	const char *value; /* JSON string literal */
	const char *escaped;
	const char *raw;
} esc_rows[] = {
	{ "\"<\"", "&lt;", "<" },
	{ "\">\"", "&gt;", ">" },
	{ "\"&\"", "&amp;", "&" },
	{ "\"\\\"\"", "&quot;", "\"" },
	{ "\"'\"", "&#39;", "'" },
	{ "\"<a href=\\\"x\\\" title='y'>&amp;</a>\"",
	    "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;",
	    "<a href=\"x\" title='y'>&amp;</a>" },
	{ "\"<script>alert(1)</script>\"", "&lt;script&gt;alert(1)&lt;/script&gt;",
	    "<script>alert(1)</script>" },
	{ "\"لوحة تحكم الخادم\"", "لوحة تحكم الخادم", "لوحة تحكم الخادم" },
	{ "\"مرحبا <بك> & 'أهلا'\"", "مرحبا &lt;بك&gt; &amp; &#39;أهلا&#39;",
	    "مرحبا <بك> & 'أهلا'" },
	{ "\"plain text\"", "plain text", "plain text" },
	{ "\"\"", "", "" },
};

/* Render text with v = value marked raw by the handler (ap_tpl_mark_raw). */
static char *
render_marked(const char *text, const char *value_json)
{
	struct json_object *model = json_object_new_object();
	struct json_object *v = json_tokener_parse(value_json);
	struct ap_tpl_set *s = NULL;
	struct ap_buf out = { 0 };
	char err[256] = "";
	char *res;

	ap_tpl_mark_raw(v);
	json_object_object_add(model, "v", v);
	ck_assert_int_eq(ap_tpl_compile_string("t", text, &s, err, sizeof(err)), AP_OK);
	ck_assert_int_eq(ap_tpl_render(s, "t", model, NULL, NULL, &out), AP_OK);
	res = ap_xstrdup(ap_buf_cstr(&out));
	ap_buf_free(&out);
	json_object_put(model);
	ap_tpl_free(s);
	return res;
}

START_TEST(test_escape_table)
{
	char json[256], *got;

	snprintf(json, sizeof(json), "{\"v\": %s}", esc_rows[_i].value);
	CHECK_RENDER("{{v}}", json, esc_rows[_i].escaped);
	/* Raw output only for what a handler marked raw; anything else is escaped. */
	CHECK_RENDER("{{{v}}}", json, esc_rows[_i].escaped);
	CHECK_RENDER("{{& v}}", json, esc_rows[_i].escaped);
	got = render_marked("{{{v}}}", esc_rows[_i].value);
	ck_assert_str_eq(got, esc_rows[_i].raw);
	free(got);
	got = render_marked("{{& v}}", esc_rows[_i].value);
	ck_assert_str_eq(got, esc_rows[_i].raw);
	free(got);
	/* Marked raw, but printed with {{ }}: still escaped. */
	got = render_marked("{{v}}", esc_rows[_i].value);
	ck_assert_str_eq(got, esc_rows[_i].escaped);
	free(got);
}
END_TEST

/* ------------------------------------------------------------ filters */

static const char *
filter_tr(void *ctx, const char *msgid)
{
	(void)ctx;
	if (strcmp(msgid, "%s on %s") == 0)
		return "%s على %s";
	if (strcmp(msgid, "via\004api") == 0)
		return "واجهة <API>";
	return msgid;
}

static const struct {
	const char *text, *json, *want;
} filter_rows[] = {
	{ "{{t|time}}", "{\"t\":\"2026-12-01T07:36:05Z\"}",
	    "<time datetime=\"2026-12-01T07:36:05Z\" title=\"2026-12-01T07:36:05Z\" dir=\"ltr\">"
	    "2026-12-01 07:36 UTC</time>" },
	/* Not the panel's ISO form: shown as it is, escaped. */
	{ "{{t|time}}", "{\"t\":\"<b>\"}",
	    "<time datetime=\"&lt;b&gt;\" title=\"&lt;b&gt;\" dir=\"ltr\">&lt;b&gt;</time>" },
	/* No value, no element. */
	{ "[{{t|time}}]", "{\"t\":null}", "[]" },
	{ "[{{t|time}}]", "{}", "[]" },
	{ "{{u|ua}}", "{\"u\":\"Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/121.0\"}",
	    "<span class=\"ua\" title=\"Mozilla/5.0 (Windows NT 10.0) Gecko/20100101 Firefox/121.0\">"
	    "<bdi>Firefox</bdi> على <bdi>Windows</bdi></span>" },
	{ "{{u|ua}}", "{\"u\":\"curl/8.1 <x>\"}", "<span class=\"ua\" title=\"curl/8.1 &lt;x&gt;\"><bdi>curl</bdi></span>" },
	{ "{{v|tr:via}}", "{\"v\":\"api\"}", "واجهة &lt;API&gt;" },
	/* Untranslated codes show themselves, escaped. */
	{ "{{v|tr:via}}", "{\"v\":\"c<li>\"}", "c&lt;li&gt;" },
	{ "{{#xs}}{{.|tr:via}},{{/xs}}", "{\"xs\":[\"api\",\"ui\"]}", "واجهة &lt;API&gt;,ui," },
	/* Bytes in binary units, the exact count in title; not an integer: nothing. */
	{ "{{b|bytes}}", "{\"b\":512}", "<bdi dir=\"ltr\" title=\"512 B\">512 B</bdi>" },
	{ "{{b|bytes}}", "{\"b\":1536}", "<bdi dir=\"ltr\" title=\"1536 B\">1.5 KiB</bdi>" },
	{ "{{b|bytes}}", "{\"b\":25276502016}", "<bdi dir=\"ltr\" title=\"25276502016 B\">23.5 GiB</bdi>" },
	{ "[{{b|bytes}}]", "{\"b\":\"12\"}", "[]" },
	{ "[{{b|bytes}}]", "{\"b\":null}", "[]" },
};

START_TEST(test_filter_table)
{
	char *got = render_with(filter_rows[_i].text, filter_rows[_i].json, filter_tr, NULL);

	ck_assert_msg(strcmp(got, filter_rows[_i].want) == 0, "%s: got \"%s\", want \"%s\"",
	    filter_rows[_i].text, got, filter_rows[_i].want);
	free(got);
}
END_TEST

START_TEST(test_filter_errors_at_load)
{
	static const struct {
		const char *text, *err;
	} rows[] = {
		{ "{{x|nope}}", "t:1: unknown filter 'nope' (time, ua, bytes, tr:context)" },
		{ "{{x|tr}}", "t:1: filter 'tr' needs an argument (name|tr:context)" },
		{ "{{x|tr:}}", "t:1: filter 'tr' needs an argument (name|tr:context)" },
		{ "{{x|time:a}}", "t:1: filter 'time' takes no argument" },
		{ "{{x|tr:a b}}", "t:1: invalid filter argument 'a b'" },
		{ "{{|time}}", "t:1: unknown tag kind '|'" },
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++) {
		struct ap_tpl_set *s = NULL;
		char err[256] = "";

		ck_assert_int_ne(ap_tpl_compile_string("t", rows[i].text, &s, err, sizeof(err)), AP_OK);
		ck_assert_msg(strcmp(err, rows[i].err) == 0, "%s: %s", rows[i].text, err);
		ck_assert_ptr_null(s);
	}
}
END_TEST

START_TEST(test_escape_in_attribute)
{
	CHECK_RENDER("<a title=\"{{t}}\">", "{\"t\": \"\\\" onmouseover=\\\"x\"}",
	    "<a title=\"&quot; onmouseover=&quot;x\">");
}
END_TEST

START_TEST(test_template_text_not_escaped)
{
	CHECK_RENDER("<p class=\"a\">It's & <b>ok</b></p>", "{}",
	    "<p class=\"a\">It's & <b>ok</b></p>");
}
END_TEST

/* ----------------------------------------------------------- variables */

START_TEST(test_variable)
{
	CHECK_RENDER("Hello, {{name}}!", "{\"name\": \"world\"}", "Hello, world!");
}
END_TEST

START_TEST(test_variable_whitespace_in_tag)
{
	CHECK_RENDER("[{{ name }}][{{\tname\t}}]", "{\"name\": \"x\"}", "[x][x]");
}
END_TEST

START_TEST(test_dotted_names)
{
	CHECK_RENDER("{{app.name}} {{app.build.id}}",
	    "{\"app\": {\"name\": \"aaPanel\", \"build\": {\"id\": 7}}}", "aaPanel 7");
}
END_TEST

START_TEST(test_dotted_missing_is_empty)
{
	CHECK_RENDER("[{{a.b.c}}][{{a.x}}][{{z.y}}]", "{\"a\": {\"b\": 1}}", "[][][]");
}
END_TEST

START_TEST(test_dotted_no_fallback_after_first_segment)
{
	/* a.b resolves in the innermost "a"; a missing b there is empty. */
	CHECK_RENDER("{{#inner}}[{{a.b}}]{{/inner}}",
	    "{\"a\": {\"b\": \"outer\"}, \"inner\": {\"a\": {\"c\": 1}}}", "[]");
}
END_TEST

START_TEST(test_lookup_innermost_first)
{
	CHECK_RENDER("{{name}} {{#child}}{{name}}{{/child}} {{name}}",
	    "{\"name\": \"root\", \"child\": {\"name\": \"kid\"}}", "root kid root");
}
END_TEST

START_TEST(test_lookup_falls_back_outward)
{
	CHECK_RENDER("{{#items}}{{label}}:{{unit}} {{/items}}",
	    "{\"unit\": \"MB\", \"items\": [{\"label\": \"a\"}, {\"label\": \"b\", "
	    "\"unit\": \"GB\"}]}",
	    "a:MB b:GB ");
}
END_TEST

START_TEST(test_lookup_skips_scalar_contexts)
{
	CHECK_RENDER("{{#xs}}{{.}}{{sep}}{{/xs}}", "{\"sep\": \",\", \"xs\": [1, 2]}", "1,2,");
}
END_TEST

START_TEST(test_null_shadows_outer)
{
	CHECK_RENDER("{{#c}}[{{v}}]{{/c}}", "{\"v\": \"outer\", \"c\": {\"v\": null}}", "[]");
}
END_TEST

/* -------------------------------------------------------------- values */

static const struct {
	const char *json;
	const char *want;
} value_rows[] = {
	{ "0", "0" },
	{ "42", "42" },
	{ "-17", "-17" },
	{ "9223372036854775807", "9223372036854775807" },
	{ "18446744073709551615", "18446744073709551615" },
	{ "1.5", "1.5" },
	{ "0.1", "0.1" },
	{ "3.0", "3" },
	{ "-0.25", "-0.25" },
	{ "1e21", "1e+21" },
	{ "true", "true" },
	{ "false", "false" },
	{ "null", "" },
	{ "{\"a\": 1}", "" },
	{ "[1, 2]", "" },
	{ "\"text\"", "text" },
};

START_TEST(test_value_table)
{
	char json[128], want[128];

	snprintf(json, sizeof(json), "{\"v\": %s}", value_rows[_i].json);
	snprintf(want, sizeof(want), "[%s]", value_rows[_i].want);
	CHECK_RENDER("[{{v}}]", json, want);
}
END_TEST

START_TEST(test_missing_and_null_model)
{
	CHECK_RENDER("a{{nothing}}b", "{}", "ab");
	CHECK_RENDER("a{{nothing}}b{{#x}}X{{/x}}{{^x}}Y{{/x}}", NULL, "abY");
}
END_TEST

/* ------------------------------------------------------------ sections */

START_TEST(test_loop_array_of_objects)
{
	CHECK_RENDER("<ul>{{#sites}}<li>{{name}} ({{port}})</li>{{/sites}}</ul>",
	    "{\"sites\": [{\"name\": \"a.com\", \"port\": 80}, {\"name\": \"<b>\", "
	    "\"port\": 443}]}",
	    "<ul><li>a.com (80)</li><li>&lt;b&gt; (443)</li></ul>");
}
END_TEST

START_TEST(test_loop_array_of_scalars)
{
	CHECK_RENDER("{{#xs}}<{{.}}>{{/xs}}", "{\"xs\": [\"a\", 2, true, \"&\"]}",
	    "<a><2><true><&amp;>");
}
END_TEST

START_TEST(test_loop_empty_array_skipped)
{
	CHECK_RENDER("[{{#xs}}item{{/xs}}]", "{\"xs\": []}", "[]");
	CHECK_RENDER("[{{^xs}}none{{/xs}}]", "{\"xs\": []}", "[none]");
}
END_TEST

START_TEST(test_nested_loops)
{
	CHECK_RENDER("{{#rows}}{{#cells}}{{.}}{{/cells}};{{/rows}}",
	    "{\"rows\": [{\"cells\": [1, 2]}, {\"cells\": []}, {\"cells\": [3]}]}", "12;;3;");
}
END_TEST

START_TEST(test_object_section_pushes)
{
	CHECK_RENDER("{{#host}}{{hostname}} up {{uptime}}{{/host}}",
	    "{\"host\": {\"hostname\": \"srv1\", \"uptime\": \"3 days\"}}", "srv1 up 3 days");
}
END_TEST

START_TEST(test_dotted_section)
{
	CHECK_RENDER("{{#a.b}}[{{c}}]{{/a.b}}", "{\"a\": {\"b\": {\"c\": \"deep\"}}}", "[deep]");
}
END_TEST

START_TEST(test_truthy_scalar_once)
{
	CHECK_RENDER("{{#n}}<{{.}}>{{/n}}", "{\"n\": 5}", "<5>");
	CHECK_RENDER("{{#s}}<{{.}}>{{/s}}", "{\"s\": \"yes\"}", "<yes>");
}
END_TEST

static const struct {
	const char *json;
	bool truthy;
} truth_rows[] = {
	{ "false", false },
	{ "null", false },
	{ "\"\"", false },
	{ "0", false },
	{ "0.0", false },
	{ "[]", false },
	{ "true", true },
	{ "1", true },
	{ "-1", true },
	{ "0.5", true },
	{ "\"0\"", true },
	{ "\"x\"", true },
	{ "[0]", true },
	{ "{}", true },
};

START_TEST(test_truthiness_table)
{
	char json[64];

	snprintf(json, sizeof(json), "{\"v\": %s}", truth_rows[_i].json);
	CHECK_RENDER("{{#v}}Y{{/v}}{{^v}}N{{/v}}", json, truth_rows[_i].truthy ? "Y" : "N");
}
END_TEST

START_TEST(test_missing_section_is_falsy)
{
	CHECK_RENDER("{{#nope}}Y{{/nope}}{{^nope}}N{{/nope}}", "{}", "N");
}
END_TEST

START_TEST(test_comments_removed)
{
	CHECK_RENDER("a{{! a comment }}b{{!\nmulti\nline\n}}c", "{}", "abc");
}
END_TEST

START_TEST(test_standalone_lines_stripped)
{
	CHECK_RENDER("<ul>\n{{#xs}}\n<li>{{.}}</li>\n{{/xs}}\n</ul>\n", "{\"xs\": [1, 2]}",
	    "<ul>\n<li>1</li>\n<li>2</li>\n</ul>\n");
	CHECK_RENDER("a\n  {{! note }}  \nb", "{}", "a\nb");
}
END_TEST

START_TEST(test_inline_tags_keep_whitespace)
{
	CHECK_RENDER("a {{#x}} b {{/x}} c\n{{v}}\n", "{\"x\": true, \"v\": 1}", "a  b  c\n1\n");
}
END_TEST


/* ------------------------------------------- standalone lines, indentation */

/*
 * Mustache's whitespace rules (spec: sections, partials, ~inheritance): a
 * line holding only tags that print nothing, however many, vanishes with
 * its newline; a standalone partial or layout indents every line it
 * renders by the white space before its tag; a standalone block is
 * re-indented from its own indentation to its site's. Values are never
 * indented inside. names[0] is rendered.
 */
static const struct {
	const char *what;
	const char *names[4];
	const char *texts[4];
	const char *data;
	const char *want;
} ws_rows[] = {
	{ "two tags on a line leave no blank line", { "t" }, { "a\n{{#x}}{{/x}}\nb" }, "{}", "a\nb" },
	{ "close and open on one line", { "t" }, { "<ul>\n{{#a}}\nA\n{{/a}}{{#b}}\nB\n{{/b}}\n</ul>\n" },
	    "{\"a\": true, \"b\": true}", "<ul>\nA\nB\n</ul>\n" },
	{ "indented tags and blanks between them", { "t" }, { "a\n  {{#x}} {{^y}}  \nX\n{{/y}}{{/x}}\nb" },
	    "{\"x\": true}", "a\nX\nb" },
	{ "a comment with a section", { "t" }, { "{{! c }}{{#x}}\nY\n{{/x}}\n" }, "{\"x\": 1}", "Y\n" },
	{ "spec: standalone lines", { "t" }, { "| This Is\n{{#boolean}}\n|\n{{/boolean}}\n| A Line\n" },
	    "{\"boolean\": true}", "| This Is\n|\n| A Line\n" },
	{ "spec: indented standalone lines", { "t" }, { "| This Is\n  {{#boolean}}\n|\n  {{/boolean}}\n| A Line\n" },
	    "{\"boolean\": true}", "| This Is\n|\n| A Line\n" },
	{ "spec: \\r\\n line endings", { "t" }, { "|\r\n{{#boolean}}\r\n{{/boolean}}\r\n|" },
	    "{\"boolean\": true}", "|\r\n|" },
	{ "spec: without previous line", { "t" }, { "  {{#boolean}}\n#{{/boolean}}\n/" },
	    "{\"boolean\": true}", "#\n/" },
	{ "spec: without newline", { "t" }, { "#{{#boolean}}\n/\n  {{/boolean}}" }, "{\"boolean\": true}", "#\n/\n" },
	{ "spec: inline sections keep their blanks", { "t" },
	    { "  {{#boolean}}YES{{/boolean}}\n {{#boolean}}GOOD{{/boolean}}\n" }, "{\"boolean\": true}",
	    "  YES\n GOOD\n" },
	{ "a value makes the line a content line", { "t" }, { "{{#x}}{{v}}{{/x}}\n" }, "{\"x\": true, \"v\": 1}", "1\n" },
	{ "spec: partial standalone indentation (values not indented)", { "t", "partial" },
	    { "\\\n {{>partial}}\n/\n", "|\n{{{content}}}\n|\n" }, "{\"content\": \"<\\n->\"}",
	    /* {{{ }}} escapes what no handler marked raw */
	    "\\\n |\n &lt;\n-&gt;\n |\n/\n" },
	{ "spec: partial without previous line", { "t", "partial" }, { "  {{>partial}}\n>", ">\n>" }, "{}",
	    "  >\n  >>" },
	{ "spec: partial without newline", { "t", "partial" }, { ">\n  {{>partial}}", ">\n>" }, "{}",
	    ">\n  >\n  >" },
	{ "spec: inline partial is not indented", { "t", "partial" }, { "  {{data}}  {{> partial}}\n", ">\n>" },
	    "{\"data\": \"|\"}", "  |  >\n>\n" },
	{ "nested partials add up their indentation", { "t", "a", "b" },
	    { "  {{> a}}\n", "A\n  {{> b}}\n", "B1\nB2\n" }, "{}", "  A\n    B1\n    B2\n" },
	{ "blank lines of a partial stay blank", { "t", "p" }, { "  {{> p}}\n", "x\n\ny\n" }, "{}", "  x\n\n  y\n" },
	{ "translated text is indented like text", { "t", "p" }, { "\t{{> p}}\n", "{{_ Hi}}\n{{#x}}\n{{_ Yo}}\n{{/x}}\n" },
	    "{\"x\": true}", "\tHi\n\tYo\n" },
	{ "spec: standalone parent", { "t", "parent" }, { "Hi,\n  {{<parent}}{{/parent}}\n", "one\ntwo\n" }, "{}",
	    "Hi,\n  one\n  two\n" },
	{ "spec: standalone block", { "t", "parent" },
	    { "{{<parent}}{{$block}}\none\ntwo{{/block}}\n{{/parent}}\n", "Hi,\n  {{$block}}{{/block}}\n" }, "{}",
	    "Hi,\n  one\n  two\n" },
	{ "spec: block reindentation", { "t", "parent" },
	    { "{{<parent}}{{$block}}\n    one\n    two\n{{/block}}{{/parent}}\n", "Hi,\n  {{$block}}\n  {{/block}}\n" },
	    "{}", "Hi,\n  one\n  two\n" },
	{ "spec: intrinsic indentation", { "t", "parent" },
	    { "{{<parent}}{{$block}}\none\ntwo\n{{/block}}{{/parent}}\n", "Hi,\n{{$block}}\n  default\n{{/block}}\n" },
	    "{}", "Hi,\n  one\n  two\n" },
	{ "an indented default renders as written", { "t" }, { "Hi,\n{{$block}}\n  default\n{{/block}}\n" }, "{}",
	    "Hi,\n  default\n" },
	{ "spec: inherit indentation (inline block)", { "t", "parent" },
	    { "{{<parent}}{{$nineties}}hammer time{{/nineties}}{{/parent}}",
		"stop:\n  {{$nineties}}collaborate and listen{{/nineties}}\n" },
	    "{}", "stop:\n  hammer time\n" },
	{ "a page's content in an indented layout", { "page", "layout" },
	    { "{{< layout}}\n{{$content}}\n<h1>{{t}}</h1>\n{{#xs}}\n<p>{{.}}</p>\n{{/xs}}\n{{/content}}\n{{/layout}}\n",
		"<main>\n  {{$content}}\n  {{/content}}\n</main>\n" },
	    "{\"t\": \"T\", \"xs\": [1, 2]}", "<main>\n  <h1>T</h1>\n  <p>1</p>\n  <p>2</p>\n</main>\n" },
	{ "a partial inside an override is moved with it", { "page", "layout", "row" },
	    { "{{< layout}}\n{{$content}}\n    <tr>\n      {{> row}}\n    </tr>\n{{/content}}\n{{/layout}}\n",
		"<table>\n  {{$content}}\n  {{/content}}\n</table>\n", "<td>a</td>\n<td>b</td>\n" },
	    "{}", "<table>\n  <tr>\n    <td>a</td>\n    <td>b</td>\n  </tr>\n</table>\n" },
};

START_TEST(test_whitespace_table)
{
	size_t n = 0;
	struct ap_tpl_set *s;
	char *got;

	while (n < AP_NELEM(ws_rows[_i].names) && ws_rows[_i].names[n] != NULL)
		n++;
	s = compile_set(ws_rows[_i].names, ws_rows[_i].texts, n);
	got = render_set(s, ws_rows[_i].names[0], ws_rows[_i].data);
	ck_assert_msg(strcmp(got, ws_rows[_i].want) == 0, "%s: got \"%s\", want \"%s\"", ws_rows[_i].what,
	    got, ws_rows[_i].want);
	free(got);
	ap_tpl_free(s);
}
END_TEST

/* ----------------------------------------------------------- partials */

START_TEST(test_partial)
{
	const char *names[] = { "page", "partials/nav" };
	const char *texts[] = { "<body>{{> partials/nav}}</body>",
		"<nav>{{#links}}<a href=\"{{href}}\">{{label}}</a>{{/links}}</nav>" };
	struct ap_tpl_set *s = compile_set(names, texts, 2);
	char *got = render_set(s, "page",
	    "{\"links\": [{\"href\": \"/\", \"label\": \"Home\"}, {\"href\": \"/x?a=1&b=2\", "
	    "\"label\": \"X\"}]}");

	ck_assert_str_eq(got, "<body><nav><a href=\"/\">Home</a><a href=\"/x?a=1&amp;b=2\">"
	    "X</a></nav></body>");
	ck_assert(ap_tpl_has(s, "partials/nav"));
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_partial_short_name)
{
	const char *names[] = { "page", "partials/nav" };
	const char *texts[] = { "[{{> nav}}]", "nav" };
	struct ap_tpl_set *s = compile_set(names, texts, 2);
	char *got = render_set(s, "page", "{}");

	/* Relative to the templates dir first, then under partials/. */
	ck_assert_str_eq(got, "[nav]");
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_partial_uses_current_context)
{
	const char *names[] = { "list", "item" };
	const char *texts[] = { "{{#users}}{{> item}}{{/users}}", "<{{name}}@{{domain}}>" };
	struct ap_tpl_set *s = compile_set(names, texts, 2);
	char *got = render_set(s, "list",
	    "{\"domain\": \"ex.org\", \"users\": [{\"name\": \"a\"}, {\"name\": \"b\"}]}");

	ck_assert_str_eq(got, "<a@ex.org><b@ex.org>");
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_recursive_partial_tree)
{
	const char *names[] = { "tree" };
	const char *texts[] = { "({{name}}{{#kids}}{{> tree}}{{/kids}})" };
	struct ap_tpl_set *s = compile_set(names, texts, 1);
	char *got = render_set(s, "tree",
	    "{\"name\": \"r\", \"kids\": [{\"name\": \"a\", \"kids\": [{\"name\": \"a1\", \"kids\": []}]}, "
	    "{\"name\": \"b\", \"kids\": []}]}");

	ck_assert_str_eq(got, "(r(a(a1))(b))");
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_unbounded_partial_recursion_fails)
{
	const char *names[] = { "loop" };
	const char *texts[] = { "x{{> loop}}" };
	struct ap_tpl_set *s = compile_set(names, texts, 1);
	struct ap_buf out = { 0 };

	ap_buf_puts(&out, "before");
	ck_assert_int_eq(ap_tpl_render(s, "loop", NULL, NULL, NULL, &out), AP_ERR_TOOBIG);
	/* Nothing of the failed page is left in the buffer. */
	ck_assert_str_eq(ap_buf_cstr(&out), "before");
	ap_buf_free(&out);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_exponential_partials_bounded)
{
	const char *names[] = { "a" };
	const char *texts[] = { "{{> a}}{{> a}}{{> a}}" };
	struct ap_tpl_set *s = compile_set(names, texts, 1);
	struct ap_buf out = { 0 };

	ck_assert_int_eq(ap_tpl_render(s, "a", NULL, NULL, NULL, &out), AP_ERR_TOOBIG);
	ck_assert_uint_eq(out.len, 0);
	ap_buf_free(&out);
	ap_tpl_free(s);
}
END_TEST

/* -------------------------------------------------------- inheritance */

static const char *const layout_names[] = { "layout", "home", "about", "base", "mid", "leaf",
	"plain" };
static const char *const layout_texts[] = {
	"<title>{{$title}}Default{{/title}}</title>\n<main>{{$content}}empty{{/content}}</main>",
	"{{< layout}}\n{{$title}}Home of {{who}}{{/title}}\n{{$content}}<p>{{who}}</p>{{/content}}\n"
	"ignored text\n{{/layout}}\n",
	"{{< layout}}{{$content}}About{{/content}}{{/layout}}",
	"[{{$a}}base-a{{/a}}|{{$b}}base-b{{/b}}|{{$c}}base-c{{/c}}]",
	"{{< base}}{{$a}}mid-a{{/a}}{{$b}}mid-b{{/b}}{{/base}}",
	"{{< mid}}{{$a}}leaf-a{{/a}}{{/mid}}",
	"{{$title}}standalone default{{/title}}",
};

START_TEST(test_layout_overrides_blocks)
{
	struct ap_tpl_set *s = compile_set((const char *const *)layout_names,
	    (const char *const *)layout_texts, AP_NELEM(layout_names));
	char *got = render_set(s, "home", "{\"who\": \"<me>\"}");

	ck_assert_str_eq(got, "<title>Home of &lt;me&gt;</title>\n<main><p>&lt;me&gt;</p></main>");
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_layout_default_blocks)
{
	struct ap_tpl_set *s = compile_set((const char *const *)layout_names,
	    (const char *const *)layout_texts, AP_NELEM(layout_names));
	char *got = render_set(s, "about", "{}");

	ck_assert_str_eq(got, "<title>Default</title>\n<main>About</main>");
	free(got);
	got = render_set(s, "layout", "{}");
	ck_assert_str_eq(got, "<title>Default</title>\n<main>empty</main>");
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_layout_chain_outermost_wins)
{
	struct ap_tpl_set *s = compile_set((const char *const *)layout_names,
	    (const char *const *)layout_texts, AP_NELEM(layout_names));
	char *got = render_set(s, "leaf", "{}");

	ck_assert_str_eq(got, "[leaf-a|mid-b|base-c]");
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_block_without_layout_renders_default)
{
	struct ap_tpl_set *s = compile_set((const char *const *)layout_names,
	    (const char *const *)layout_texts, AP_NELEM(layout_names));
	char *got = render_set(s, "plain", "{}");

	ck_assert_str_eq(got, "standalone default");
	free(got);
	ap_tpl_free(s);
}
END_TEST

/* ------------------------------------------------------------ gettext */

struct tr_log {
	char last[128];
	int calls;
};

static const char *
test_tr(void *ctx, const char *msgid)
{
	struct tr_log *log = ctx;

	log->calls++;
	snprintf(log->last, sizeof(log->last), "%s", msgid);
	if (strcmp(msgid, "Hello") == 0)
		return "<Bonjour & \"salut\">";
	if (strcmp(msgid, "Server overview") == 0)
		return "نظرة عامة على الخادم";
	return msgid;
}

START_TEST(test_gettext_callback_trimmed_and_escaped)
{
	struct tr_log log = { "", 0 };
	char *got = render_with("<h1>{{_   Hello   }}</h1>", "{}", test_tr, &log);

	ck_assert_str_eq(got, "<h1>&lt;Bonjour &amp; &quot;salut&quot;&gt;</h1>");
	ck_assert_str_eq(log.last, "Hello");
	ck_assert_int_eq(log.calls, 1);
	free(got);
}
END_TEST

START_TEST(test_gettext_identity_without_callback)
{
	CHECK_RENDER("{{_ Tom & Jerry's}}", "{}", "Tom &amp; Jerry&#39;s");
}
END_TEST

START_TEST(test_gettext_folds_wrapped_text)
{
	struct tr_log log = { "", 0 };
	char *got = render_with("{{_ Server\n\t   overview}}", "{}", test_tr, &log);

	ck_assert_str_eq(log.last, "Server overview");
	ck_assert_str_eq(got, "نظرة عامة على الخادم");
	free(got);
}
END_TEST

/* A kept value's sections give the bytes they rendered the first time, wherever they are. */
START_TEST(test_kept_value_renders_the_same)
{
	static const char *const names[] = { "page", "partials/part", "layout" };
	static const char *const texts[] = {
		"{{< layout}}{{$body}}\n  {{> partials/part}}\n<ul>\n{{#list}}\n  <li>{{name}} {{_ Hi}}</li>\n{{/list}}\n</ul>\n{{/body}}{{/layout}}",
		"{{#obj}}\n<p>{{a}}\n{{#xs}}<i>{{.}}</i>{{/xs}}\n</p>\n{{/obj}}\n{{#obj}}[{{a}}]{{/obj}}",
		"<main>\n    {{$body}}{{/body}}\n</main>\n{{#obj}}<b>{{a}}</b>{{/obj}}",
	};
	struct ap_tpl_set *s = compile_set(names, texts, 3);
	const char *json = "{\"obj\": {\"a\": \"x & y\", \"xs\": [1, 2.5, \"<3>\"]},"
			   " \"list\": [{\"name\": \"one\"}, {\"name\": \"two\"}]}";
	struct json_object *m = json_tokener_parse(json), *v;
	char *want = render_set(s, "page", json);

	ck_assert_ptr_nonnull(json_object_object_get_ex(m, "obj", &v) ? v : NULL);
	ap_tpl_keep(v);
	ck_assert(json_object_object_get_ex(m, "list", &v));
	ap_tpl_keep(v);
	for (int i = 0; i < 3; i++) {
		struct ap_buf out = { 0 };

		ck_assert_int_eq(ap_tpl_render(s, "page", m, NULL, NULL, &out), AP_OK);
		ck_assert_str_eq(ap_buf_cstr(&out), want);
		ap_buf_free(&out);
	}
	free(want);
	json_object_put(m);
	ap_tpl_free(s);
}
END_TEST

/* Escaping straight into the output's spare room (a worker's reused buffer) is the
 * same as ap_buf_html_escape, wherever the special bytes fall in a word. */
START_TEST(test_escape_in_spare_room)
{
	static const char alphabet[] = "ab<>&\"'x\xd9\x85 /";
	struct ap_tpl_set *s = NULL;
	struct ap_buf out = { 0 }, want = { 0 };
	char err[256] = "";
	unsigned seed = 7;

	ck_assert_int_eq(ap_tpl_compile_string("t", "{{x}}|{{x}}", &s, err, sizeof(err)), AP_OK);
	ap_buf_append(&out, "", 0);
	for (int k = 0; k < 1 << 16; k++)
		ap_buf_putc(&out, ' ');
	for (int t = 0; t < 2000; t++) {
		char str[48];
		size_t n = (size_t)(t % 41);
		struct json_object *m = json_object_new_object();

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly plain letters: long runs, then a special byte. */
			str[i] = (seed >> 16) % 4 ? 'q' : alphabet[(seed >> 8) % (sizeof(alphabet) - 1)];
		}
		str[n] = '\0';
		json_object_object_add(m, "x", json_object_new_string(str));
		ap_buf_reset(&out);
		ck_assert_int_eq(ap_tpl_render(s, "t", m, NULL, NULL, &out), AP_OK);
		ap_buf_reset(&want);
		ap_buf_html_escape(&want, str, n);
		ap_buf_putc(&want, '|');
		ap_buf_html_escape(&want, str, n);
		ck_assert_str_eq(ap_buf_cstr(&out), ap_buf_cstr(&want));
		json_object_put(m);
	}
	ap_buf_free(&out);
	ap_buf_free(&want);
	ap_tpl_free(s);
}
END_TEST

/* A list's row text is translated once per render, not once per row (issue 19). */
START_TEST(test_gettext_in_loop_called_once)
{
	struct tr_log log = { "", 0 };
	char *got = render_with("{{#xs}}{{_ Hello}}|{{/xs}}", "{\"xs\": [1, 2, 3]}", test_tr, &log);

	ck_assert_int_eq(log.calls, 1);
	ck_assert_uint_eq(strlen(got), 3 * strlen("&lt;Bonjour &amp; &quot;salut&quot;&gt;|"));
	free(got);
}
END_TEST

/* ------------------------------------------------------- load errors */

static const struct {
	const char *text;
	const char *err;
} err_rows[] = {
	{ "{{#a}}x", "t:1: unclosed section 'a'" },
	{ "x\n\n{{^list}}\nnone", "t:3: unclosed section 'list'" },
	{ "x\n{{#a}}\n{{/b}}", "t:3: mismatched close 'b', expected 'a'" },
	{ "{{#a}}{{^b}}{{/a}}{{/b}}", "t:1: mismatched close 'a', expected 'b'" },
	{ "ok\n{{/a}}", "t:2: unexpected close 'a'" },
	{ "a\nb {{=<% %>=}}", "t:2: unknown tag kind '='" },
	{ "{{%x}}", "t:1: unknown tag kind '%'" },
	{ "{{@x}}", "t:1: unknown tag kind '@'" },
	{ "line1\nhi {{name", "t:2: unclosed tag" },
	{ "{{{raw}}", "t:1: unclosed tag" },
	{ "{{}}", "t:1: empty name" },
	{ "{{ }}", "t:1: empty name" },
	{ "{{#}}{{/}}", "t:1: empty name" },
	{ "{{>}}", "t:1: empty name" },
	{ "{{a b}}", "t:1: invalid name 'a b'" },
	{ "{{a..b}}", "t:1: invalid name 'a..b'" },
	{ "{{a.}}", "t:1: invalid name 'a.'" },
	{ "{{.a}}", "t:1: invalid name '.a'" },
	{ "{{{a<b}}}", "t:1: invalid name 'a<b'" },
	{ "{{#a\"}}{{/a\"}}", "t:1: invalid name 'a\"'" },
	{ "{{> ../etc/passwd}}", "t:1: invalid name '../etc/passwd'" },
	{ "{{$a b}}{{/a b}}", "t:1: invalid name 'a b'" },
	{ "x\n{{> missing}}", "t:2: unknown partial 'missing'" },
	{ "\n\n{{< nolayout}}{{/nolayout}}", "t:3: unknown layout 'nolayout'" },
	{ "{{$x}}", "t:1: unclosed block 'x'" },
	{ "{{< t}}", "t:1: unclosed layout 't'" },
	{ "{{_ }}", "t:1: empty translation text" },
	{ "{{_}}", "t:1: empty translation text" },
	{ "ok\n\xff\xfe", "t:2: invalid UTF-8" },
};

START_TEST(test_load_error_table)
{
	struct ap_tpl_set *s = (struct ap_tpl_set *)0x1;
	char err[256] = "";
	enum ap_err rc;

	rc = ap_tpl_compile_string("t", err_rows[_i].text, &s, err, sizeof(err));
	ck_assert_msg(rc == AP_ERR_PARSE, "row %d: rc %d", _i, rc);
	ck_assert_ptr_null(s);
	ck_assert_msg(strcmp(err, err_rows[_i].err) == 0, "row %d: got \"%s\", want \"%s\"",
	    _i, err, err_rows[_i].err);
}
END_TEST

START_TEST(test_nesting_limit)
{
	struct ap_buf src = { 0 };
	struct ap_tpl_set *s = NULL;
	char err[256];
	int i;

	/* 32 nested sections are fine... */
	for (i = 0; i < 32; i++)
		ap_buf_printf(&src, "{{#s%d}}\n", i);
	ap_buf_puts(&src, "{{v}}\n");
	for (i = 31; i >= 0; i--)
		ap_buf_printf(&src, "{{/s%d}}\n", i);
	ck_assert_int_eq(ap_tpl_compile_string("t", ap_buf_cstr(&src), &s, err, sizeof(err)), AP_OK);
	ap_tpl_free(s);
	/* ...a 33rd one is refused at its line. */
	ap_buf_reset(&src);
	for (i = 0; i < 33; i++)
		ap_buf_printf(&src, "{{#s%d}}\n", i);
	ck_assert_int_eq(ap_tpl_compile_string("t", ap_buf_cstr(&src), &s, err, sizeof(err)),
	    AP_ERR_PARSE);
	ck_assert_str_eq(err, "t:33: nesting too deep");
	ap_buf_free(&src);
}
END_TEST

START_TEST(test_deep_data_nesting_renders)
{
	struct ap_buf src = { 0 }, json = { 0 };
	int i;
	char *got;

	for (i = 0; i < 30; i++) {
		ap_buf_puts(&src, "{{#n}}");
		ap_buf_puts(&json, "{\"n\": ");
	}
	ap_buf_puts(&src, "{{leaf}}");
	ap_buf_puts(&json, "{\"leaf\": \"bottom\"}");
	for (i = 0; i < 30; i++) {
		ap_buf_puts(&src, "{{/n}}");
		ap_buf_puts(&json, "}");
	}
	got = render(ap_buf_cstr(&src), ap_buf_cstr(&json));
	ck_assert_str_eq(got, "bottom");
	free(got);
	ap_buf_free(&src);
	ap_buf_free(&json);
}
END_TEST

START_TEST(test_duplicate_template_name)
{
	const char *names[] = { "a", "a" };
	const char *texts[] = { "x", "y" };
	struct ap_tpl_set *s = NULL;
	char err[256];

	ck_assert_int_eq(ap_tpl_compile_strings(names, texts, 2, &s, err, sizeof(err)),
	    AP_ERR_PARSE);
	ck_assert_str_eq(err, "a:1: duplicate template 'a'");
	ck_assert_ptr_null(s);
}
END_TEST

/* ------------------------------------------------------------ render API */

START_TEST(test_render_unknown_template)
{
	struct ap_tpl_set *s = NULL;
	struct ap_buf out = { 0 };
	char err[64];

	ck_assert_int_eq(ap_tpl_compile_string("t", "x", &s, err, sizeof(err)), AP_OK);
	ck_assert(ap_tpl_has(s, "t"));
	ck_assert(!ap_tpl_has(s, "u"));
	ck_assert(!ap_tpl_has(NULL, "t"));
	ck_assert_int_eq(ap_tpl_render(s, "u", NULL, NULL, NULL, &out), AP_ERR_NOTFOUND);
	ck_assert_uint_eq(out.len, 0);
	ap_tpl_free(s);
	ap_tpl_free(NULL);
}
END_TEST

START_TEST(test_render_appends_and_is_repeatable)
{
	struct ap_tpl_set *s = NULL;
	struct json_object *m = json_tokener_parse("{\"n\": \"a&b\"}");
	struct ap_buf out = { 0 };
	char err[64];

	ck_assert_int_eq(ap_tpl_compile_string("t", "<{{n}}>", &s, err, sizeof(err)), AP_OK);
	ap_buf_puts(&out, "head:");
	ck_assert_int_eq(ap_tpl_render(s, "t", m, NULL, NULL, &out), AP_OK);
	ck_assert_int_eq(ap_tpl_render(s, "t", m, NULL, NULL, &out), AP_OK);
	ck_assert_str_eq(ap_buf_cstr(&out), "head:<a&amp;b><a&amp;b>");
	ap_buf_free(&out);
	json_object_put(m);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_empty_template)
{
	CHECK_RENDER("", "{}", "");
}
END_TEST

/* ------------------------------------------------------ directory load */

struct tmpdir {
	char root[64];
	char dir[96];
};

static void
write_file(const char *dir, const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
tmp_make(struct tmpdir *t)
{
	char sub[160];

	snprintf(t->root, sizeof(t->root), "/tmp/check_tpl.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/templates", t->root);
	ck_assert_int_eq(mkdir(t->dir, 0700), 0);
	snprintf(sub, sizeof(sub), "%s/partials", t->dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
}

static void
rm_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	char sub[512];

	if (d == NULL) {
		unlink(path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

START_TEST(test_load_dir)
{
	struct tmpdir t;
	struct ap_tpl_set *s = NULL;
	char err[256] = "";
	char *got;

	tmp_make(&t);
	write_file(t.dir, "page.html", "{{< layout}}{{$body}}{{> partials/hi}}{{/body}}{{/layout}}");
	write_file(t.dir, "layout.html", "<b>{{$body}}{{/body}}</b>");
	write_file(t.dir, "partials/hi.html", "hi {{who}}");
	write_file(t.dir, "notes.txt", "{{ignored");
	write_file(t.dir, ".hidden.html", "{{#broken");
	ck_assert_int_eq(ap_tpl_load(t.dir, &s, err, sizeof(err)), AP_OK);
	ck_assert(ap_tpl_has(s, "page"));
	ck_assert(ap_tpl_has(s, "partials/hi"));
	ck_assert(!ap_tpl_has(s, "notes"));
	got = render_set(s, "page", "{\"who\": \"<you>\"}");
	ck_assert_str_eq(got, "<b>hi &lt;you&gt;</b>");
	free(got);
	ap_tpl_free(s);
	rm_tree(t.root);
}
END_TEST

static const struct {
	const char *rel;
	const char *text;
	const char *err;
} dir_err_rows[] = {
	{ "page.html", "a\nb\n{{> partials/none}}", "templates/page.html:3: unknown partial "
	    "'partials/none'" },
	{ "partials/bad.html", "\n{{#x}}", "templates/partials/bad.html:2: unclosed section 'x'" },
	{ "home.html", "{{< layout}}\n{{/layout}}", "templates/home.html:1: unknown layout 'layout'" },
	{ "x.html", "ok\n{{x y}}", "templates/x.html:2: invalid name 'x y'" },
};

START_TEST(test_load_dir_errors)
{
	struct tmpdir t;
	struct ap_tpl_set *s = (struct ap_tpl_set *)0x1;
	char err[256] = "";

	tmp_make(&t);
	write_file(t.dir, "fine.html", "fine");
	write_file(t.dir, dir_err_rows[_i].rel, dir_err_rows[_i].text);
	ck_assert_int_eq(ap_tpl_load(t.dir, &s, err, sizeof(err)), AP_ERR_PARSE);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(err, dir_err_rows[_i].err);
	rm_tree(t.root);
}
END_TEST

START_TEST(test_load_missing_dir)
{
	struct ap_tpl_set *s = NULL;
	char err[256] = "";

	ck_assert_int_eq(ap_tpl_load("/nonexistent/templates", &s, err, sizeof(err)), AP_ERR_IO);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/templates"));
}
END_TEST

/* ------------------------------------------------------ real templates */

static const char *
srcdir(void)
{
	const char *d = getenv("AAPANEL_SRCDIR");

	return d && *d ? d : ".";
}

static struct ap_tpl_set *
load_real(void)
{
	struct ap_tpl_set *s = NULL;
	char dir[512], err[256] = "";

	snprintf(dir, sizeof(dir), "%s/templates", srcdir());
	ck_assert_msg(ap_tpl_load(dir, &s, err, sizeof(err)) == AP_OK, "load: %s", err);
	return s;
}

static const char *
sample_model(bool ar)
{
	return ar ?
	    "{\"app\": {\"name\": \"aaPanel\", \"version\": \"0.1.0\", \"profile\": "
	    "\"development\", \"base\": \"/panel\", \"static\": \"/static\"},"
	    "\"lang\": \"ar\", \"dir\": \"rtl\", \"title\": \"نظرة عامة على الخادم\","
	    "\"request_id\": \"0123abcd\","
	    "\"langs\": [{\"code\": \"en\", \"name\": \"English\", \"current\": false},"
	    "{\"code\": \"ar\", \"name\": \"العربية\", \"current\": true}],"
	    "\"host\": {\"hostname\": \"<b>evil</b>\", \"kernel\": \"6.1.0\", \"uptime\": "
	    "\"3 days\", \"load1\": 0.5, \"load5\": 0.25, \"load15\": 0.1, \"mem_total\": "
	    "\"7.6 GiB\", \"mem_used\": \"2.1 GiB\", \"mem_pct\": 27, \"cpus\": 4},"
	    "\"pool\": {\"workers\": 4, \"profile\": \"development\"}}" :
	    "{\"app\": {\"name\": \"aaPanel\", \"version\": \"0.1.0\", \"profile\": "
	    "\"development\", \"base\": \"\", \"static\": \"/static\"},"
	    "\"lang\": \"en\", \"dir\": \"ltr\", \"title\": \"Server <overview>\","
	    "\"request_id\": \"0123abcd\","
	    "\"langs\": [{\"code\": \"en\", \"name\": \"English\", \"current\": true},"
	    "{\"code\": \"ar\", \"name\": \"العربية\", \"current\": false}],"
	    "\"host\": {\"hostname\": \"<b>evil</b>\", \"kernel\": \"6.1.0 \\\"x\\\"\", "
	    "\"uptime\": \"3 days\", \"load1\": 0.5, \"load5\": 0.25, \"load15\": 0.1, "
	    "\"mem_total\": \"7.6 GiB\", \"mem_used\": \"2.1 GiB\", \"mem_pct\": 27.5, "
	    "\"cpus\": 4},"
	    "\"current\": {\"live\": true, \"mem_pct\": \"27.5%\", \"cpu\": \"3.0 %\"},"
	    "\"pool\": {\"workers\": 4, \"profile\": \"development\"}}";
}

START_TEST(test_real_templates_load)
{
	struct ap_tpl_set *s = load_real();

	ck_assert(ap_tpl_has(s, "layout"));
	ck_assert(ap_tpl_has(s, "home"));
	ck_assert(ap_tpl_has(s, "error"));
	ck_assert(ap_tpl_has(s, "partials/nav"));
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_real_home_en)
{
	struct ap_tpl_set *s = load_real();
	char *got = render_set(s, "home", sample_model(false));

	ck_assert_msg(strncmp(got, "<!doctype html>", 15) == 0, "%s", got);
	ck_assert_ptr_nonnull(strstr(got, "<html lang=\"en\" dir=\"ltr\">"));
	ck_assert_ptr_nonnull(strstr(got, "<title>Server &lt;overview&gt; · aaPanel</title>"));
	ck_assert_ptr_nonnull(strstr(got, "href=\"/static/css/app.css\""));
	ck_assert_ptr_nonnull(strstr(got, "&lt;b&gt;evil&lt;/b&gt;"));
	ck_assert_ptr_null(strstr(got, "<b>evil"));
	ck_assert_ptr_null(strstr(got, "\"x\""));
	ck_assert_ptr_nonnull(strstr(got, "27.5%"));
	ck_assert_ptr_nonnull(strstr(got, "action=\"/lang\""));
	ck_assert_ptr_nonnull(strstr(got, "name=\"lang\" value=\"ar\""));
	ck_assert_ptr_nonnull(strstr(got, "<code>0123abcd</code>"));
	ck_assert_ptr_nonnull(strstr(got, "This server now"));
	ck_assert_ptr_nonnull(strstr(got, "<script src=\"/static/js/app.js\" defer></script>"));
	ck_assert_ptr_null(strstr(got, "<script>"));
	ck_assert_ptr_null(strstr(got, "style="));
	ck_assert_msg(strlen(got) < 6144, "home page is %zu bytes", strlen(got));
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_real_home_ar_is_rtl)
{
	struct ap_tpl_set *s = load_real();
	struct json_object *m = json_tokener_parse(sample_model(true));
	struct ap_buf out = { 0 };
	struct tr_log log = { "", 0 };
	const char *html;

	ck_assert_int_eq(ap_tpl_render(s, "home", m, test_tr, &log, &out), AP_OK);
	html = ap_buf_cstr(&out);
	ck_assert_ptr_nonnull(strstr(html, "<html lang=\"ar\" dir=\"rtl\">"));
	ck_assert_ptr_nonnull(strstr(html, "<h1>نظرة عامة على الخادم</h1>"));
	ck_assert_ptr_nonnull(strstr(html, "href=\"/panel/\""));
	ck_assert_ptr_nonnull(strstr(html, "action=\"/panel/lang\""));
	ck_assert_ptr_nonnull(strstr(html, "العربية"));
	ck_assert(log.calls > 10);
	ap_buf_free(&out);
	json_object_put(m);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_real_error_page)
{
	struct ap_tpl_set *s = load_real();
	char *got = render_set(s, "error",
	    "{\"app\": {\"name\": \"aaPanel\", \"version\": \"0.1.0\", \"base\": \"\", "
	    "\"static\": \"/static\"}, \"lang\": \"en\", \"dir\": \"ltr\", \"title\": "
	    "\"Not Found\", \"request_id\": \"ff00\", \"langs\": [], \"error\": {\"status\": "
	    "404, \"title\": \"Not Found\", \"message\": \"No <page> here\", \"field\": "
	    "\"na'me\", \"reason\": \"is <bad>\"}}");

	ck_assert_ptr_nonnull(strstr(got, "<html lang=\"en\" dir=\"ltr\">"));
	ck_assert_ptr_nonnull(strstr(got, ">404<"));
	ck_assert_ptr_nonnull(strstr(got, "<h1>Not Found</h1>"));
	ck_assert_ptr_nonnull(strstr(got, "No &lt;page&gt; here"));
	ck_assert_ptr_nonnull(strstr(got, "<code dir=\"ltr\">na&#39;me</code> · is &lt;bad&gt;"));
	ck_assert_ptr_nonnull(strstr(got, "href=\"/\""));
	ck_assert_ptr_null(strstr(got, "<page>"));
	free(got);
	ap_tpl_free(s);
}
END_TEST

/* The reason's arguments are marked apart from the sentence (reason_parts). */
START_TEST(test_real_error_page_marks_arguments)
{
	struct ap_tpl_set *s = load_real();
	char *got = render_set(s, "error",
	    "{\"lang\": \"en\", \"dir\": \"ltr\", \"error\": {\"status\": 403, \"title\": "
	    "\"Forbidden\", \"message\": \"m\", \"reason\": \"permission users.read required\", "
	    "\"reason_parts\": [{\"text\": \"permission \", \"arg\": false}, {\"text\": \"users<.read\", "
	    "\"arg\": true}, {\"text\": \" required\", \"arg\": false}]}}");

	ck_assert_ptr_nonnull(strstr(got, ">permission <code dir=\"ltr\">users&lt;.read</code> required</p>"));
	ck_assert_ptr_null(strstr(got, "permission users.read required"));
	free(got);
	ap_tpl_free(s);
}
END_TEST

START_TEST(test_real_error_page_without_field)
{
	struct ap_tpl_set *s = load_real();
	char *got = render_set(s, "error",
	    "{\"lang\": \"en\", \"dir\": \"ltr\", \"error\": {\"status\": 500, \"title\": "
	    "\"Internal Server Error\", \"message\": \"m\"}}");

	ck_assert_ptr_nonnull(strstr(got, ">500<"));
	ck_assert_ptr_null(strstr(got, "alert-error"));
	free(got);
	ap_tpl_free(s);
}
END_TEST

/* " onclick=", " onload=" ... */
static bool
has_inline_handler(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, " on")) != NULL) {
		const char *q = p + 3;

		while (*q >= 'a' && *q <= 'z')
			q++;
		if (q > p + 3 && *q == '=')
			return true;
		p += 3;
	}
	return false;
}

/* CSP forbids inline scripts and styles: none may sneak into templates. */
START_TEST(test_real_templates_no_inline_script_or_style)
{
	static const char *const files[] = { "layout.html", "home.html", "error.html",
		"partials/nav.html", "partials/lang.html", "partials/footer.html" };
	char path[512], buf[16384];
	size_t i, n;
	FILE *f;

	for (i = 0; i < AP_NELEM(files); i++) {
		snprintf(path, sizeof(path), "%s/templates/%s", srcdir(), files[i]);
		f = fopen(path, "r");
		ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
		n = fread(buf, 1, sizeof(buf) - 1, f);
		buf[n] = '\0';
		fclose(f);
		/* Scripts only as files of our own (script-src 'self'), never inline. */
		for (const char *p = strstr(buf, "<script"); p != NULL; p = strstr(p + 1, "<script"))
			ck_assert_msg(strncmp(p, "<script src=\"{{app.static}}/js/", 30) == 0 &&
			    strstr(p, "></script>") != NULL && strchr(p, '>') == strstr(p, "></script>"),
			    "%s has an inline <script", files[i]);
		ck_assert_msg(strstr(buf, "style=") == NULL, "%s has style=", files[i]);
		ck_assert_msg(strstr(buf, "<style") == NULL, "%s has <style", files[i]);
		ck_assert_msg(!has_inline_handler(buf), "%s has an inline handler", files[i]);
		ck_assert_msg(strstr(buf, "http://") == NULL && strstr(buf, "https://") == NULL,
		    "%s loads something external", files[i]);
	}
}
END_TEST

/*
 * How many times slower than native the checks run: AAPANEL_TEST_SLOWDOWN
 * (1..1000), set by `make valgrind` (memcheck runs code some 50 times
 * slower); 1 otherwise. Timing bounds are multiplied by it.
 */
static uint64_t
test_slowdown(void)
{
	const char *s = getenv("AAPANEL_TEST_SLOWDOWN"), *why = NULL;
	long long v = 1;

	if (s == NULL || !ap_strtonum(s, 1, 1000, &v, &why))
		return 1;
	return (uint64_t)v;
}

/* This process's CPU time in µs: what rendering costs, whatever else shares the
 * cores (make unit runs two suites at a time, beside other work). */
static uint64_t
cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

START_TEST(test_render_speed)
{
	struct ap_tpl_set *s = load_real();
	struct json_object *m = json_tokener_parse(sample_model(false));
	struct ap_buf out = { 0 };
	uint64_t t0, us, bound = 250 * test_slowdown();
	int i, n = 2000;

	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		ap_buf_reset(&out);
		ck_assert_int_eq(ap_tpl_render(s, "home", m, NULL, NULL, &out), AP_OK);
	}
	us = cpu_us() - t0;
	/* A few µs optimised; generous so sanitizer builds pass too. */
	ck_assert_msg(us / (uint64_t)n < bound, "%llu us per render (bound %llu)",
	    (unsigned long long)(us / (uint64_t)n), (unsigned long long)bound);
	ap_buf_free(&out);
	json_object_put(m);
	ap_tpl_free(s);
}
END_TEST

static Suite *
tpl_suite(void)
{
	Suite *s = suite_create("tpl");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_filter_table, 0, (int)AP_NELEM(filter_rows));
	tcase_add_test(tc, test_filter_errors_at_load);
	tcase_add_loop_test(tc, test_escape_table, 0, AP_NELEM(esc_rows));
	tcase_add_test(tc, test_escape_in_attribute);
	tcase_add_test(tc, test_template_text_not_escaped);
	tcase_add_test(tc, test_variable);
	tcase_add_test(tc, test_variable_whitespace_in_tag);
	tcase_add_test(tc, test_dotted_names);
	tcase_add_test(tc, test_dotted_missing_is_empty);
	tcase_add_test(tc, test_dotted_no_fallback_after_first_segment);
	tcase_add_test(tc, test_lookup_innermost_first);
	tcase_add_test(tc, test_lookup_falls_back_outward);
	tcase_add_test(tc, test_lookup_skips_scalar_contexts);
	tcase_add_test(tc, test_null_shadows_outer);
	tcase_add_loop_test(tc, test_value_table, 0, AP_NELEM(value_rows));
	tcase_add_test(tc, test_missing_and_null_model);
	tcase_add_test(tc, test_loop_array_of_objects);
	tcase_add_test(tc, test_loop_array_of_scalars);
	tcase_add_test(tc, test_loop_empty_array_skipped);
	tcase_add_test(tc, test_nested_loops);
	tcase_add_test(tc, test_object_section_pushes);
	tcase_add_test(tc, test_dotted_section);
	tcase_add_test(tc, test_truthy_scalar_once);
	tcase_add_loop_test(tc, test_truthiness_table, 0, AP_NELEM(truth_rows));
	tcase_add_test(tc, test_missing_section_is_falsy);
	tcase_add_test(tc, test_comments_removed);
	tcase_add_test(tc, test_standalone_lines_stripped);
	tcase_add_test(tc, test_inline_tags_keep_whitespace);
	tcase_add_loop_test(tc, test_whitespace_table, 0, (int)AP_NELEM(ws_rows));
	tcase_add_test(tc, test_partial);
	tcase_add_test(tc, test_partial_short_name);
	tcase_add_test(tc, test_partial_uses_current_context);
	tcase_add_test(tc, test_recursive_partial_tree);
	tcase_add_test(tc, test_unbounded_partial_recursion_fails);
	tcase_add_test(tc, test_exponential_partials_bounded);
	tcase_add_test(tc, test_layout_overrides_blocks);
	tcase_add_test(tc, test_layout_default_blocks);
	tcase_add_test(tc, test_layout_chain_outermost_wins);
	tcase_add_test(tc, test_block_without_layout_renders_default);
	tcase_add_test(tc, test_gettext_callback_trimmed_and_escaped);
	tcase_add_test(tc, test_gettext_identity_without_callback);
	tcase_add_test(tc, test_gettext_folds_wrapped_text);
	tcase_add_test(tc, test_gettext_in_loop_called_once);
	tcase_add_test(tc, test_kept_value_renders_the_same);
	tcase_add_test(tc, test_escape_in_spare_room);
	tcase_add_loop_test(tc, test_load_error_table, 0, AP_NELEM(err_rows));
	tcase_add_test(tc, test_nesting_limit);
	tcase_add_test(tc, test_deep_data_nesting_renders);
	tcase_add_test(tc, test_duplicate_template_name);
	tcase_add_test(tc, test_render_unknown_template);
	tcase_add_test(tc, test_render_appends_and_is_repeatable);
	tcase_add_test(tc, test_empty_template);
	tcase_add_test(tc, test_load_dir);
	tcase_add_loop_test(tc, test_load_dir_errors, 0, AP_NELEM(dir_err_rows));
	tcase_add_test(tc, test_load_missing_dir);
	tcase_add_test(tc, test_real_templates_load);
	tcase_add_test(tc, test_real_home_en);
	tcase_add_test(tc, test_real_home_ar_is_rtl);
	tcase_add_test(tc, test_real_error_page);
	tcase_add_test(tc, test_real_error_page_marks_arguments);
	tcase_add_test(tc, test_real_error_page_without_field);
	tcase_add_test(tc, test_real_templates_no_inline_script_or_style);
	tcase_add_test(tc, test_render_speed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(tpl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
