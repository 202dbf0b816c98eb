/* check_i18n.c — .po catalogs, lookups and language negotiation. */
#include <sys/stat.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/i18n.h"

struct tmp {
	char root[64];
	char dir[96];
};

static void
tmp_make(struct tmp *t)
{
	snprintf(t->root, sizeof(t->root), "/tmp/check_i18n.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->root));
	snprintf(t->dir, sizeof(t->dir), "%s/po", t->root);
	ck_assert_int_eq(mkdir(t->dir, 0700), 0);
}

static void
tmp_write(const struct tmp *t, const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void
tmp_remove(const struct tmp *t, const char *const *names, size_t n)
{
	char path[160];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", t->dir, names[i]);
		unlink(path);
	}
	rmdir(t->dir);
	rmdir(t->root);
}

/* Load text as po/xx.po; returns the load result, catalog in *out. */
static enum ap_err
load_one(const char *text, struct ap_i18n **out, char *err, size_t errlen)
{
	static const char *const names[] = { "xx.po" };
	struct tmp t;
	enum ap_err rc;

	tmp_make(&t);
	tmp_write(&t, "xx.po", text);
	rc = ap_i18n_load(t.dir, out, err, errlen);
	tmp_remove(&t, names, 1);
	return rc;
}

#define HEADER                                                                   \
	"# Test catalog\n"                                                       \
	"#, fuzzy\n"                                                             \
	"msgid \"\"\n"                                                           \
	"msgstr \"\"\n"                                                          \
	"\"Content-Type: text/plain; charset=UTF-8\\n\"\n"                       \
	"\"Language: xx\\n\"\n"                                                  \
	"\n"

/* ------------------------------------------------------------- parsing */

static const struct {
	const char *po;
	const char *msgid;
	const char *want; /* NULL: falls back to msgid */
} parse_rows[] = {
	{ HEADER "msgid \"Home\"\nmsgstr \"الرئيسية\"\n", "Home", "الرئيسية" },
	{ HEADER "msgid \"\"\n\"Hello \"\n\"world\"\nmsgstr \"\"\n\"Bonjour \"\n\"le monde\"\n",
	    "Hello world", "Bonjour le monde" },
	{ HEADER "msgid \"a\\nb\\tc\"\nmsgstr \"x\\\"y\\\\z\\n\"\n", "a\nb\tc", "x\"y\\z\n" },
	{ HEADER "#, fuzzy\nmsgid \"Rough\"\nmsgstr \"Guess\"\n", "Rough", NULL },
	{ HEADER "#, c-format, fuzzy\nmsgid \"Rough\"\nmsgstr \"Guess\"\n", "Rough", NULL },
	{ HEADER "#, fuzzy\nmsgid \"A\"\nmsgstr \"a\"\n\nmsgid \"B\"\nmsgstr \"b\"\n", "B", "b" },
	/* regression: "fuzzy" was matched as a substring, so "#, no-fuzzy-format" dropped the entry */
	{ HEADER "#, no-fuzzy-format\nmsgid \"Sure\"\nmsgstr \"Certain\"\n", "Sure", "Certain" },
	{ HEADER "#,fuzzy,c-format\nmsgid \"Rough\"\nmsgstr \"Guess\"\n", "Rough", NULL },
	{ HEADER "msgid \"Untranslated\"\nmsgstr \"\"\n", "Untranslated", NULL },
	{ HEADER "msgid \"file\"\nmsgid_plural \"files\"\nmsgstr[0] \"ملف\"\n"
	    "msgstr[1] \"ملفان\"\nmsgstr[2] \"ملفات\"\n", "file", "ملف" },
	{ HEADER "msgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"Ouvrir\"\n", "Open", NULL },
	{ HEADER "msgctxt \"menu\"\nmsgid \"Open\"\nmsgstr \"Ouvrir\"\n", "menu\004Open", "Ouvrir" },
	{ HEADER "# translator comment\n#. extracted\n#: templates/home.html:3\n"
	    "msgid \"Kernel\"\nmsgstr \"النواة\"\n", "Kernel", "النواة" },
	{ HEADER "#~ msgid \"Old\"\n#~ msgstr \"Ancien\"\nmsgid \"New\"\nmsgstr \"Neuf\"\n",
	    "Old", NULL },
	{ HEADER "msgid \"CRLF\"\r\nmsgstr \"ok\"\r\n", "CRLF", "ok" },
	{ HEADER "  msgid   \"Spaced\"  \n\tmsgstr\t\"out\"\t\n", "Spaced", "out" },
	{ "msgid \"No header\"\nmsgstr \"fine\"", "No header", "fine" },
	{ HEADER "msgid \"A\"\nmsgstr \"1\"\nmsgid \"B\"\nmsgstr \"2\"\n", "A", "1" },
};

START_TEST(test_parse_table)
{
	struct ap_i18n *t = NULL;
	char err[256] = "";
	const char *got, *want;

	ck_assert_msg(load_one(parse_rows[_i].po, &t, err, sizeof(err)) == AP_OK,
	    "row %d: %s", _i, err);
	ck_assert(ap_i18n_has_lang(t, "xx"));
	got = ap_i18n_gettext(t, "xx", parse_rows[_i].msgid);
	want = parse_rows[_i].want ? parse_rows[_i].want : parse_rows[_i].msgid;
	ck_assert_msg(strcmp(got, want) == 0, "row %d: got \"%s\", want \"%s\"", _i, got, want);
	if (parse_rows[_i].want == NULL)
		ck_assert_ptr_eq(got, parse_rows[_i].msgid);
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_header_not_stored)
{
	struct ap_i18n *t = NULL;
	char err[256] = "";
	const char *id, *str;

	ck_assert_int_eq(load_one(HEADER "msgid \"A\"\nmsgstr \"a\"\n", &t, err, sizeof(err)), AP_OK);
	ck_assert_uint_eq(ap_i18n_count(t, "xx"), 1);
	ck_assert(ap_i18n_entry(t, "xx", 0, &id, &str));
	ck_assert_str_eq(id, "A");
	ck_assert_str_eq(str, "a");
	ck_assert(!ap_i18n_entry(t, "xx", 1, &id, &str));
	ck_assert_str_eq(ap_i18n_gettext(t, "xx", ""), "");
	ap_i18n_free(t);
}
END_TEST

static const struct {
	const char *po;
	const char *err;
} err_rows[] = {
	{ "msgid \"a\"\n", "po/xx.po:1: msgid without msgstr" },
	{ HEADER "msgid \"a\"\n\nmsgid \"b\"\nmsgstr \"B\"\n", "po/xx.po:8: msgid without msgstr" },
	{ "\n\nmsgstr \"a\"\n", "po/xx.po:3: msgstr without msgid" },
	{ "msgid \"a\nmsgstr \"b\"\n", "po/xx.po:1: unterminated string" },
	{ "msgid \"a\\\"\nmsgstr \"b\"\n", "po/xx.po:1: unterminated string" },
	{ "msgid \"a\\q\"\nmsgstr \"b\"\n", "po/xx.po:1: invalid escape '\\q'" },
	{ "msgid \"a\"\nmsgstr \"b\"\n# comment\n\"orphan\"\n", "po/xx.po:4: string without keyword" },
	{ "\"x\"\n", "po/xx.po:1: string without keyword" },
	{ "msgid \"a\"\nmsgstr \"b\"\nmsgfoo \"x\"\n", "po/xx.po:3: unknown keyword 'msgfoo'" },
	{ "msgid \"a\" junk\nmsgstr \"b\"\n", "po/xx.po:1: trailing characters after string" },
	{ "msgid a\nmsgstr \"b\"\n", "po/xx.po:1: expected a quoted string" },
	{ "msgid\nmsgstr \"b\"\n", "po/xx.po:1: expected a quoted string" },
	{ "msgid \"a\"\nmsgstr \"1\"\n\nmsgid \"a\"\nmsgstr \"2\"\n", "po/xx.po:4: duplicate msgid" },
	{ "msgid \"a\"\nmsgstr[0] \"1\"\n", "po/xx.po:2: msgstr[] without msgid_plural" },
	{ "msgid \"a\"\nmsgid_plural \"as\"\nmsgid_plural \"as\"\n",
	    "po/xx.po:3: unexpected msgid_plural" },
	{ "msgid \"a\"\nmsgid_plural \"as\"\nmsgstr \"x\"\n", "po/xx.po:3: unexpected msgstr" },
	{ "msgid \"a\"\nmsgid_plural \"as\"\nmsgstr[x] \"x\"\n", "po/xx.po:3: invalid plural index" },
	{ "msgid \"a\"\nmsgstr \"1\"\nmsgstr \"2\"\n", "po/xx.po:3: unexpected msgstr" },
	{ "msgid \"ok\"\nmsgstr \"ok\"\nmsgid \"bad \xff\"\nmsgstr \"x\"\n", "po/xx.po:3: invalid UTF-8" },
	{ "msgid \"a\"\nmsgid_plural \"as\"\nmsgstr[0] \"x\"\nmsgstr[6] \"y\"\n", "po/xx.po:4: plural index over 5" },
	{ "msgid \"a\"\nmsgid_plural \"as\"\nmsgstr[0] \"x\"\nmsgstr[10] \"y\"\n", "po/xx.po:4: plural index over 5" },
	{ "msgid \"a\"\nmsgid_plural \"as\"\nmsgstr[1] \"x\"\nmsgstr[1] \"y\"\n", "po/xx.po:4: duplicate msgstr[1]" },
	{ "msgctxt \"c\"\n", "po/xx.po:1: msgctxt without msgid" },
	{ "msgctxt \"c\"\nmsgctxt \"d\"\n", "po/xx.po:2: duplicate msgctxt" },
};

START_TEST(test_parse_errors)
{
	struct ap_i18n *t = (struct ap_i18n *)0x1;
	char err[256] = "";

	ck_assert_int_eq(load_one(err_rows[_i].po, &t, err, sizeof(err)), AP_ERR_PARSE);
	ck_assert_ptr_null(t);
	ck_assert_msg(strcmp(err, err_rows[_i].err) == 0, "row %d: got \"%s\", want \"%s\"",
	    _i, err, err_rows[_i].err);
}
END_TEST

START_TEST(test_many_entries)
{
	struct ap_buf po = { 0 };
	struct ap_i18n *t = NULL;
	char err[256] = "", id[32], want[32];
	int i;

	for (i = 0; i < 3000; i++)
		ap_buf_printf(&po, "msgid \"message %d\"\nmsgstr \"رسالة %d\"\n\n", i, i);
	ck_assert_int_eq(load_one(ap_buf_cstr(&po), &t, err, sizeof(err)), AP_OK);
	ck_assert_uint_eq(ap_i18n_count(t, "xx"), 3000);
	for (i = 0; i < 3000; i++) {
		snprintf(id, sizeof(id), "message %d", i);
		snprintf(want, sizeof(want), "رسالة %d", i);
		ck_assert_str_eq(ap_i18n_gettext(t, "xx", id), want);
	}
	ck_assert_str_eq(ap_i18n_gettext(t, "xx", "message 3000"), "message 3000");
	ap_i18n_free(t);
	ap_buf_free(&po);
}
END_TEST

/* -------------------------------------------------- loading and lookup */

static const char *const two_names[] = { "en.po", "ar.po", "notes.txt", "messages.pot",
	"README.po", "ar.po.bak" };

static struct ap_i18n *
load_two(void)
{
	struct tmp t;
	struct ap_i18n *i18n = NULL;
	char err[256] = "";

	tmp_make(&t);
	tmp_write(&t, "en.po", "msgid \"Home\"\nmsgstr \"Home\"\n");
	tmp_write(&t, "ar.po", "msgid \"Home\"\nmsgstr \"الرئيسية\"\n");
	tmp_write(&t, "notes.txt", "not a catalog");
	tmp_write(&t, "messages.pot", "msgid \"Home\"\nmsgstr \"\"\n");
	tmp_write(&t, "README.po", "garbage that would not parse");
	tmp_write(&t, "ar.po.bak", "garbage");
	ck_assert_msg(ap_i18n_load(t.dir, &i18n, err, sizeof(err)) == AP_OK, "%s", err);
	tmp_remove(&t, two_names, AP_NELEM(two_names));
	return i18n;
}

START_TEST(test_load_dir_languages)
{
	struct ap_i18n *t = load_two();

	ck_assert_uint_eq(ap_i18n_lang_count(t), 2);
	ck_assert_str_eq(ap_i18n_lang_at(t, 0), "ar");
	ck_assert_str_eq(ap_i18n_lang_at(t, 1), "en");
	ck_assert_ptr_null(ap_i18n_lang_at(t, 2));
	ck_assert(ap_i18n_has_lang(t, "ar"));
	ck_assert(ap_i18n_has_lang(t, "en"));
	ck_assert(!ap_i18n_has_lang(t, "README"));
	ck_assert(!ap_i18n_has_lang(t, "fr"));
	ck_assert(!ap_i18n_has_lang(t, NULL));
	ck_assert(!ap_i18n_has_lang(NULL, "ar"));
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_gettext_fallback)
{
	struct ap_i18n *t = load_two();
	const char *id = "Not in catalog";

	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Home"), "الرئيسية");
	ck_assert_str_eq(ap_i18n_gettext(t, "en", "Home"), "Home");
	ck_assert_ptr_eq(ap_i18n_gettext(t, "ar", id), id);
	ck_assert_ptr_eq(ap_i18n_gettext(t, "fr", id), id);
	ck_assert_ptr_eq(ap_i18n_gettext(t, NULL, id), id);
	ck_assert_ptr_eq(ap_i18n_gettext(NULL, "ar", id), id);
	ck_assert_ptr_null(ap_i18n_gettext(t, "ar", NULL));
	/* Lookups are exact: case and whitespace matter. */
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "home"), "home");
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Home "), "Home ");
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_tr_callback)
{
	struct ap_i18n *t = load_two();
	struct ap_i18n_tr ar = { t, "ar" }, none = { t, "de" };

	ck_assert_str_eq(ap_i18n_tr(&ar, "Home"), "الرئيسية");
	ck_assert_str_eq(ap_i18n_tr(&none, "Home"), "Home");
	ck_assert_str_eq(ap_i18n_tr(NULL, "Home"), "Home");
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_load_missing_dir)
{
	struct ap_i18n *t = (struct ap_i18n *)0x1;
	char err[256] = "";

	ck_assert_int_eq(ap_i18n_load("/nonexistent/po", &t, err, sizeof(err)), AP_ERR_IO);
	ck_assert_ptr_null(t);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/po"));
	ap_i18n_free(NULL);
}
END_TEST

