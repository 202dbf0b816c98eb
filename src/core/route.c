/*
 * route.c — route table matching and declared-field validation (kcgi's
 * model): a handler never sees raw input, only values that passed the
 * validator its route declared.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aapanel/route.h"

#define ROUTE_MAX_PARAMS 8
#define ROUTE_KNOWN_FLAGS                                                                        \
	(AP_ROUTE_PUBLIC | AP_ROUTE_RAW | AP_ROUTE_LOGIN | AP_ROUTE_DB | AP_ROUTE_CONFIRM |          \
	    AP_ROUTE_BROWSER | AP_ROUTE_CREATE | AP_ROUTE_TESTING | AP_ROUTE_PROBE |          \
	    AP_ROUTE_PENDING | AP_ROUTE_STREAM | AP_ROUTE_TEXT | AP_ROUTE_JOB | AP_ROUTE_STREAM_FORM)
#define FIELD_KNOWN_FLAGS (AP_FIELD_REQUIRED | AP_FIELD_SINGLELINE | AP_FIELD_PATH | AP_FIELD_SECRET)
#define FIELDS_MAX 64 /* a table longer than this is a missing AP_FIELD_END */
#define ALL_METHODS ((1u << AP_METHOD__MAX) - 1)

static enum ap_err field_fail(struct ap_problem *err, const char *field,
    const char *fmt, ...) AP_PRINTF(3, 4);
static enum ap_err table_fail(char *err, size_t errlen, size_t i,
    const struct ap_route *rt, const char *fmt, ...) AP_PRINTF(5, 6);

/* GET routes answer HEAD too. */
static unsigned
effective_methods(unsigned m)
{
	return (m & AP_M_GET) ? (m | AP_M_HEAD) : m;
}

/* Length of the segment starting at s (up to '/' or the end). */
static size_t
seglen(const char *s)
{
	return strcspn(s, "/");
}

/*
 * Pattern and path walked segment by segment; a {param} segment takes any
 * non-empty path segment. Both start with '/'; the root is the single
 * empty segment, so "/" matches only "/".
 */
static bool
pattern_match(const char *pat, const char *path)
{
	/* Byte by byte, no segment lengths first: most routes differ from the
	 * path in their first letters, and every request tries them all. */
	while (*pat == '/' && *path == '/') {
		pat++;
		path++;
		if (pat[0] == '{') {
			if (*path == '/' || *path == '\0')
				return false;
			while (*pat != '/' && *pat != '\0')
				pat++;
			while (*path != '/' && *path != '\0')
				path++;
			continue;
		}
		while (*pat != '/' && *pat != '\0' && *pat == *path) {
			pat++;
			path++;
		}
		if ((*pat != '/' && *pat != '\0') || (*path != '/' && *path != '\0'))
			return false;
	}
	return *pat == '\0' && *path == '\0';
}

/*
 * -1 when a is more specific than b, 1 when less, 0 when the same shape:
 * at the first segment where one has a literal and the other a {param},
 * the literal wins. Both must have the same number of segments.
 */
static int
pattern_cmp(const char *a, const char *b)
{
	while (*a == '/' && *b == '/') {
		a++;
		b++;
		if (a[0] != '{' && b[0] == '{')
			return -1;
		if (a[0] == '{' && b[0] != '{')
			return 1;
		a += seglen(a);
		b += seglen(b);
	}
	return 0;
}

/* Same shape and same literals: the two patterns match the same paths. */
static bool
pattern_same(const char *a, const char *b)
{
	while (*a == '/' && *b == '/') {
		size_t al, bl;

		a++;
		b++;
		al = seglen(a);
		bl = seglen(b);
		if ((a[0] == '{') != (b[0] == '{'))
			return false;
		if (a[0] != '{' && (al != bl || memcmp(a, b, al) != 0))
			return false;
		a += al;
		b += bl;
	}
	return *a == '\0' && *b == '\0';
}

