/*
 * i18n.c — gettext .po catalogs and Accept-Language negotiation.
 *
 * Each <lang>.po becomes an array of (msgid, msgstr) pairs indexed by an
 * open-addressing hash table, so a lookup is one hash and usually one
 * string compare. Untranslated, fuzzy and header entries are not stored:
 * a lookup miss returns the msgid itself.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/i18n.h"

#define PO_MAX_FILE (4u << 20)   /* one .po file */
#define PO_MAX_LANGS 64          /* .po files in the directory */
#define PO_MAX_CODE 15           /* "pt_BR", "zh_Hant_TW" */
#define AL_MAX_ITEMS 32          /* Accept-Language ranges considered */
#define AL_MAX_LEN 4096          /* Accept-Language bytes considered */
#define AL_MAX_TAG 35

struct po_entry {
	char *key; /* msgid, or msgctxt "\004" msgid */
	char *val; /* msgstr, or a plural's msgstr[0] */
	char *forms[AP_I18N_FORMS - 1]; /* a plural's msgstr[1..]; NULL: none */
	uint32_t hash;
	unsigned line;
};

struct lang {
	char code[PO_MAX_CODE + 1];
	struct po_entry *e;
	size_t n, cap;
	uint32_t *slots; /* entry index + 1; 0 = empty */
	size_t nslots;   /* power of two, > 2 * n */
};

struct ap_i18n {
	struct lang *langs; /* sorted by code */
	size_t n;
};


/* FNV-1a: short keys, no seed needed (catalogs are not attacker input). */
static uint32_t
hash_str(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

static const struct po_entry *
lang_find(const struct lang *l, const char *key, uint32_t h)
{
	size_t mask, i;

	if (l->nslots == 0)
		return NULL;
	mask = l->nslots - 1;
	for (i = h & mask; l->slots[i] != 0; i = (i + 1) & mask) {
		const struct po_entry *e = &l->e[l->slots[i] - 1];

		if (e->hash == h && strcmp(e->key, key) == 0)
			return e;
	}
	return NULL;
}

/* Build the hash table; a duplicate key is reported with its line. */
static bool
lang_index(struct lang *l, const struct po_entry **dup)
{
	size_t i, mask;

	l->nslots = 16;
	while (l->nslots < 2 * l->n + 1)
		l->nslots *= 2;
	l->slots = ap_xcalloc(l->nslots, sizeof(*l->slots));
	mask = l->nslots - 1;
	for (i = 0; i < l->n; i++) {
		struct po_entry *e = &l->e[i];
		size_t k;

		if (lang_find(l, e->key, e->hash) != NULL) {
			*dup = e;
			return false;
		}
		for (k = e->hash & mask; l->slots[k] != 0; k = (k + 1) & mask)
			;
		l->slots[k] = (uint32_t)(i + 1);
	}
	return true;
}

static void
lang_clear(struct lang *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->e[i].key);
		free(l->e[i].val);
		for (size_t k = 0; k < AP_I18N_FORMS - 1; k++)
			free(l->e[i].forms[k]);
	}
	free(l->e);
	free(l->slots);
	memset(l, 0, sizeof(*l));
}

/* ------------------------------------------------------------------ parser */

enum po_field { F_NONE, F_CTX, F_ID, F_PLURAL, F_STR, F_STR_OTHER };

struct po {
	const char *file;
	struct lang *l;
	char *err;
	size_t errlen;
	struct ap_buf ctx, id, str, discard;
	struct ap_buf forms[AP_I18N_FORMS - 1]; /* msgstr[1..] */
	bool has_ctx, has_id, has_plural, has_str, fuzzy, next_fuzzy;
	unsigned id_line;
	unsigned form; /* the msgstr[form] being read (F_STR_OTHER) */
	enum po_field field;
};

static bool
po_fail(struct po *p, unsigned line, const char *fmt, ...) AP_PRINTF(3, 4);

static bool
po_fail(struct po *p, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->err != NULL && p->errlen > 0) {
		n = snprintf(p->err, p->errlen, "%s:%u: ", p->file, line);
		if (n >= 0 && (size_t)n < p->errlen) {
			va_start(ap, fmt);
			vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
			va_end(ap);
		}
	}
	return false;
}