START_TEST(test_load_empty_dir)
{
	struct tmp tmp;
	struct ap_i18n *t = NULL;
	char err[256] = "";

	tmp_make(&tmp);
	ck_assert_int_eq(ap_i18n_load(tmp.dir, &t, err, sizeof(err)), AP_OK);
	ck_assert_uint_eq(ap_i18n_lang_count(t), 0);
	ck_assert_str_eq(ap_i18n_negotiate(t, "ar", "en"), "en");
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Home"), "Home");
	ap_i18n_free(t);
	tmp_remove(&tmp, NULL, 0);
}
END_TEST

/* --------------------------------------------------------- negotiation */

static const struct {
	const char *accept;
	const char *want;
} neg_rows[] = {
	{ NULL, "en" },
	{ "", "en" },
	{ "ar", "ar" },
	{ "en", "en" },
	{ "AR", "ar" },
	{ "ar-EG", "ar" },
	{ "ar_SA", "ar" },
	{ "en-US,en;q=0.9", "en" },
	{ "fr-FR, fr;q=0.9, ar;q=0.8, en;q=0.7", "ar" },
	{ "en;q=0.5, ar;q=0.8", "ar" },
	{ "en;q=0.8, ar;q=0.8", "en" },
	{ "ar;q=0.8, en;q=0.8", "ar" },
	{ "ar;q=0", "en" },
	{ "ar;q=0, en;q=0", "en" },
	{ "ar;q=0.000", "en" },
	{ "ar;q=0.001", "ar" },
	{ "ar;q=1.000", "ar" },
	{ "*", "en" },
	{ "*;q=0.5, ar", "ar" },
	{ "en;q=0, *", "ar" },
	{ "ar-EG;q=0.9, ar;q=0", "en" },
	{ "de, fr, ja", "en" },
	{ "ar ; q=0.5 , de", "ar" },
	{ "ar;level=1;q=0.4", "ar" },
	{ "ar;q=2", "en" },
	{ "ar;q=1.5", "en" },
	{ "ar;q=0.5.5", "en" },
	{ "ar;q=abc", "en" },
	{ "ar;q=0.1234", "en" },
	{ ";;;,,,===", "en" },
	{ "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a", "en" },
	{ "a*r, ar-*", "en" },
	{ "en-GB-oxendict-too-long-to-be-a-real-language-tag, ar", "ar" },
	{ "x, ar;q=0.3, , ,en;q=0.2", "ar" },
};

