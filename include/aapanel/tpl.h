/*
 * tpl.h — HTML templates, compiled once per worker at start.
 *
 * Syntax (Mustache with inheritance):
 *   {{name}} {{a.b.c}} {{.}}   value, HTML-escaped (& < > " ')
 *   {{{name}}}                 unescaped, but only a string marked with
 *                              ap_tpl_mark_raw; anything else is escaped
 *   {{#name}}..{{/name}}       section: array → loop, object → push context,
 *                              truthy scalar → once, false/null/""/0/[] → skip
 *   {{^name}}..{{/name}}       inverted section
 *   {{> partial}}              include templates/partials/partial.html
 *   {{< layout}}..{{/layout}}  render layout.html with the blocks overridden
 *   {{$block}}..{{/block}}     block: default content in a layout, override in a page
 *   {{_ Some text}}            translated through the gettext callback, escaped
 *   {{! comment}}
 * Names are looked up from the innermost context outwards.
 * Any syntax error, unknown partial/layout or unbalanced tag fails the load
 * with "file:line: reason" — never at request time.
 */
#ifndef AAPANEL_TPL_H
#define AAPANEL_TPL_H

#include <json-c/json.h>

#include "aapanel/common.h"

struct ap_tpl_set;

/* Translate msgid; return msgid itself when there is no translation. */
typedef const char *(*ap_tpl_gettext_fn)(void *ctx, const char *msgid);

/*
 * Compile every *.html under dir (recursively; name = relative path without
 * ".html", e.g. "home", "partials/nav", "layout"). On error returns
 * AP_ERR_PARSE (or AP_ERR_IO) and writes "file:line: reason" into err.
 */
enum ap_err ap_tpl_load(const char *dir, struct ap_tpl_set **out, char *err,
    size_t errlen);
void ap_tpl_free(struct ap_tpl_set *s);
bool ap_tpl_has(const struct ap_tpl_set *s, const char *name);

/*
 * Render template name with model (borrowed) appended to out. tr may be
 * NULL (identity). AP_ERR_NOTFOUND when name is unknown.
 */
enum ap_err ap_tpl_render(const struct ap_tpl_set *s, const char *name,
    struct json_object *model, ap_tpl_gettext_fn tr, void *trctx,
    struct ap_buf *out);

/* Compile one template from memory (tests, fuzzing). Partials resolve in set
 * (may be NULL). Free with ap_tpl_free. */
enum ap_err ap_tpl_compile_string(const char *name, const char *text,
    struct ap_tpl_set **out, char *err, size_t errlen);

/*
 * Compile n in-memory templates as one set, so they can reference each
 * other as partials and layouts (names[i] is also the file in errors).
 * Same errors as ap_tpl_load. Free with ap_tpl_free.
 */
enum ap_err ap_tpl_compile_strings(const char *const *names,
    const char *const *texts, size_t n, struct ap_tpl_set **out, char *err,
    size_t errlen);

/*
 * Mark a json string as HTML the panel built itself, so {{{name}}} prints it
 * unescaped. v is not copied; the mark lives as long as v. NULL is a no-op.
 */
void ap_tpl_mark_raw(struct json_object *v);
/* Was v marked with ap_tpl_mark_raw? */
bool ap_tpl_is_raw(struct json_object *v);

/*
 * Keep what a section showing v ({{#v}}…{{/v}}) renders, and give the same
 * bytes again the next time that section shows v, without walking it: for
 * a part of a page that a worker keeps between requests (the home page's
 * charts and reading, issue 19). The caller promises that v (an object or
 * array, not one marked otherwise) does not change any more and that the
 * section's body shows only v's members and translated text in the one
 * language v was made for. What is kept goes with v.
 */
void ap_tpl_keep(struct json_object *v);

#endif