/* Finish the current entry: store it unless fuzzy, header or untranslated. */
static bool
po_flush(struct po *p, unsigned line)
{
	struct po_entry *e;
	struct lang *l = p->l;
	bool ok = true;

	if (p->has_id && !p->has_str) {
		ok = po_fail(p, p->id_line, "msgid without msgstr");
		goto out;
	}
	if (!p->has_id && p->has_ctx) {
		ok = po_fail(p, line, "msgctxt without msgid");
		goto out;
	}
	if (!p->has_id || p->fuzzy || p->id.len == 0 || p->str.len == 0)
		goto out;
	l->e = ap_xrealloc(l->e, (l->n + 1) * sizeof(*l->e));
	e = &l->e[l->n++];
	if (p->has_ctx)
		e->key = ap_xasprintf("%s\004%s", ap_buf_cstr(&p->ctx), ap_buf_cstr(&p->id));
	else
		e->key = ap_xstrdup(ap_buf_cstr(&p->id));
	e->val = ap_xstrdup(ap_buf_cstr(&p->str));
	for (size_t k = 0; k < AP_I18N_FORMS - 1; k++)
		e->forms[k] = p->has_plural && p->forms[k].len > 0 ? ap_xstrdup(ap_buf_cstr(&p->forms[k])) : NULL;
	e->hash = hash_str(e->key);
	e->line = p->id_line;
out:
	ap_buf_reset(&p->ctx);
	ap_buf_reset(&p->id);
	ap_buf_reset(&p->str);
	for (size_t k = 0; k < AP_I18N_FORMS - 1; k++)
		ap_buf_reset(&p->forms[k]);
	p->has_ctx = p->has_id = p->has_plural = p->has_str = false;
	p->fuzzy = false;
	p->field = F_NONE;
	return ok;
}

/* Parse one "..." string starting at s[0] == '"' and append it to b. */
static bool
po_string(struct po *p, unsigned line, const char *s, size_t n, struct ap_buf *b)
{
	size_t i = 1;

	if (n == 0 || s[0] != '"')
		return po_fail(p, line, "expected a quoted string");
	for (;;) {
		char ch;

		if (i >= n)
			return po_fail(p, line, "unterminated string");
		ch = s[i++];
		if (ch == '"')
			break;
		if (ch != '\\') {
			ap_buf_putc(b, ch);
			continue;
		}
		if (i >= n)
			return po_fail(p, line, "unterminated string");
		ch = s[i++];
		switch (ch) {
		case 'n': ap_buf_putc(b, '\n'); break;
		case 't': ap_buf_putc(b, '\t'); break;
		case 'r': ap_buf_putc(b, '\r'); break;
		case '"': ap_buf_putc(b, '"'); break;
		case '\\': ap_buf_putc(b, '\\'); break;
		default:
			if ((unsigned char)ch >= 0x20 && (unsigned char)ch < 0x7f)
				return po_fail(p, line, "invalid escape '\\%c'", ch);
			return po_fail(p, line, "invalid escape");
		}
	}
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i < n)
		return po_fail(p, line, "trailing characters after string");
	return true;
}

static struct ap_buf *
field_buf(struct po *p)
{
	switch (p->field) {
	case F_CTX: return &p->ctx;
	case F_ID: return &p->id;
	case F_STR: return &p->str;
	case F_STR_OTHER: return p->form < AP_I18N_FORMS ? &p->forms[p->form - 1] : &p->discard;
	default: return &p->discard;
	}
}