START_TEST(test_negotiate_table)
{
	struct ap_i18n *t = load_two();
	const char *got = ap_i18n_negotiate(t, neg_rows[_i].accept, "en");

	ck_assert_msg(got != NULL && strcmp(got, neg_rows[_i].want) == 0,
	    "row %d (%s): got %s, want %s", _i, neg_rows[_i].accept ? neg_rows[_i].accept : "NULL",
	    got ? got : "NULL", neg_rows[_i].want);
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_negotiate_borrowed_and_fallback)
{
	struct ap_i18n *t = load_two();
	const char *fb = "en";

	/* A match is borrowed from t, no match returns fallback itself. */
	ck_assert_ptr_eq(ap_i18n_negotiate(t, "ar", fb), ap_i18n_lang_at(t, 0));
	ck_assert_ptr_eq(ap_i18n_negotiate(t, "de", fb), fb);
	ck_assert_ptr_null(ap_i18n_negotiate(t, "de", NULL));
	ck_assert_ptr_eq(ap_i18n_negotiate(NULL, "ar", fb), fb);
	/* "*" prefers a loaded fallback over load order. */
	ck_assert_str_eq(ap_i18n_negotiate(t, "*", "ar"), "ar");
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_negotiate_long_header)
{
	struct ap_i18n *t = load_two();
	struct ap_buf h = { 0 };
	int i;

	for (i = 0; i < 500; i++)
		ap_buf_puts(&h, "de;q=0.9, ");
	ap_buf_puts(&h, "ar");
	/* Only the first ranges count: a huge header cannot cost much. */
	ck_assert_str_eq(ap_i18n_negotiate(t, ap_buf_cstr(&h), "en"), "en");
	ap_buf_reset(&h);
	ap_buf_puts(&h, "ar;q=0.9, ");
	for (i = 0; i < 500; i++)
		ap_buf_puts(&h, "de, ");
	ck_assert_str_eq(ap_i18n_negotiate(t, ap_buf_cstr(&h), "en"), "ar");
	ap_buf_free(&h);
	ap_i18n_free(t);
}
END_TEST

