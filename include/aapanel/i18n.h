/*
 * i18n.h — translations from gettext .po files (po/<lang>.po), loaded once
 * per worker, and language negotiation.
 */
#ifndef AAPANEL_I18N_H
#define AAPANEL_I18N_H

#include "aapanel/common.h"

struct ap_i18n;

/*
 * Load every <lang>.po in dir (lang: 2 or 3 lowercase letters, optionally
 * _Region; other files are ignored; at most 64 catalogs): msgid/msgstr
 * pairs, multi-line strings, C escapes, comments. An entry with a msgctxt
 * is keyed "ctx\004msgid"; a plural keeps msgstr[0..5] (ap_i18n_ngettext); fuzzy,
 * header and untranslated entries are not stored. On AP_OK *out is owned
 * (free with ap_i18n_free); a directory without catalogs loads none. On
 * failure *out is NULL and err (may be NULL) says why: AP_ERR_PARSE with
 * "file:line: reason" (also a duplicate msgid, or a file over 4 MiB or not
 * regular), AP_ERR_IO with "path: strerror" (unreadable directory or
 * file), AP_ERR_TOOBIG for more than 64 catalogs.
 */
enum ap_err ap_i18n_load(const char *dir, struct ap_i18n **out, char *err,
    size_t errlen);
/* NULL is a no-op. Every string borrowed from t becomes invalid. */
void ap_i18n_free(struct ap_i18n *t);

/*
 * Translation of msgid in lang, or msgid itself (also for a NULL t, an
 * unknown lang or a NULL msgid). Borrowed from t (until ap_i18n_free) or
 * the caller's msgid.
 */
const char *ap_i18n_gettext(const struct ap_i18n *t, const char *lang,
    const char *msgid);
/* Most plural forms a catalog entry keeps (Arabic has six). */
#define AP_I18N_FORMS 6

/*
 * The plural form lang uses for n, as its catalog's Plural-Forms header
 * says: Arabic (ar, ar-EG, ...) 0 for 0, 1 for 1, 2 for 2, 3 for 3..10,
 * 4 for 11..99, 5 for 100..102 (by n % 100); every other language 0 for
 * one and 1 otherwise (English's rule). NULL lang: English.
 */
unsigned ap_i18n_plural_form(const char *lang, long long n);

/*
 * Translation of the plural entry msgid/msgid_plural for the count n: the
 * catalog's msgstr[ap_i18n_plural_form(lang, n)] (msgstr[0] when that form
 * is missing). An entry not in lang's catalog (or a NULL t or lang): msgid
 * for n == 1, else msgid_plural. scripts/check-msgids.sh finds the pairs
 * of its calls (and of alerts.c's fill_n).
 */
const char *ap_i18n_ngettext(const struct ap_i18n *t, const char *lang, const char *msgid,
    const char *msgid_plural, long long n);

/* True when a catalog with exactly this code was loaded. */
bool ap_i18n_has_lang(const struct ap_i18n *t, const char *lang);

/*
 * Pick a language from an Accept-Language header value (may be NULL):
 * highest q among the loaded languages ("ar-EG" matches "ar", "*" any),
 * q=0 excluded, ties to the earlier range, then to fallback; else
 * fallback. Only the first 32 ranges and 4096 bytes are read; malformed
 * ranges are skipped. Returns a code borrowed from t (until ap_i18n_free),
 * or fallback itself (also for a NULL t).
 */
const char *ap_i18n_negotiate(const struct ap_i18n *t, const char *accept,
    const char *fallback);

/*
 * Append tpl to out with each {name} replaced by its value: kv is name,
 * value, name, value, ..., NULL. A {name} not in kv, and any other brace,
 * is copied as it is (a catalog's text is data, never a format string).
 */
void ap_i18n_fill(struct ap_buf *out, const char *tpl, const char *const *kv);

/* True for right-to-left languages (primary subtag ar, he, fa or ur, any case); false for NULL. */
bool ap_i18n_is_rtl(const char *lang);

/*
 * Template gettext callback (matches ap_tpl_gettext_fn): ctx points at a
 * struct ap_i18n_tr naming the catalogs and the request's language (NULL
 * ctx: msgid). Returns what ap_i18n_gettext does.
 */
struct ap_i18n_tr {
	const struct ap_i18n *t;
	const char *lang;
};
const char *ap_i18n_tr(void *ctx, const char *msgid);

/* Loaded languages, sorted by code (0 for a NULL t); ap_i18n_lang_at returns
 * a code borrowed from t, or NULL when i is out of range. */
size_t ap_i18n_lang_count(const struct ap_i18n *t);
const char *ap_i18n_lang_at(const struct ap_i18n *t, size_t i);

/*
 * Translated entries of lang (fuzzy, header and empty ones are not kept),
 * in file order; 0 for an unknown lang. ap_i18n_entry sets msgid
 * ("ctx\004msgid" when the entry has a msgctxt) and msgstr, both borrowed
 * from t; false when lang is unknown or i is out of range, both untouched.
 */
size_t ap_i18n_count(const struct ap_i18n *t, const char *lang);
bool ap_i18n_entry(const struct ap_i18n *t, const char *lang, size_t i,
    const char **msgid, const char **msgstr);

#endif