static bool
po_keyword(struct po *p, unsigned line, const char *kw, size_t kwlen)
{
#define KW(s) (kwlen == sizeof(s) - 1 && memcmp(kw, s, kwlen) == 0)
	if (KW("msgctxt") || KW("msgid")) {
		if (p->has_str && !po_flush(p, line))
			return false;
		if (p->has_id)
			return po_fail(p, p->id_line, "msgid without msgstr");
		if (!p->has_ctx && !p->has_id) {
			p->fuzzy = p->next_fuzzy;
			p->next_fuzzy = false;
		}
		if (KW("msgctxt")) {
			if (p->has_ctx)
				return po_fail(p, line, "duplicate msgctxt");
			p->has_ctx = true;
			p->field = F_CTX;
		} else {
			p->has_id = true;
			p->id_line = line;
			p->field = F_ID;
		}
		return true;
	}
	if (KW("msgid_plural")) {
		if (!p->has_id || p->has_plural || p->has_str)
			return po_fail(p, line, "unexpected msgid_plural");
		p->has_plural = true;
		p->field = F_PLURAL;
		return true;
	}
	if (KW("msgstr")) {
		if (!p->has_id)
			return po_fail(p, line, "msgstr without msgid");
		if (p->has_str || p->has_plural)
			return po_fail(p, line, "unexpected msgstr");
		p->has_str = true;
		p->field = F_STR;
		return true;
	}
	if (kwlen >= 9 && kwlen <= 10 && memcmp(kw, "msgstr[", 7) == 0 &&
	    kw[kwlen - 1] == ']') {
		size_t k;

		for (k = 7; k < kwlen - 1; k++)
			if (kw[k] < '0' || kw[k] > '9')
				return po_fail(p, line, "invalid plural index");
		if (!p->has_id)
			return po_fail(p, line, "msgstr without msgid");
		if (!p->has_plural)
			return po_fail(p, line, "msgstr[] without msgid_plural");
		/* msgstr[0] is the entry's text; [1..AP_I18N_FORMS-1] its other forms. */
		if (kwlen == 9 && kw[7] == '0') {
			if (p->has_str && p->str.len > 0)
				return po_fail(p, line, "duplicate msgstr[0]");
			p->field = F_STR;
		} else {
			unsigned form = kwlen == 9 ? (unsigned)(kw[7] - '0') : AP_I18N_FORMS;

			if (form >= AP_I18N_FORMS)
				return po_fail(p, line, "plural index over %d", AP_I18N_FORMS - 1);
			if (p->forms[form - 1].len > 0)
				return po_fail(p, line, "duplicate msgstr[%u]", form);
			p->form = form;
			p->field = F_STR_OTHER;
		}
		p->has_str = true;
		return true;
	}
	return po_fail(p, line, "unknown keyword '%.*s'", (int)(kwlen > 32 ? 32 : kwlen), kw);
#undef KW
}

/* Is flag one of the comma-separated words of a "#," line? */
static bool
has_flag(const char *s, size_t n, const char *flag)
{
	size_t i = 0, fl = strlen(flag);

	while (i < n) {
		size_t start, end;

		while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == ','))
			i++;
		start = i;
		while (i < n && s[i] != ',' && s[i] != ' ' && s[i] != '\t')
			i++;
		end = i;
		if (end - start == fl && memcmp(s + start, flag, fl) == 0)
			return true;
	}
	return false;
}

static bool
po_line(struct po *p, unsigned line, const char *s, size_t n)
{
	size_t i = 0, kw;

	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (!ap_utf8_valid(s, n))
		return po_fail(p, line, "invalid UTF-8");
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n)
		return true;
	if (s[i] == '#') {
		/* A comment starts the next entry's header block. */
		if (p->has_str && !po_flush(p, line))
			return false;
		if (i + 1 < n && s[i + 1] == ',')
			p->next_fuzzy = p->next_fuzzy || has_flag(s + i + 2, n - i - 2, "fuzzy");
		return true;
	}
	if (s[i] == '"') {
		if (p->field == F_NONE)
			return po_fail(p, line, "string without keyword");
		return po_string(p, line, s + i, n - i, field_buf(p));
	}
	kw = i;
	while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '"')
		i++;
	if (!po_keyword(p, line, s + kw, i - kw))
		return false;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return po_string(p, line, s + i, n - i, field_buf(p));
}