static const struct {
	const char *lang;
	bool rtl;
} rtl_rows[] = {
	{ "ar", true }, { "ar-EG", true }, { "ar_SA", true }, { "AR", true },
	{ "he", true }, { "fa", true }, { "ur", true }, { "en", false },
	{ "fr", false }, { "arn", false }, { "a", false }, { "", false }, { NULL, false },
};

START_TEST(test_is_rtl_table)
{
	ck_assert_msg(ap_i18n_is_rtl(rtl_rows[_i].lang) == rtl_rows[_i].rtl, "row %d: %s", _i,
	    rtl_rows[_i].lang ? rtl_rows[_i].lang : "NULL");
}
END_TEST

/* ------------------------------------------------------- real catalogs */

static const char *
srcdir(void)
{
	const char *d = getenv("AAPANEL_SRCDIR");

	return d && *d ? d : ".";
}

static struct ap_i18n *
load_real(void)
{
	struct ap_i18n *t = NULL;
	char dir[512], err[256] = "";

	snprintf(dir, sizeof(dir), "%s/po", srcdir());
	ck_assert_msg(ap_i18n_load(dir, &t, err, sizeof(err)) == AP_OK, "%s", err);
	return t;
}

static const char *const c_msgids[] = {
	"Home", "Server overview", "Not Found", "Bad Request", "Forbidden",
	"Method Not Allowed", "Payload Too Large", "Unsupported Media Type",
	"Internal Server Error", "Service Unavailable",
	"The page you asked for does not exist.", "The request was not valid.",
	"You do not have permission to do this.", "This method is not allowed here.",
	"The request body is too large.",
	"Something went wrong on our side. The error was logged.",
	"The panel is temporarily unavailable. Try again in a moment.", "Unauthorized",
	"Language", "English", "Arabic",
};

