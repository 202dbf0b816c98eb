/*
 * i18n.h — translations from gettext .po files (po/<lang>.po), loaded once
 * per worker, and language negotiation.
 */
#ifndef AAPANEL_I18N_H
#define AAPANEL_I18N_H

#include "aapanel/common.h"

struct ap_i18n;

/*
 * Load every <lang>.po in dir (msgid/msgstr pairs, multi-line strings,
 * C escapes, comments, msgctxt ignored-but-parsed, fuzzy entries skipped).
 * Error → AP_ERR_PARSE with "file:line: reason" in err.
 */
enum ap_err ap_i18n_load(const char *dir, struct ap_i18n **out, char *err,
    size_t errlen);
void ap_i18n_free(struct ap_i18n *t);

/* Translation of msgid in lang, or msgid itself. Borrowed from t. */
const char *ap_i18n_gettext(const struct ap_i18n *t, const char *lang,
    const char *msgid);
bool ap_i18n_has_lang(const struct ap_i18n *t, const char *lang);

/*
 * Pick a language from an Accept-Language header value (may be NULL):
 * highest q among the loaded languages ("ar-EG" matches "ar"), q=0 excluded,
 * else fallback. Returns a borrowed string from t, or fallback.
 */
const char *ap_i18n_negotiate(const struct ap_i18n *t, const char *accept,
    const char *fallback);

/* True for right-to-left languages (ar, he, fa, ur). */
bool ap_i18n_is_rtl(const char *lang);

/*
 * Template gettext callback (matches ap_tpl_gettext_fn): ctx points at a
 * struct ap_i18n_tr naming the catalogs and the request's language.
 */
struct ap_i18n_tr {
	const struct ap_i18n *t;
	const char *lang;
};
const char *ap_i18n_tr(void *ctx, const char *msgid);

/* Loaded languages, sorted by code; ap_i18n_lang_at returns a borrowed
 * code or NULL when i is out of range. */
size_t ap_i18n_lang_count(const struct ap_i18n *t);
const char *ap_i18n_lang_at(const struct ap_i18n *t, size_t i);

/*
 * Translated entries of lang (fuzzy, header and empty ones are not kept),
 * in file order. ap_i18n_entry sets borrowed msgid ("ctx\004msgid" when
 * the entry has a msgctxt) and msgstr; false when i is out of range.
 */
size_t ap_i18n_count(const struct ap_i18n *t, const char *lang);
bool ap_i18n_entry(const struct ap_i18n *t, const char *lang, size_t i,
    const char **msgid, const char **msgstr);

#endif