/* Parse a whole .po buffer into l. */
static bool
po_parse(const char *file, const char *src, size_t len, struct lang *l,
    char *err, size_t errlen)
{
	struct po p = { .file = file, .l = l, .err = err, .errlen = errlen };
	const struct po_entry *dup = NULL;
	size_t pos = 0;
	unsigned line = 0;
	bool ok = true;

	while (ok && pos < len) {
		const char *nl = memchr(src + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - src) : len;

		line++;
		ok = po_line(&p, line, src + pos, end - pos);
		pos = end + 1;
	}
	if (ok)
		ok = po_flush(&p, line);
	if (ok && !lang_index(l, &dup))
		ok = po_fail(&p, dup->line, "duplicate msgid");
	ap_buf_free(&p.ctx);
	ap_buf_free(&p.id);
	ap_buf_free(&p.str);
	ap_buf_free(&p.discard);
	for (size_t k = 0; k < AP_I18N_FORMS - 1; k++)
		ap_buf_free(&p.forms[k]);
	return ok;
}

/* ------------------------------------------------------------------ loader */

/* "ar", "en", "pt_BR": the part of "<code>.po" that names a language. */
static bool
valid_code(const char *s, size_t n)
{
	size_t i, prim = 0;

	if (n == 0 || n > PO_MAX_CODE)
		return false;
	while (prim < n && s[prim] >= 'a' && s[prim] <= 'z')
		prim++;
	if (prim < 2 || prim > 3)
		return false;
	if (prim == n)
		return true;
	if (s[prim] != '_' || prim + 1 == n)
		return false;
	for (i = prim + 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9')))
			return false;
	}
	return true;
}

static enum ap_err
read_po(int dfd, const char *name, const char *file, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	enum ap_err rc = ap_read_file_at(dfd, name, PO_MAX_FILE, out, outlen);

	if (rc == AP_ERR_TOOBIG) {
		ap_errf(err, errlen, "%s:1: not a regular file or larger than %u bytes", file, PO_MAX_FILE);
		return AP_ERR_PARSE;
	}
	if (rc != AP_OK)
		ap_errf(err, errlen, "%s: %s", file, strerror(errno));
	return rc;
}

static int
lang_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lang *)a)->code, ((const struct lang *)b)->code);
}


enum ap_err
ap_i18n_load(const char *dir, struct ap_i18n **out, char *err, size_t errlen)
{
	struct ap_i18n *t = ap_xcalloc(1, sizeof(*t));
	char *label = ap_path_last(dir);
	struct dirent *de;
	enum ap_err rc = AP_OK;
	DIR *d = NULL;

	*out = NULL;
	d = opendir(dir);
	if (d == NULL) {
		ap_errf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = AP_ERR_IO;
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		size_t nl = strlen(de->d_name);
		struct lang *l;
		char *file, *src = NULL;
		size_t len = 0;

		if (nl < 4 || strcmp(de->d_name + nl - 3, ".po") != 0 ||
		    !valid_code(de->d_name, nl - 3))
			continue;
		if (t->n == PO_MAX_LANGS) {
			ap_errf(err, errlen, "%s: more than %d catalogs", label, PO_MAX_LANGS);
			rc = AP_ERR_TOOBIG;
			goto out;
		}
		t->langs = ap_xrealloc(t->langs, (t->n + 1) * sizeof(*t->langs));
		l = &t->langs[t->n++];
		memset(l, 0, sizeof(*l));
		memcpy(l->code, de->d_name, nl - 3);
		file = ap_xasprintf("%s/%s", label, de->d_name);
		rc = read_po(dirfd(d), de->d_name, file, &src, &len, err, errlen);
		if (rc == AP_OK && !po_parse(file, src, len, l, err, errlen))
			rc = AP_ERR_PARSE;
		free(src);
		free(file);
		if (rc != AP_OK)
			goto out;
	}
	if (t->n > 1)
		qsort(t->langs, t->n, sizeof(*t->langs), lang_cmp);
	*out = t;
	t = NULL;
out:
	if (d != NULL)
		closedir(d);
	free(label);
	ap_i18n_free(t);
	return rc;
}

void
ap_i18n_free(struct ap_i18n *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++)
		lang_clear(&t->langs[i]);
	free(t->langs);
	free(t);
}

static const struct lang *
find_lang(const struct ap_i18n *t, const char *code)
{
	size_t i;

	if (t == NULL || code == NULL)
		return NULL;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->langs[i].code, code) == 0)
			return &t->langs[i];
	return NULL;
}