START_TEST(test_real_catalogs_complete)
{
	struct ap_i18n *t = load_real();
	size_t i, n;

	ck_assert(ap_i18n_has_lang(t, "en"));
	ck_assert(ap_i18n_has_lang(t, "ar"));
	n = ap_i18n_count(t, "en");
	ck_assert_uint_ge(n, AP_NELEM(c_msgids));
	for (i = 0; i < n; i++) {
		const char *id, *en, *ar;

		ck_assert(ap_i18n_entry(t, "en", i, &id, &en));
		ar = ap_i18n_gettext(t, "ar", id);
		ck_assert_msg(ar != id && ar[0] != '\0', "ar.po lacks \"%s\"", id);
		ck_assert_msg(strcmp(ar, id) != 0, "ar.po leaves \"%s\" in English", id);
	}
	ck_assert_uint_eq(ap_i18n_count(t, "ar"), n);
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_real_catalogs_have_c_msgids)
{
	struct ap_i18n *t = load_real();
	size_t i;

	for (i = 0; i < AP_NELEM(c_msgids); i++) {
		const char *en = ap_i18n_gettext(t, "en", c_msgids[i]);
		const char *ar = ap_i18n_gettext(t, "ar", c_msgids[i]);

		ck_assert_msg(en != c_msgids[i], "en.po lacks \"%s\"", c_msgids[i]);
		ck_assert_str_eq(en, c_msgids[i]);
		ck_assert_msg(ar != c_msgids[i], "ar.po lacks \"%s\"", c_msgids[i]);
	}
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Home"), "الرئيسية");
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Server overview"), "نظرة عامة على الخادم");
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Not Found"), "غير موجود");
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "Arabic"), "العربية");
	ap_i18n_free(t);
}
END_TEST