static void
fill_params(const char *pat, const char *path, struct ap_arena *a,
    struct ap_route_params *params)
{
	params->n = 0;
	while (*pat == '/' && *path == '/') {
		size_t pl, ql;

		pat++;
		path++;
		pl = seglen(pat);
		ql = seglen(path);
		if (pat[0] == '{' && params->n < ROUTE_MAX_PARAMS) {
			params->v[params->n].name =
			    ap_arena_strndup(a, pat + 1, pl - 2);
			params->v[params->n].val = ap_arena_strndup(a, path, ql);
			params->n++;
		}
		pat += pl;
		path += ql;
	}
}

enum ap_route_result
ap_route_match(const struct ap_route *table, size_t n, enum ap_method m,
    const char *path, struct ap_arena *a, const struct ap_route **out,
    struct ap_route_params *params, unsigned *allowed)
{
	const struct ap_route *best = NULL;
	unsigned mask = 0;
	bool any = false;

	if (out != NULL)
		*out = NULL;
	if (params != NULL)
		params->n = 0;
	if (allowed != NULL)
		*allowed = 0;
	if (path == NULL || path[0] != '/' || (unsigned)m >= AP_METHOD__MAX)
		return AP_ROUTE_NOT_FOUND;
	for (size_t i = 0; i < n; i++) {
		const struct ap_route *rt = &table[i];
		unsigned em = effective_methods(rt->methods);

		if (rt->pattern == NULL || !pattern_match(rt->pattern, path))
			continue;
		any = true;
		mask |= em;
		if (!(em & AP_M(m)))
			continue;
		/* Ties keep the earlier route (the table check forbids them). */
		if (best == NULL || pattern_cmp(rt->pattern, best->pattern) < 0)
			best = rt;
	}
	if (best == NULL) {
		if (!any)
			return AP_ROUTE_NOT_FOUND;
		if (allowed != NULL)
			*allowed = mask;
		return AP_ROUTE_METHOD_NOT_ALLOWED;
	}
	if (out != NULL)
		*out = best;
	if (params != NULL && a != NULL)
		fill_params(best->pattern, path, a, params);
	return AP_ROUTE_FOUND;
}