const char *
ap_i18n_gettext(const struct ap_i18n *t, const char *lang, const char *msgid)
{
	const struct lang *l = find_lang(t, lang);
	const struct po_entry *e;

	if (l == NULL || msgid == NULL)
		return msgid;
	e = lang_find(l, msgid, hash_str(msgid));
	return e ? e->val : msgid;
}

static size_t primary_len(const char *s);
static bool tag_eq(const char *a, const char *b, size_t n);

unsigned
ap_i18n_plural_form(const char *lang, long long n)
{
	long long m = n < 0 ? -n : n;
	size_t k = lang ? primary_len(lang) : 0;

	/* CLDR's cardinal rules, as the catalogs' Plural-Forms headers say. */
	if (k == 2 && tag_eq(lang, "ar", 2))
		return m == 0 ? 0 : m == 1 ? 1 : m == 2 ? 2 : m % 100 >= 3 && m % 100 <= 10 ? 3
		    : m % 100 >= 11 ? 4 : 5;
	return m == 1 ? 0 : 1;
}

const char *
ap_i18n_ngettext(const struct ap_i18n *t, const char *lang, const char *msgid, const char *msgid_plural,
    long long n)
{
	const struct lang *l = find_lang(t, lang);
	const struct po_entry *e = NULL;
	unsigned k;

	if (msgid == NULL || msgid_plural == NULL)
		return msgid;
	if (l != NULL)
		e = lang_find(l, msgid, hash_str(msgid));
	if (e == NULL)
		return n == 1 || n == -1 ? msgid : msgid_plural;
	k = ap_i18n_plural_form(lang, n);
	if (k == 0)
		return e->val;
	return e->forms[k - 1] != NULL ? e->forms[k - 1] : e->val;
}

const char *
ap_i18n_tr(void *ctx, const char *msgid)
{
	const struct ap_i18n_tr *tr = ctx;

	if (tr == NULL)
		return msgid;
	return ap_i18n_gettext(tr->t, tr->lang, msgid);
}

bool
ap_i18n_has_lang(const struct ap_i18n *t, const char *lang)
{
	return find_lang(t, lang) != NULL;
}

size_t
ap_i18n_lang_count(const struct ap_i18n *t)
{
	return t ? t->n : 0;
}

const char *
ap_i18n_lang_at(const struct ap_i18n *t, size_t i)
{
	return t && i < t->n ? t->langs[i].code : NULL;
}

size_t
ap_i18n_count(const struct ap_i18n *t, const char *lang)
{
	const struct lang *l = find_lang(t, lang);

	return l ? l->n : 0;
}

bool
ap_i18n_entry(const struct ap_i18n *t, const char *lang, size_t i,
    const char **msgid, const char **msgstr)
{
	const struct lang *l = find_lang(t, lang);

	if (l == NULL || i >= l->n)
		return false;
	*msgid = l->e[i].key;
	*msgstr = l->e[i].val;
	return true;
}

/* ------------------------------------------------------------- negotiation */

static char
lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static size_t
primary_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != '-' && s[n] != '_')
		n++;
	return n;
}

/* Case-insensitive, '-' and '_' equal: "pt-BR" matches "pt_BR". */
static bool
tag_eq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char x = lower(a[i]), y = lower(b[i]);

		if (x == '_')
			x = '-';
		if (y == '_')
			y = '-';
		if (x != y)
			return false;
	}
	return true;
}

bool
ap_i18n_is_rtl(const char *lang)
{
	static const char *const rtl[] = { "ar", "he", "fa", "ur" };
	size_t i, n;

	if (lang == NULL)
		return false;
	n = primary_len(lang);
	for (i = 0; i < AP_NELEM(rtl); i++)
		if (n == strlen(rtl[i]) && tag_eq(lang, rtl[i], n))
			return true;
	return false;
}

struct al_item {
	char tag[AL_MAX_TAG + 1];
	int q; /* thousandths */
};

/* qvalue = "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]; -1 when invalid. */
static int
parse_q(const char **pp)
{
	const char *p = *pp;
	int q, scale = 100, digits = 0;

	if (*p != '0' && *p != '1')
		return -1;
	q = (*p++ - '0') * 1000;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (++digits > 3)
				return -1;
			q += (*p++ - '0') * scale;
			scale /= 10;
		}
	}
	if (q > 1000)
		return -1;
	*pp = p;
	return q;
}