/* True when s holds a letter from the Arabic block U+0600..U+06FF. */
static bool
has_arabic(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	for (; *p != '\0'; p++)
		if ((p[0] == 0xD8 || p[0] == 0xD9 || p[0] == 0xDA || p[0] == 0xDB) &&
		    (p[1] & 0xC0) == 0x80)
			return true;
	return false;
}

START_TEST(test_real_arabic_is_arabic)
{
	struct ap_i18n *t = load_real();
	size_t i, n = ap_i18n_count(t, "ar");

	for (i = 0; i < n; i++) {
		const char *id, *str;

		ck_assert(ap_i18n_entry(t, "ar", i, &id, &str));
		ck_assert_msg(has_arabic(str), "\"%s\" → \"%s\" is not Arabic", id, str);
	}
	ap_i18n_free(t);
}
END_TEST

START_TEST(test_real_ar_header)
{
	char path[512], buf[4096];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/po/ar.po", srcdir());
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "\"Content-Type: text/plain; charset=UTF-8\\n\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"Language: ar\\n\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"Plural-Forms: nplurals=6;"));
}
END_TEST

/* ap_i18n_fill: {name} from kv; anything else (unknown names, lone braces, %s) copied as it is. */
static const struct {
	const char *tpl, *want;
} fill_rows[] = {
	{ "", "" },
	{ "plain", "plain" },
	{ "{host}", "h1" },
	{ "[aaPanel {host}] {what}: {value}", "[aaPanel h1] CPU: 95 %" },
	{ "{value}{value}", "95 %95 %" },
	{ "{nope} {host}", "{nope} h1" },
	{ "{ {host} }", "{ h1 }" },
	{ "{host", "{host" },
	{ "}{", "}{" },
	{ "%s %n {}", "%s %n {}" },
	{ "{what}{host}", "CPUh1" },
	{ "الموقع {host} لا يستجيب", "الموقع h1 لا يستجيب" },
};