static enum ap_err
table_fail(char *err, size_t errlen, size_t i, const struct ap_route *rt,
    const char *fmt, ...)
{
	va_list ap;
	int off;

	if (err == NULL || errlen == 0)
		return AP_ERR_INVAL;
	off = snprintf(err, errlen, "route %zu (%s): ", i,
	    rt->pattern ? rt->pattern : "NULL");
	if (off >= 0 && (size_t)off < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	return AP_ERR_INVAL;
}

static bool
param_name_ok(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

/*
 * NULL when pat is a well-formed pattern, else the problem. Literal
 * segments are limited to RFC 3986 unreserved characters: anything else
 * would have to be matched against a decoded path and is a typo anyway.
 */
static const char *
pattern_problem(const char *pat)
{
	const char *names[ROUTE_MAX_PARAMS];
	size_t lens[ROUTE_MAX_PARAMS], np = 0;

	if (pat[0] != '/')
		return "pattern must start with '/'";
	if (strcmp(pat, "/") == 0)
		return NULL;
	while (*pat == '/') {
		size_t l;

		pat++;
		l = seglen(pat);
		if (l == 0)
			return pat[0] == '\0' ? "pattern must not end with '/'" :
			    "pattern has an empty segment";
		if (pat[0] == '{') {
			if (pat[l - 1] != '}' || l < 3 ||
			    !param_name_ok(pat + 1, l - 2))
				return "parameter must be {name} with name [a-z_][a-z0-9_]*";
			if (np == ROUTE_MAX_PARAMS)
				return "more than 8 parameters";
			for (size_t k = 0; k < np; k++)
				if (lens[k] == l - 2 &&
				    memcmp(names[k], pat + 1, l - 2) == 0)
					return "duplicate parameter name";
			names[np] = pat + 1;
			lens[np] = l - 2;
			np++;
		} else {
			if ((l == 1 && pat[0] == '.') ||
			    (l == 2 && pat[0] == '.' && pat[1] == '.'))
				return "'.' and '..' segments never match";
			for (size_t k = 0; k < l; k++) {
				char c = pat[k];

				if (!((c >= 'A' && c <= 'Z') ||
				    (c >= 'a' && c <= 'z') ||
				    (c >= '0' && c <= '9') || c == '-' ||
				    c == '.' || c == '_' || c == '~'))
					return "literal segment may only contain A-Z a-z 0-9 - . _ ~";
			}
		}
		pat += l;
	}
	return NULL;
}

size_t
ap_fields_count(const struct ap_field *fields)
{
	size_t n = 0;

	if (fields == NULL)
		return 0;
	while (n < FIELDS_MAX && fields[n].type != AP_FIELD__MAX)
		n++;
	return n;
}

/* Is {name} (n bytes) a segment of pat? */
static bool
pattern_has_param(const char *pat, const char *name)
{
	size_t n = strlen(name);

	while (*pat == '/') {
		size_t l;

		pat++;
		l = seglen(pat);
		if (pat[0] == '{' && l == n + 2 && memcmp(pat + 1, name, n) == 0)
			return true;
		pat += l;
	}
	return false;
}

static const char *
fields_problem(const struct ap_route *rt, const char **which)
{
	const struct ap_field *fields = rt->fields;
	size_t nf = fields != NULL ? ap_fields_count(fields) : 0;

	*which = "";
	if (fields != NULL && nf == FIELDS_MAX)
		return "field table has no AP_FIELD_END";
	for (size_t i = 0; i < nf; i++) {
		const struct ap_field *f = &fields[i];

		*which = f->name ? f->name : "(unnamed)";
		if (f->name == NULL || f->name[0] == '\0')
			return "a field has no name (a slot of its enum left out of the table?)";
		if ((unsigned)f->type >= AP_FIELD__MAX)
			return "unknown field type";
		if (f->flags & ~FIELD_KNOWN_FLAGS)
			return "unknown field flags";
		if (f->min > f->max)
			return "min is greater than max";
		if ((f->type == AP_FIELD_TEXT || f->type == AP_FIELD_NAME) &&
		    f->min < 0)
			return "negative length";
		if (f->type == AP_FIELD_ENUM &&
		    (f->choices == NULL || f->choices[0] == NULL))
			return "enum without choices";
		for (size_t k = 0; k < i; k++)
			if (strcmp(fields[k].name, f->name) == 0)
				return "declared twice";
		if ((f->flags & AP_FIELD_PATH) && !pattern_has_param(rt->pattern, f->name))
			return "path field without its {name} in the pattern";
	}
	/* Every {name} of the pattern is declared, so it is validated. */
	for (const char *pat = rt->pattern; *pat == '/';) {
		size_t l;
		bool found = false;

		pat++;
		l = seglen(pat);
		if (pat[0] == '{') {
			for (size_t i = 0; i < nf; i++)
				if ((fields[i].flags & AP_FIELD_PATH) && strlen(fields[i].name) == l - 2 &&
				    memcmp(fields[i].name, pat + 1, l - 2) == 0)
					found = true;
			if (!found) {
				*which = ap_xstrndup(pat + 1, l - 2);
				return "path parameter not declared as an AP_FIELD_PATH field";
			}
		}
		pat += l;
	}
	return NULL;
}

enum ap_err
ap_route_table_check(const struct ap_route *table, size_t n, char *err,
    size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct ap_route *rt = &table[i];
		const char *why, *which = NULL;

		if (rt->pattern == NULL)
			return table_fail(err, errlen, i, rt, "pattern is NULL");
		why = pattern_problem(rt->pattern);
		if (why != NULL)
			return table_fail(err, errlen, i, rt, "%s", why);
		if (rt->methods == 0 || (rt->methods & ~ALL_METHODS))
			return table_fail(err, errlen, i, rt,
			    "methods must be a non-empty set of AP_M_*");
		if (rt->handler == NULL)
			return table_fail(err, errlen, i, rt, "handler is NULL");
		if (rt->flags & ~ROUTE_KNOWN_FLAGS)
			return table_fail(err, errlen, i, rt, "unknown flags 0x%x",
			    rt->flags & ~ROUTE_KNOWN_FLAGS);
		if (!(rt->flags & AP_ROUTE_PUBLIC) &&
		    (rt->perm == NULL || rt->perm[0] == '\0'))
			return table_fail(err, errlen, i, rt,
			    "non-public route without a permission");
		if ((why = fields_problem(rt, &which)) != NULL)
			return table_fail(err, errlen, i, rt, "field '%s': %s",
			    which, why);
		for (size_t j = 0; j < i; j++) {
			unsigned both = effective_methods(rt->methods) &
			    effective_methods(table[j].methods);

			if (both != 0 && table[j].pattern != NULL &&
			    pattern_same(rt->pattern, table[j].pattern)) {
				struct ap_buf b = { 0 };
				enum ap_err e;

				ap_methods_str(both, &b);
				e = table_fail(err, errlen, i, rt,
				    "duplicate of route %zu for %s", j,
				    ap_buf_cstr(&b));
				ap_buf_free(&b);
				return e;
			}
		}
	}
	return AP_OK;
}

const char *
ap_cursor_check(const char *val, size_t len)
{
	if (len == 0 || len > 19 || val[0] == '0')
		return N_("is not a cursor of this list");
	for (size_t i = 0; i < len; i++)
		if (val[i] < '0' || val[i] > '9')
			return N_("is not a cursor of this list");
	return NULL;
}

void
ap_methods_str(unsigned mask, struct ap_buf *b)
{
	bool first = true;

	for (int m = 0; m < AP_METHOD__MAX; m++) {
		if (!(mask & AP_M(m)))
			continue;
		if (!first)
			ap_buf_puts(b, ", ");
		ap_buf_puts(b, ap_method_name((enum ap_method)m));
		first = false;
	}
	if (first)
		ap_buf_append(b, "", 0); /* keep b->data non-NULL */
}

static enum ap_err
field_fail(struct ap_problem *err, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL) {
		va_start(ap, fmt);
		ap_problem_vset(err, AP_PB_INVALID, field, fmt, ap);
		va_end(ap);
	}
	return AP_ERR_INVAL;
}