/* Split the header into ranges; malformed items are dropped, not fatal. */
static size_t
parse_accept(const char *s, struct al_item *items, size_t max)
{
	const char *p = s, *end = s + strnlen(s, AL_MAX_LEN);
	size_t n = 0;

	while (p < end && n < max) {
		size_t len = 0;
		bool ok = true;
		int q = 1000;

		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		if (p >= end)
			break;
		while (p + len < end && len <= AL_MAX_TAG &&
		    ((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z') ||
		    (p[len] >= '0' && p[len] <= '9') || p[len] == '-' || p[len] == '_' ||
		    p[len] == '*'))
			len++;
		if (len == 0 || len > AL_MAX_TAG || (memchr(p, '*', len) && len != 1))
			ok = false;
		if (ok) {
			memcpy(items[n].tag, p, len);
			items[n].tag[len] = '\0';
		}
		p += len;
		while (ok && p < end) {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p >= end || *p == ',')
				break;
			if (*p != ';') {
				ok = false;
				break;
			}
			p++;
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p + 1 < end && (*p == 'q' || *p == 'Q') && p[1] == '=') {
				p += 2;
				q = parse_q(&p);
				if (q < 0)
					ok = false;
			} else {
				while (p < end && *p != ';' && *p != ',')
					p++;
			}
		}
		if (ok) {
			items[n].q = q;
			n++;
		}
		while (p < end && *p != ',')
			p++;
	}
	return n;
}

/* 3 exact, 2 same primary subtag ("ar-EG" vs "ar"), 1 "*", 0 none. */
static int
match_spec(const char *range, const char *code)
{
	size_t rl = strlen(range), cl = strlen(code), rp, cp;

	if (strcmp(range, "*") == 0)
		return 1;
	if (rl == cl && tag_eq(range, code, rl))
		return 3;
	rp = primary_len(range);
	cp = primary_len(code);
	if (rp == cp && tag_eq(range, code, rp))
		return 2;
	return 0;
}

const char *
ap_i18n_negotiate(const struct ap_i18n *t, const char *accept, const char *fallback)
{
	struct al_item items[AL_MAX_ITEMS];
	const char *best = NULL;
	int best_q = 0;
	size_t best_pos = 0, n, li, k;
	bool best_fb = false;

	if (t == NULL || accept == NULL)
		return fallback;
	n = parse_accept(accept, items, AL_MAX_ITEMS);
	for (li = 0; li < t->n; li++) {
		const char *code = t->langs[li].code;
		int spec = 0, q = 0;
		size_t pos = 0;
		bool fb;

		/* The most specific range decides this language's quality. */
		for (k = 0; k < n; k++) {
			int sp = match_spec(items[k].tag, code);

			if (sp > spec) {
				spec = sp;
				q = items[k].q;
				pos = k;
			}
		}
		if (spec == 0 || q == 0)
			continue;
		fb = fallback != NULL && strcmp(code, fallback) == 0;
		if (best == NULL || q > best_q || (q == best_q && pos < best_pos) ||
		    (q == best_q && pos == best_pos && fb && !best_fb)) {
			best = code;
			best_q = q;
			best_pos = pos;
			best_fb = fb;
		}
	}
	return best ? best : fallback;
}

void
ap_i18n_fill(struct ap_buf *out, const char *tpl, const char *const *kv)
{
	const char *p = tpl;

	while (*p != '\0') {
		const char *open = strchr(p, '{'), *close;
		bool done = false;

		if (open == NULL) {
			ap_buf_puts(out, p);
			return;
		}
		ap_buf_append(out, p, (size_t)(open - p));
		if ((close = strchr(open + 1, '}')) != NULL) {
			size_t n = (size_t)(close - open - 1);

			for (size_t i = 0; kv[i] != NULL && kv[i + 1] != NULL; i += 2)
				if (strlen(kv[i]) == n && memcmp(kv[i], open + 1, n) == 0) {
					ap_buf_puts(out, kv[i + 1]);
					done = true;
					break;
				}
		}
		if (done) {
			p = close + 1;
		} else {
			ap_buf_append(out, open, 1);
			p = open + 1;
		}
	}
}