START_TEST(test_fill_table)
{
	const char *kv[] = { "host", "h1", "what", "CPU", "value", "95 %", "empty", "", NULL };
	struct ap_buf b = { 0 };

	ap_i18n_fill(&b, fill_rows[_i].tpl, kv);
	ck_assert_str_eq(ap_buf_cstr(&b), fill_rows[_i].want);
	ap_buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------- plurals */

static const struct {
	const char *lang;
	long long n;
	unsigned form;
} plural_rows[] = {
	{ "ar", 0, 0 }, { "ar", 1, 1 }, { "ar", 2, 2 }, { "ar", 3, 3 }, { "ar", 10, 3 },
	{ "ar", 11, 4 }, { "ar", 99, 4 }, { "ar", 100, 5 }, { "ar", 102, 5 }, { "ar", 103, 3 },
	{ "ar", 111, 4 }, { "ar", 1000, 5 }, { "ar-EG", 5, 3 }, { "AR_sa", 2, 2 }, { "ar", -2, 2 },
	{ "en", 0, 1 }, { "en", 1, 0 }, { "en", 2, 1 }, { "en-GB", 1, 0 }, { NULL, 1, 0 },
	{ NULL, 7, 1 }, { "arn", 2, 1 }, { "fr", 2, 1 },
};

START_TEST(test_plural_form_table)
{
	ck_assert_uint_eq(ap_i18n_plural_form(plural_rows[_i].lang, plural_rows[_i].n), plural_rows[_i].form);
}
END_TEST

START_TEST(test_ngettext_forms)
{
	static const char *const names[] = { "ar.po", "en.po" };
	struct ap_i18n *t = NULL;
	struct tmp d;
	char err[256];

	tmp_make(&d);
	tmp_write(&d, "ar.po", HEADER "msgid \"{n} file\"\nmsgid_plural \"{n} files\"\n"
	    "msgstr[0] \"لا ملفات\"\nmsgstr[1] \"ملف واحد\"\nmsgstr[2] \"ملفان\"\n"
	    "msgstr[3] \"{n} ملفات\"\nmsgstr[4] \"{n} ملفًا\"\n\n"
	    "msgid \"Plain\"\nmsgstr \"عادي\"\n");
	tmp_write(&d, "en.po", HEADER "msgid \"{n} file\"\nmsgid_plural \"{n} files\"\n"
	    "msgstr[0] \"{n} file (en)\"\nmsgstr[1] \"{n} files (en)\"\n");
	ck_assert_int_eq(ap_i18n_load(d.dir, &t, err, sizeof(err)), AP_OK);
	tmp_remove(&d, names, 2);
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} file", "{n} files", 0), "لا ملفات");
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} file", "{n} files", 1), "ملف واحد");
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} file", "{n} files", 2), "ملفان");
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} file", "{n} files", 7), "{n} ملفات");
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} file", "{n} files", 42), "{n} ملفًا");
	/* form 5 missing: msgstr[0] */
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} file", "{n} files", 100), "لا ملفات");
	/* gettext of a plural entry: msgstr[0] */
	ck_assert_str_eq(ap_i18n_gettext(t, "ar", "{n} file"), "لا ملفات");
	/* a singular entry looked up as a plural: its one text */
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "Plain", "Plains", 5), "عادي");
	ck_assert_str_eq(ap_i18n_ngettext(t, "en", "{n} file", "{n} files", 1), "{n} file (en)");
	ck_assert_str_eq(ap_i18n_ngettext(t, "en", "{n} file", "{n} files", 3), "{n} files (en)");
	/* not in the catalog, an unknown language, no catalogs: English's rule on the msgids */
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} dir", "{n} dirs", 1), "{n} dir");
	ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "{n} dir", "{n} dirs", 2), "{n} dirs");
	ck_assert_str_eq(ap_i18n_ngettext(t, "de", "{n} file", "{n} files", 2), "{n} files");
	ck_assert_str_eq(ap_i18n_ngettext(NULL, "ar", "{n} file", "{n} files", 1), "{n} file");
	ck_assert_ptr_null(ap_i18n_ngettext(t, "ar", NULL, "x", 1));
	/* only msgstr[0] counts as an entry */
	ck_assert_uint_eq(ap_i18n_count(t, "ar"), 2);
	ap_i18n_free(t);
}
END_TEST