/* UTF-8 code points in s[0..n) (s already validated). */
static size_t
utf8_count(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	return c;
}

static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "true", "on", "yes" };
	static const char *const no[] = { "0", "false", "off", "no" };

	for (size_t i = 0; i < AP_NELEM(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

/* RFC 1123 host name; need_dot for the domain of an email address. */
static bool
hostname_ok(const char *s, size_t n, bool need_dot)
{
	size_t i = 0, labels = 0;

	if (n == 0 || n > 253)
		return false;
	for (;;) {
		size_t start = i;

		while (i < n && s[i] != '.') {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '-'))
				return false;
			i++;
		}
		if (i - start < 1 || i - start > 63 || s[start] == '-' ||
		    s[i - 1] == '-')
			return false;
		labels++;
		if (i == n)
			break;
		i++; /* the dot; a trailing one leaves an empty label */
	}
	return !need_dot || labels >= 2;
}

static bool
email_ok(const char *s, size_t n)
{
	const char *at = memchr(s, '@', n);
	size_t l;

	if (n > 254 || at == NULL)
		return false;
	l = (size_t)(at - s);
	if (l < 1 || l > 64 || s[0] == '.' || s[l - 1] == '.')
		return false;
	for (size_t i = 0; i < l; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    (c != '\0' && strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL)))
			return false;
		if (c == '.' && s[i + 1] == '.')
			return false;
	}
	return hostname_ok(at + 1, n - l - 1, true);
}