/* The real catalogs' durations, in the words an Arabic reader expects. */
START_TEST(test_real_arabic_plurals)
{
	struct ap_i18n *t = load_real();
	static const struct {
		long long n;
		const char *want;
	} rows[] = {
		{ 1, "لمدة دقيقة واحدة" }, { 2, "لمدة دقيقتين" }, { 5, "لمدة {n} دقائق" },
		{ 15, "لمدة {n} دقيقة" }, { 100, "لمدة {n} دقيقة" }, { 105, "لمدة {n} دقائق" },
	};

	for (size_t i = 0; i < AP_NELEM(rows); i++)
		ck_assert_str_eq(ap_i18n_ngettext(t, "ar", "for {n} min", "for {n} min", rows[i].n), rows[i].want);
	ck_assert_str_eq(ap_i18n_ngettext(t, "en", "for {n} min", "for {n} min", 5), "for {n} min");
	ap_i18n_free(t);
}
END_TEST

static Suite *
i18n_suite(void)
{
	Suite *s = suite_create("i18n");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_table, 0, AP_NELEM(parse_rows));
	tcase_add_test(tc, test_header_not_stored);
	tcase_add_loop_test(tc, test_parse_errors, 0, AP_NELEM(err_rows));
	tcase_add_test(tc, test_many_entries);
	tcase_add_test(tc, test_load_dir_languages);
	tcase_add_test(tc, test_gettext_fallback);
	tcase_add_test(tc, test_tr_callback);
	tcase_add_test(tc, test_load_missing_dir);
	tcase_add_test(tc, test_load_empty_dir);
	tcase_add_loop_test(tc, test_negotiate_table, 0, AP_NELEM(neg_rows));
	tcase_add_test(tc, test_negotiate_borrowed_and_fallback);
	tcase_add_test(tc, test_negotiate_long_header);
	tcase_add_loop_test(tc, test_is_rtl_table, 0, AP_NELEM(rtl_rows));
	tcase_add_test(tc, test_real_catalogs_complete);
	tcase_add_test(tc, test_real_catalogs_have_c_msgids);
	tcase_add_test(tc, test_real_arabic_is_arabic);
	tcase_add_test(tc, test_real_ar_header);
	tcase_add_loop_test(tc, test_fill_table, 0, AP_NELEM(fill_rows));
	tcase_add_loop_test(tc, test_plural_form_table, 0, AP_NELEM(plural_rows));
	tcase_add_test(tc, test_ngettext_forms);
	tcase_add_test(tc, test_real_arabic_plurals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(i18n_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