/* Length range of TEXT/NAME in characters; (0,0) means up to the limit. */
static void
length_range(const struct ap_field *f, size_t max_field_len, long long *lo,
    long long *hi)
{
	*lo = f->min;
	*hi = f->max;
	if (f->min == 0 && f->max == 0)
		*hi = (long long)max_field_len;
}

static enum ap_err
check_length(const struct ap_field *f, size_t chars, size_t max_field_len,
    struct ap_problem *err)
{
	long long lo, hi;

	length_range(f, max_field_len, &lo, &hi);
	if ((long long)chars < lo)
		return field_fail(err, f->name, "must be at least %lld characters",
		    lo);
	if ((long long)chars > hi)
		return field_fail(err, f->name, "must be at most %lld characters",
		    hi);
	return AP_OK;
}

/* Type check of one present, non-empty (except TEXT/BOOL) value. */
static enum ap_err
check_value(const struct ap_field *f, struct ap_fieldval *v,
    size_t max_field_len, struct ap_problem *err)
{
	enum ap_err rc = AP_OK;
	const char *s = v->s, *errstr;
	size_t n = v->len, i;

	switch (f->type) {
	case AP_FIELD_TEXT:
		if (!ap_utf8_valid(s, n)) {
			rc = field_fail(err, f->name, "is not valid UTF-8 text");
			break;
		}
		if (f->flags & AP_FIELD_SINGLELINE) {
			for (i = 0; i < n; i++) {
				unsigned char c = (unsigned char)s[i];

				if ((c < 0x20 && c != '\t') || c == 0x7F) {
					rc = field_fail(err, f->name,
					    "must be a single line without control characters");
					goto out;
				}
			}
		}
		/* An optional text left blank is allowed whatever the minimum. */
		if (n == 0 && !(f->flags & AP_FIELD_REQUIRED))
			break;
		rc = check_length(f, utf8_count(s, n), max_field_len, err);
		break;
	case AP_FIELD_INT:
		if (f->min == 0 && f->max == 0) {
			if (!ap_strtonum(s, LLONG_MIN, LLONG_MAX, &v->i, &errstr))
				rc = field_fail(err, f->name, "must be an integer");
		} else if (!ap_strtonum(s, f->min, f->max, &v->i, &errstr)) {
			rc = field_fail(err, f->name,
			    "must be an integer between %lld and %lld", f->min,
			    f->max);
		}
		break;
	case AP_FIELD_BOOL:
		if (!parse_bool(s, &v->b))
			rc = field_fail(err, f->name, "must be true or false");
		break;
	case AP_FIELD_ENUM: {
		struct ap_buf b = { 0 };

		for (i = 0; f->choices != NULL && f->choices[i] != NULL; i++) {
			if (strcmp(s, f->choices[i]) == 0) {
				v->i = (long long)i;
				goto out;
			}
		}
		for (i = 0; f->choices != NULL && f->choices[i] != NULL; i++)
			ap_buf_printf(&b, "%s%s", i ? ", " : "", f->choices[i]);
		rc = field_fail(err, f->name, "must be one of: %s",
		    ap_buf_cstr(&b));
		ap_buf_free(&b);
		break;
	}
	case AP_FIELD_NAME:
		for (i = 0; i < n; i++) {
			char c = s[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
			    c == '-')) {
				rc = field_fail(err, f->name,
				    "may only contain letters, digits, '_', '.' and '-'");
				goto out;
			}
		}
		if (s[0] == '.' || s[0] == '-') {
			rc = field_fail(err, f->name,
			    "must not start with '.' or '-'");
			break;
		}
		rc = check_length(f, n, max_field_len, err);
		break;
	case AP_FIELD_HOSTNAME:
		if (!hostname_ok(s, n, false))
			rc = field_fail(err, f->name, "must be a valid host name");
		break;
	case AP_FIELD_EMAIL:
		if (!email_ok(s, n))
			rc = field_fail(err, f->name, "must be a valid email address");
		break;
	default:
		rc = field_fail(err, f->name, "has an unknown type");
		break;
	}
out:
	return rc;
}

enum ap_err
ap_field_check(const struct ap_field *f, const char *s, size_t len, size_t max_field_len,
    struct ap_fieldval *v, struct ap_problem *pb)
{
	const char *why;
	enum ap_err rc;

	v->name = f->name;
	v->present = true;
	v->s = s;
	v->len = len;
	rc = check_value(f, v, max_field_len, pb);
	if (rc != AP_OK)
		return rc;
	/* regression: an optional date left empty in the audit filter failed its check */
	if (f->check != NULL && v->len > 0 && (why = f->check(v->s, v->len)) != NULL)
		return ap_problem_msg(pb, AP_PB_INVALID, f->name, why); /* why: a constant msgid */
	return AP_OK;
}

/*
 * Rules for absence: a field is absent when not sent at all, or sent empty
 * for INT/ENUM/NAME/HOSTNAME/EMAIL (an untouched form input). A required
 * field must be present and non-empty. An empty optional TEXT is present
 * as "". The custom check runs last, only on present, non-empty values.
 */
enum ap_err
ap_fields_validate(const struct ap_field *fields, const struct ap_req *r,
    const struct ap_route_params *params, size_t max_field_len, struct ap_fieldval **out,
    struct ap_problem *pb)
{
	enum ap_err rc = AP_OK;
	const struct ap_kv *src;
	size_t nsrc, nf = ap_fields_count(fields);
	struct ap_fieldval *vals;

	vals = ap_arena_calloc(r->arena, nf > AP_FIELDS_MIN ? nf : AP_FIELDS_MIN, sizeof(*vals));
	*out = vals;
	if (r->method == AP_METHOD_GET || r->method == AP_METHOD_HEAD || r->stream) {
		/* A streamed body (AP_ROUTE_STREAM) is the content: its fields are in the query. */
		src = r->query;
		nsrc = r->nquery;
	} else {
		src = r->form;
		nsrc = r->nform;
	}
	for (size_t i = 0; i < nf; i++) {
		const struct ap_field *f = &fields[i];
		struct ap_fieldval *v = &vals[i];

		v->name = f->name;
		if (f->flags & AP_FIELD_PATH) {
			/* The router matched a non-empty segment; its value must pass too. */
			for (size_t k = 0; params != NULL && k < params->n; k++)
				if (strcmp(params->v[k].name, f->name) == 0) {
					v->present = true;
					v->s = params->v[k].val;
					v->len = strlen(v->s);
				}
			if (!v->present ||
			    ap_field_check(f, v->s, v->len, max_field_len, v, pb) != AP_OK) {
				rc = ap_problem_set(pb, AP_PB_NOT_FOUND, f->name, "no such item");
				goto out;
			}
			continue;
		}
		for (size_t k = 0; k < nsrc; k++) {
			if (strcmp(src[k].key, f->name) == 0) {
				v->present = true;
				v->s = src[k].val;
				v->len = src[k].len;
				break;
			}
		}
		if (v->present && v->len == 0 && f->type != AP_FIELD_TEXT &&
		    f->type != AP_FIELD_BOOL)
			v->present = false;
		if ((f->flags & AP_FIELD_REQUIRED) &&
		    (!v->present || v->len == 0)) {
			rc = field_fail(pb, f->name, "is required");
			goto out;
		}
		if (!v->present) {
			v->s = NULL;
			v->len = 0;
			continue;
		}
		rc = ap_field_check(f, v->s, v->len, max_field_len, v, pb);
		if (rc != AP_OK)
			goto out;
	}
out:
	return rc;
}
