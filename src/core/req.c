/*
 * req.c — builds struct ap_req from FastCGI params and the request body.
 * Every parser here is bounded by struct ap_req_limits and reports the first
 * problem as an HTTP status plus the field and a reason a user can act on.
 * Nothing is trusted: names that end up in messages are shortened and
 * stripped of control bytes so an error page cannot be used to reflect junk.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "aapanel/req.h"

/* nginx bounds the header block; this only guards against a broken peer. */
#define REQ_MAX_PARAMS 1024
/* Deeper JSON is never legitimate input for a form-like API. */
#define REQ_JSON_DEPTH 32
/* One multipart part's header block (Content-Disposition + Content-Type). */
#define MP_MAX_HEADERS 8192
/* RFC 2046: a boundary is 1 to 70 characters. */
#define MP_MAX_BOUNDARY 70
/* How much of a user-supplied name is quoted back in a message. */
#define SHOW_MAX 40

static const char *const method_names[AP_METHOD__MAX] = {
	[AP_METHOD_GET] = "GET",
	[AP_METHOD_HEAD] = "HEAD",
	[AP_METHOD_POST] = "POST",
	[AP_METHOD_PUT] = "PUT",
	[AP_METHOD_PATCH] = "PATCH",
	[AP_METHOD_DELETE] = "DELETE",
	[AP_METHOD_OPTIONS] = "OPTIONS",
};

enum dec_result {
	DEC_OK,
	DEC_BADPCT,
	DEC_NUL
};

enum body_kind {
	BODY_FORM,
	BODY_MULTIPART,
	BODY_JSON
};

static enum ap_err fail(struct ap_problem *err, int status, const char *field,
    const char *fmt, ...) AP_PRINTF(4, 5);

const char *
ap_method_name(enum ap_method m)
{
	if ((unsigned)m >= AP_METHOD__MAX)
		return NULL;
	return method_names[m];
}

bool
ap_method_parse(const char *s, enum ap_method *out)
{
	if (s == NULL)
		return false;
	for (int i = 0; i < AP_METHOD__MAX; i++) {
		if (strcmp(s, method_names[i]) == 0) {
			*out = (enum ap_method)i;
			return true;
		}
	}
	return false;
}

/*
 * Fill err and map the status to an error code: 413 is a limit
 * (AP_ERR_TOOBIG), everything else malformed input (AP_ERR_INVAL).
 */
static enum ap_err
fail(struct ap_problem *err, int status, const char *field, const char *fmt,
    ...)
{
	va_list ap;

	if (err != NULL) {
		/* A request that cannot be read is "malformed"; the rest by status. */
		va_start(ap, fmt);
		ap_problem_vset(err, status == 400 ? AP_PB_MALFORMED : ap_pb_for_status(status), field, fmt, ap);
		va_end(ap);
	}
	return status == 413 ? AP_ERR_TOOBIG : AP_ERR_INVAL;
}

/*
 * Copy an untrusted name into dst (dstlen > 0) for use in a message: at most
 * SHOW_MAX bytes, cut on a character boundary, control bytes and (when s is
 * not valid UTF-8) non-ASCII bytes shown as '?'. Returns dst.
 */
static const char *
show(char *dst, size_t dstlen, const char *s, size_t n)
{
	bool utf8 = ap_utf8_valid(s, n);
	size_t max = dstlen - 1 < SHOW_MAX ? dstlen - 1 : SHOW_MAX;
	size_t i = 0, j = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len = 1;

		if (c >= 0x80 && utf8)
			len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
		if (j + len > max)
			break;
		if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
			dst[j++] = '?';
		} else {
			memcpy(dst + j, s + i, len);
			j += len;
		}
		i += len;
	}
	dst[j] = '\0';
	return dst;
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into an arena string. Reports which rule broke so
 * callers can say "invalid percent-encoding" or "contains a NUL byte".
 */
static enum dec_result
decode(struct ap_arena *a, const char *s, size_t n, bool plus_is_space,
    char **out, size_t *outlen)
{
	char *d = ap_arena_alloc(a, n + 1);
	size_t i, j = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				return DEC_BADPCT;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0)
				return DEC_BADPCT;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else if (c == '+' && plus_is_space) {
			c = ' ';
		}
		if (c == '\0')
			return DEC_NUL;
		d[j++] = (char)c;
	}
	d[j] = '\0';
	*out = d;
	*outlen = j;
	return DEC_OK;
}

bool
ap_url_decode(struct ap_arena *a, const char *s, size_t n, bool plus_is_space,
    char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	return decode(a, s, n, plus_is_space, out, outlen) == DEC_OK;
}

void
ap_url_encode(struct ap_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			ap_buf_putc(b, (char)c);
		} else {
			ap_buf_putc(b, '%');
			ap_buf_putc(b, hex[c >> 4]);
			ap_buf_putc(b, hex[c & 15]);
		}
	}
}

enum ap_err
ap_parse_urlencoded(struct ap_arena *a, const char *s, size_t n,
    const char *source, const struct ap_req_limits *lim, struct ap_kv **out,
    size_t *nout, struct ap_problem *err)
{
	enum ap_err rc = AP_OK;
	struct ap_kv *kv = NULL;
	size_t count = 0, k = 0, i, start;
	char shown[SHOW_MAX + 1];

	*out = NULL;
	*nout = 0;
	/* Count first so the limit holds before any decoding work. */
	for (i = 0, start = 0; i <= n; i++) {
		if (i == n || s[i] == '&') {
			if (i > start)
				count++;
			start = i + 1;
		}
	}
	if (count > lim->max_fields) {
		rc = fail(err, 400, source, "too many fields (max %zu)",
		    lim->max_fields);
		goto out;
	}
	kv = ap_arena_calloc(a, count ? count : 1, sizeof(*kv));
	for (i = 0, start = 0; i <= n; i++) {
		const char *p, *eq;
		size_t plen, klen, vlen;
		char *key, *val;
		enum dec_result dr;

		if (i < n && s[i] != '&')
			continue;
		p = s + start;
		plen = i - start;
		start = i + 1;
		if (plen == 0)
			continue;
		eq = memchr(p, '=', plen);
		dr = decode(a, p, eq ? (size_t)(eq - p) : plen, true, &key, &klen);
		if (dr == DEC_BADPCT) {
			rc = fail(err, 400, source,
			    "invalid percent-encoding in a field name");
			goto out;
		}
		if (dr == DEC_NUL) {
			rc = fail(err, 400, source, "a field name contains a NUL byte");
			goto out;
		}
		/* "=x" names nothing a handler could ask for. */
		if (klen == 0)
			continue;
		if (!ap_utf8_valid(key, klen)) {
			rc = fail(err, 400, source,
			    "a field name is not valid UTF-8 text");
			goto out;
		}
		if (klen > lim->max_field_len) {
			rc = fail(err, 400, source,
			    "a field name is longer than %zu bytes",
			    lim->max_field_len);
			goto out;
		}
		show(shown, sizeof(shown), key, klen);
		if (eq != NULL)
			dr = decode(a, eq + 1, plen - (size_t)(eq + 1 - p), true,
			    &val, &vlen);
		else
			dr = decode(a, "", 0, true, &val, &vlen);
		if (dr == DEC_BADPCT) {
			rc = fail(err, 400, shown, "invalid percent-encoding in '%s'",
			    shown);
			goto out;
		}
		if (dr == DEC_NUL) {
			rc = fail(err, 400, shown, "'%s' contains a NUL byte", shown);
			goto out;
		}
		if (vlen > lim->max_field_len) {
			rc = fail(err, 400, shown, "'%s' is longer than %zu bytes",
			    shown, lim->max_field_len);
			goto out;
		}
		if (!ap_utf8_valid(val, vlen)) {
			rc = fail(err, 400, shown, "'%s' is not valid UTF-8 text",
			    shown);
			goto out;
		}
		kv[k].key = key;
		kv[k].val = val;
		kv[k].len = vlen;
		k++;
	}
	*out = kv;
	*nout = k;
out:
	return rc;
}

static const char *
kv_find(const struct ap_kv *kv, size_t n, const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(kv[i].key, name) == 0)
			return kv[i].val;
	return NULL;
}

const char *
ap_req_param(const struct ap_req *r, const char *name)
{
	return kv_find(r->params, r->nparams, name);
}

const char *
ap_req_query(const struct ap_req *r, const char *name)
{
	return kv_find(r->query, r->nquery, name);
}

const char *
ap_req_form(const struct ap_req *r, const char *name)
{
	return kv_find(r->form, r->nform, name);
}

const char *
ap_req_cookie(const struct ap_req *r, const char *name)
{
	return kv_find(r->cookies, r->ncookies, name);
}

void
ap_req_clear(struct ap_req *r)
{
	if (r == NULL)
		return;
	json_object_put(r->json);
	r->json = NULL;
}

static bool
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* "HTTP_USER_AGENT" → "user-agent", "REQUEST_URI" → "request-uri". */
static void
param_field(char *dst, size_t dstlen, const char *name, size_t n)
{
	size_t j = 0;

	if (n > 5 && strncmp(name, "HTTP_", 5) == 0) {
		name += 5;
		n -= 5;
	}
	for (size_t i = 0; i < n && j + 1 < dstlen; i++) {
		char c = name[i];

		if (c == '_')
			c = '-';
		else if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		else if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-'))
			c = '?';
		dst[j++] = c;
	}
	dst[j] = '\0';
}

/*
 * Copy envp into r->params. A bad param (too long, or carrying a line
 * break that could split a header we echo) is stored empty and the first
 * one is reported, so the rest of the request can still be read to render
 * the error in the right form.
 */
static enum ap_err
copy_params(struct ap_req *r, char *const *envp,
    const struct ap_req_limits *lim, struct ap_problem *err)
{
	enum ap_err rc = AP_OK;
	size_t count = 0, i;
	char field[64];

	for (i = 0; envp != NULL && envp[i] != NULL; i++)
		count++;
	if (count > REQ_MAX_PARAMS) {
		rc = fail(err, 400, "headers", "too many headers (max %d)",
		    REQ_MAX_PARAMS);
		count = REQ_MAX_PARAMS;
	}
	r->params = ap_arena_calloc(r->arena, count ? count : 1,
	    sizeof(*r->params));
	for (i = 0; i < count; i++) {
		const char *e = envp[i], *eq = strchr(e, '=');
		size_t nlen, vlen;
		bool toolong, crlf;

		/* NUL cannot be seen here: libfcgi hands out C strings. */
		if (eq == NULL || eq == e)
			continue;
		nlen = (size_t)(eq - e);
		vlen = strlen(eq + 1);
		toolong = nlen > lim->max_header_len || vlen > lim->max_header_len;
		crlf = strpbrk(e, "\r\n") != NULL;
		param_field(field, sizeof(field), e, nlen);
		if (toolong && rc == AP_OK)
			rc = fail(err, 400, field, "header too long (max %zu bytes)",
			    lim->max_header_len);
		else if (crlf && rc == AP_OK)
			rc = fail(err, 400, field, "header contains a line break");
		if (nlen > lim->max_header_len)
			continue;
		r->params[r->nparams].key = ap_arena_strndup(r->arena, e, nlen);
		if (toolong || crlf) {
			r->params[r->nparams].val = "";
			r->params[r->nparams].len = 0;
		} else {
			r->params[r->nparams].val =
			    ap_arena_memdup(r->arena, eq + 1, vlen + 1);
			r->params[r->nparams].len = vlen;
		}
		r->nparams++;
	}
	return rc;
}

static const char *
param_or_empty(const struct ap_req *r, const char *name)
{
	const char *v = ap_req_param(r, name);

	return v ? v : "";
}

static enum ap_err
parse_method(struct ap_req *r, struct ap_problem *err)
{
	const char *m = param_or_empty(r, "REQUEST_METHOD");
	char shown[SHOW_MAX + 1];

	if (!ap_method_parse(m, &r->method))
		return fail(err, 405, "method", "method '%s' is not supported",
		    show(shown, sizeof(shown), m, strlen(m)));
	r->method_name = method_names[r->method];
	return AP_OK;
}

/*
 * Path from REQUEST_URI (query cut off), percent-decoded without '+'
 * rules. "." and ".." segments are refused outright rather than resolved:
 * nginx already normalises them, so seeing one means an encoded attempt
 * (%2e%2e) to confuse a handler. Empty segments ("//") are kept as sent;
 * no route pattern has one, so such a path simply finds nothing (404).
 */
static enum ap_err
parse_path(struct ap_req *r, struct ap_problem *err)
{
	const char *uri = r->uri;
	size_t n = strcspn(uri, "?"), plen, i, start;
	char *p = NULL;
	enum dec_result dr;

	if (n == 0 || uri[0] != '/')
		return fail(err, 400, "path", "path must start with '/'");
	dr = decode(r->arena, uri, n, false, &p, &plen);
	if (dr == DEC_BADPCT)
		return fail(err, 400, "path", "invalid percent-encoding in path");
	if (dr == DEC_NUL)
		return fail(err, 400, "path", "path contains a NUL byte");
	if (!ap_utf8_valid(p, plen))
		return fail(err, 400, "path", "path is not valid UTF-8 text");
	for (i = 1, start = 1; i <= plen; i++) {
		if (i < plen && p[i] != '/')
			continue;
		if ((i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return fail(err, 400, "path",
			    "path must not contain . or .. segments");
		start = i + 1;
	}
	r->path = p;
	return AP_OK;
}

/* RFC 9110 qvalue as thousandths; -1 when malformed. */
static int
parse_qvalue(const char *s, size_t n)
{
	int q, scale = 100;
	size_t i;

	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return -1;
	q = (s[0] - '0') * 1000;
	if (n == 1)
		return q;
	if (s[1] != '.' || n > 5)
		return -1;
	for (i = 2; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		q += (s[i] - '0') * scale;
		scale /= 10;
	}
	return q > 1000 ? -1 : q;
}

/*
 * True when the Accept entry with the highest q is application/json. Ties
 * go to the earlier entry, and wildcards count as HTML: browsers send
 * "text/html,...,*\/\*" and must get pages.
 */
static bool
accept_wants_json(const char *s)
{
	int best_q = 0;
	bool best_json = false;
	const char *p = s;

	while (*p != '\0') {
		size_t elen = strcspn(p, ",");
		const char *e = p, *end = p + elen, *mt, *semi;
		size_t mtlen;
		int q = 1000;

		p = *end ? end + 1 : end;
		while (e < end && is_ows(*e))
			e++;
		semi = memchr(e, ';', (size_t)(end - e));
		mt = e;
		mtlen = (size_t)((semi ? semi : end) - e);
		while (mtlen > 0 && is_ows(mt[mtlen - 1]))
			mtlen--;
		while (semi != NULL) {
			const char *ps = semi + 1, *pe;

			semi = memchr(ps, ';', (size_t)(end - ps));
			pe = semi ? semi : end;
			while (ps < pe && is_ows(*ps))
				ps++;
			while (pe > ps && is_ows(pe[-1]))
				pe--;
			if (pe - ps >= 2 && (ps[0] == 'q' || ps[0] == 'Q') &&
			    ps[1] == '=')
				q = parse_qvalue(ps + 2, (size_t)(pe - ps - 2));
		}
		if (mtlen == 0 || q <= 0)
			continue;
		if (q > best_q) {
			best_q = q;
			best_json = mtlen == 16 &&
			    strncasecmp(mt, "application/json", 16) == 0;
		}
	}
	return best_json;
}

/* Cookie names are RFC 6265 tokens; anything else is someone else's junk. */
static bool
cookie_name_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7F || strchr("()<>@,;:\\\"/[]?={}", c))
			return false;
	}
	return true;
}

/*
 * "a=1; b=2" → r->cookies. Malformed pairs are skipped rather than
 * refused: another application on the same domain may set cookies we
 * cannot read, and that must not lock the user out of the panel.
 */
static enum ap_err
parse_cookies(struct ap_req *r, const struct ap_req_limits *lim,
    struct ap_problem *err)
{
	const char *s = param_or_empty(r, "HTTP_COOKIE");
	size_t cap = 1, n = strlen(s), i, start;

	for (i = 0; i < n; i++)
		if (s[i] == ';')
			cap++;
	r->cookies = ap_arena_calloc(r->arena, cap, sizeof(*r->cookies));
	for (i = 0, start = 0; i <= n; i++) {
		const char *p, *pe, *eq, *v, *ve;

		if (i < n && s[i] != ';')
			continue;
		p = s + start;
		pe = s + i;
		start = i + 1;
		while (p < pe && is_ows(*p))
			p++;
		while (pe > p && is_ows(pe[-1]))
			pe--;
		eq = memchr(p, '=', (size_t)(pe - p));
		if (eq == NULL)
			continue;
		v = eq + 1;
		ve = pe;
		while (eq > p && is_ows(eq[-1]))
			eq--;
		while (v < ve && is_ows(*v))
			v++;
		if (!cookie_name_ok(p, (size_t)(eq - p)))
			continue;
		if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
			v++;
			ve--;
		}
		if (!ap_utf8_valid(v, (size_t)(ve - v)))
			continue;
		if (r->ncookies == lim->max_fields)
			return fail(err, 400, "cookie", "too many cookies (max %zu)",
			    lim->max_fields);
		r->cookies[r->ncookies].key =
		    ap_arena_strndup(r->arena, p, (size_t)(eq - p));
		r->cookies[r->ncookies].val =
		    ap_arena_strndup(r->arena, v, (size_t)(ve - v));
		r->cookies[r->ncookies].len = (size_t)(ve - v);
		r->ncookies++;
	}
	return AP_OK;
}

/* Media type of a header value equals mt, ignoring case and parameters. */
static bool
media_type_is(const char *ct, const char *mt)
{
	size_t n = strlen(mt);

	while (is_ows(*ct))
		ct++;
	if (strncasecmp(ct, mt, n) != 0)
		return false;
	ct += n;
	while (is_ows(*ct))
		ct++;
	return *ct == '\0' || *ct == ';';
}

/*
 * Value of parameter name in a header value "type; a=b; c=\"d\"" as an
 * arena string, NULL when absent or malformed. Quoted values end at the
 * next '"' without backslash escapes: browsers percent-encode '"' in form
 * names (WHATWG), and old ones send "C:\dir\f.txt" as a raw filename.
 */
static char *
header_param(struct ap_arena *a, const char *s, const char *name)
{
	const char *p = strchr(s, ';');
	size_t nlen = strlen(name);

	while (p != NULL && *p != '\0') {
		const char *ns, *vs;
		size_t pn, vn;

		while (*p == ';' || is_ows(*p))
			p++;
		ns = p;
		while (*p != '\0' && *p != '=' && *p != ';' && !is_ows(*p))
			p++;
		pn = (size_t)(p - ns);
		while (is_ows(*p))
			p++;
		if (*p != '=') {
			/* A bare token: skip it. */
			p = strchr(p, ';');
			continue;
		}
		p++;
		while (is_ows(*p))
			p++;
		if (*p == '"') {
			vs = ++p;
			p = strchr(p, '"');
			if (p == NULL)
				return NULL;
			vn = (size_t)(p - vs);
			p++;
		} else {
			vs = p;
			while (*p != '\0' && *p != ';' && !is_ows(*p))
				p++;
			vn = (size_t)(p - vs);
		}
		if (pn == nlen && strncasecmp(ns, name, nlen) == 0)
			return ap_arena_strndup(a, vs, vn);
		while (is_ows(*p))
			p++;
		if (*p != '\0' && *p != ';')
			return NULL;
	}
	return NULL;
}

/* RFC 2046 bchars; a space may not be the last one. */
static bool
boundary_ok(const char *b)
{
	size_t n = strlen(b);

	if (n < 1 || n > MP_MAX_BOUNDARY || b[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)b[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || strchr("'()+_,-./:=? ", c)))
			return false;
	}
	return true;
}

/*
 * Strip any directory part old browsers send ("C:\x\f.txt"); refuse what
 * no file system should be asked to store. Returns NULL when refused.
 */
static const char *
upload_basename(const char *fn)
{
	const char *b = fn;

	for (const char *p = fn; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			b = p + 1;
	if (strcmp(b, ".") == 0 || strcmp(b, "..") == 0)
		return NULL;
	for (const char *p = b; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			return NULL;
	if (!ap_utf8_valid(b, strlen(b)))
		return NULL;
	return b;
}

struct mp_part {
	char *name;
	char *filename; /* NULL: text field */
	char *ctype;    /* NULL: none sent */
};

/* Parse one header line of a part into pp; false when malformed. */
static bool
mp_header(struct ap_arena *a, const char *l, size_t n, struct mp_part *pp)
{
	const char *colon = memchr(l, ':', n), *v, *ve = l + n;
	size_t nn;
	char *val;

	/* CRLF is the only line end: a bare CR, LF or NUL is malformed. */
	if (colon == NULL || memchr(l, '\0', n) != NULL ||
	    memchr(l, '\r', n) != NULL || memchr(l, '\n', n) != NULL)
		return false;
	nn = (size_t)(colon - l);
	v = colon + 1;
	while (v < ve && is_ows(*v))
		v++;
	while (ve > v && is_ows(ve[-1]))
		ve--;
	if (nn == 19 && strncasecmp(l, "Content-Disposition", 19) == 0) {
		val = ap_arena_strndup(a, v, (size_t)(ve - v));
		if (!media_type_is(val, "form-data"))
			return false;
		pp->name = header_param(a, val, "name");
		pp->filename = header_param(a, val, "filename");
	} else if (nn == 12 && strncasecmp(l, "Content-Type", 12) == 0) {
		pp->ctype = ap_arena_strndup(a, v, (size_t)(ve - v));
	}
	return true;
}

/*
 * True when a delimiter ending at body[p] is a real one: followed by "--"
 * (the close delimiter) or by optional white space and CRLF. Anything else
 * ("--XyZ-not-it") is ordinary text.
 */
static bool
delim_end_ok(const char *body, size_t len, size_t p)
{
	if (len - p >= 2 && body[p] == '-' && body[p + 1] == '-')
		return true;
	while (p < len && is_ows(body[p]))
		p++;
	return len - p >= 2 && body[p] == '\r' && body[p + 1] == '\n';
}

/* First real "\r\n--boundary" at or after from; NULL when none. */
static const char *
find_delim(const char *body, size_t len, size_t from, const char *delim,
    size_t dlen)
{
	while (from < len) {
		const char *hit = memmem(body + from, len - from, delim, dlen);

		if (hit == NULL)
			return NULL;
		if (delim_end_ok(body, len, (size_t)(hit - body) + dlen))
			return hit;
		from = (size_t)(hit - body) + 1;
	}
	return NULL;
}

/*
 * multipart/form-data (RFC 7578) over r->body. Lines end in CRLF exactly;
 * the preamble and epilogue are ignored; the closing delimiter is required
 * so a truncated upload is never taken for a complete one. Upload data
 * points into r->body (no copy: uploads can be large).
 */
static enum ap_err
parse_multipart(struct ap_req *r, const char *boundary,
    const struct ap_req_limits *lim, struct ap_problem *err)
{
	enum ap_err rc = AP_OK;
	const char *body = r->body, *hit;
	size_t len = r->body_len, blen = strlen(boundary), dlen = blen + 4;
	size_t pos, cap, nparts = 0;
	char *delim = ap_arena_printf(r->arena, "\r\n--%s", boundary);
	char shown[SHOW_MAX + 1];

	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0 &&
	    delim_end_ok(body, len, dlen - 2)) {
		pos = dlen - 2;
	} else {
		hit = find_delim(body, len, 0, delim, dlen);
		if (hit == NULL) {
			rc = fail(err, 400, "body", "multipart boundary not found");
			goto out;
		}
		pos = (size_t)(hit - body) + dlen;
	}
	/* Each part costs at least one delimiter, which bounds the arrays. */
	cap = len / dlen + 1;
	if (cap > lim->max_fields)
		cap = lim->max_fields;
	r->form = ap_arena_calloc(r->arena, cap ? cap : 1, sizeof(*r->form));
	r->uploads = ap_arena_calloc(r->arena, cap ? cap : 1,
	    sizeof(*r->uploads));
	for (;;) {
		struct mp_part pp = { NULL, NULL, NULL };
		size_t hend, cstart, clen;

		/* Every delimiter taken passed delim_end_ok(). */
		if (body[pos] == '-')
			break; /* close delimiter; the epilogue is ignored */
		while (is_ows(body[pos]))
			pos++;
		pos += 2; /* CRLF */
		if (nparts == lim->max_fields) {
			rc = fail(err, 400, "body", "too many parts (max %zu)",
			    lim->max_fields);
			goto out;
		}
		hend = len - pos > MP_MAX_HEADERS ? pos + MP_MAX_HEADERS : len;
		for (;;) {
			const char *eol = memmem(body + pos, hend - pos, "\r\n", 2);
			size_t llen;

			if (eol == NULL) {
				rc = fail(err, 400, "body",
				    hend < len ? "multipart part headers too long" :
				    "missing closing multipart boundary");
				goto out;
			}
			llen = (size_t)(eol - (body + pos));
			if (llen == 0) {
				pos += 2;
				break;
			}
			if (!mp_header(r->arena, body + pos, llen, &pp)) {
				rc = fail(err, 400, "body",
				    "malformed multipart part header");
				goto out;
			}
			pos += llen + 2;
		}
		cstart = pos;
		hit = find_delim(body, len, pos, delim, dlen);
		if (hit == NULL) {
			rc = fail(err, 400, "body",
			    "missing closing multipart boundary");
			goto out;
		}
		clen = (size_t)(hit - (body + cstart));
		pos = (size_t)(hit - body) + dlen;
		nparts++;
		if (pp.name == NULL || pp.name[0] == '\0') {
			rc = fail(err, 400, "body", "multipart part without a name");
			goto out;
		}
		if (!ap_utf8_valid(pp.name, strlen(pp.name))) {
			rc = fail(err, 400, "body",
			    "a field name is not valid UTF-8 text");
			goto out;
		}
		show(shown, sizeof(shown), pp.name, strlen(pp.name));
		if (pp.filename != NULL) {
			struct ap_upload *u = &r->uploads[r->nuploads];
			const char *fn = upload_basename(pp.filename);

			if (fn == NULL) {
				rc = fail(err, 400, shown, "invalid file name");
				goto out;
			}
			u->field = pp.name;
			u->filename = fn;
			u->content_type = pp.ctype ? pp.ctype :
			    "application/octet-stream";
			u->data = body + cstart;
			u->len = clen;
			r->nuploads++;
		} else {
			struct ap_kv *kv = &r->form[r->nform];

			if (clen > lim->max_field_len) {
				rc = fail(err, 400, shown,
				    "'%s' is longer than %zu bytes", shown,
				    lim->max_field_len);
				goto out;
			}
			if (memchr(body + cstart, '\0', clen) != NULL) {
				rc = fail(err, 400, shown, "'%s' contains a NUL byte",
				    shown);
				goto out;
			}
			if (!ap_utf8_valid(body + cstart, clen)) {
				rc = fail(err, 400, shown,
				    "'%s' is not valid UTF-8 text", shown);
				goto out;
			}
			kv->key = pp.name;
			kv->val = ap_arena_strndup(r->arena, body + cstart, clen);
			kv->len = clen;
			r->nform++;
		}
	}
out:
	return rc;
}

/*
 * A multipart body streamed (limits.stream_form): the text fields before the
 * first file part are parsed into r->form while ap_req_parse runs (so the gate
 * checks the csrf token as for any form), the file's content is left for the
 * handler to read with ap_req_part_read, through one buffer of fixed size
 * (MP_STREAM_MIN, or room for the part headers and the longest field), so a
 * worker's memory does not grow with the file.
 */
#define MP_STREAM_MIN (128 * 1024)
#define MP_FIELD_CAP (1024 * 1024)

struct ap_req_mp {
	char *delim; /* "\r\n--boundary" */
	size_t dlen;
	char *buf;
	size_t cap, start, end; /* unconsumed: buf[start..end) */
	size_t left;            /* body bytes not read yet */
	size_t parts_left;      /* parts the rest of the body may still have */
	ap_req_read_fn rd;
	void *rdctx;
	bool in_file; /* the file's content comes next */
	bool closed;  /* the closing delimiter was read */
	bool next;    /* a later file part's headers were read (ap_req_part_next takes it) */
	struct ap_upload next_up;
	const char *error;
};

/* Read more of the body, compacting the buffer first: > 0 bytes added, 0 at the body's end or a
 * full buffer, -1 on error (m->error set). */
static ssize_t
mp_fill(struct ap_req_mp *m)
{
	size_t room;
	ssize_t k;

	if (m->start > 0) {
		memmove(m->buf, m->buf + m->start, m->end - m->start);
		m->end -= m->start;
		m->start = 0;
	}
	room = m->cap - m->end;
	if (room > m->left)
		room = m->left;
	if (room == 0)
		return 0;
	k = m->rd != NULL ? m->rd(m->rdctx, m->buf + m->end, room) : 0;
	if (k < 0 || (size_t)k > room) {
		m->error = N_("could not read the request body");
		return -1;
	}
	if (k == 0) {
		m->error = N_("body shorter than Content-Length");
		return -1;
	}
	m->end += (size_t)k;
	m->left -= (size_t)k;
	return k;
}

/* Is the delimiter ending at b[p] a real one (delim_end_ok)? 1 yes, 0 no, 2 not yet known. */
static int
mp_delim_end(const char *b, size_t len, size_t p)
{
	if (len - p < 2)
		return 2;
	if (b[p] == '-' && b[p + 1] == '-')
		return 1;
	while (p < len && is_ows(b[p]))
		p++;
	if (len - p < 2)
		return 2;
	return b[p] == '\r' && b[p + 1] == '\n';
}

/* The next delimiter in the bytes buffered (more read when its end is not there yet): 1 found at
 * *at, 0 none there (one may start in the last dlen - 1 bytes), -1 error. */
static int
mp_find(struct ap_req_mp *m, size_t *at)
{
	for (;;) {
		size_t from = m->start;
		bool more = false;

		while (from < m->end) {
			const char *hit = memmem(m->buf + from, m->end - from, m->delim, m->dlen);
			size_t h;
			int st;

			if (hit == NULL)
				break;
			h = (size_t)(hit - m->buf);
			st = mp_delim_end(m->buf, m->end, h + m->dlen);
			if (st == 2 && m->left == 0)
				st = 0;
			if (st == 1) {
				*at = h;
				return 1;
			}
			if (st == 2) {
				more = true;
				break;
			}
			from = h + 1;
		}
		if (!more)
			return 0;
		if (m->start == 0 && m->end == m->cap) {
			m->error = N_("malformed multipart boundary");
			return -1;
		}
		if (mp_fill(m) < 0)
			return -1;
	}
}

/* Step over the delimiter at `at`: true when it closes the body. */
static bool
mp_take_delim(struct ap_req_mp *m, size_t at)
{
	size_t p = at + m->dlen;

	if (m->buf[p] == '-' && m->buf[p + 1] == '-') {
		m->start = p + 2;
		return true;
	}
	while (is_ows(m->buf[p]))
		p++;
	m->start = p + 2;
	return false;
}

/* A part's header block (at most MP_MAX_HEADERS bytes) into pp; -1 with m->error. */
static int
mp_headers(struct ap_arena *a, struct ap_req_mp *m, struct mp_part *pp)
{
	const char *hit;
	size_t pos;

	for (;;) {
		size_t have = m->end - m->start, look = have < MP_MAX_HEADERS + 4 ? have : MP_MAX_HEADERS + 4;

		if (have >= 2 && m->buf[m->start] == '\r' && m->buf[m->start + 1] == '\n') {
			m->start += 2; /* no headers */
			return 0;
		}
		hit = memmem(m->buf + m->start, look, "\r\n\r\n", 4);
		if (hit != NULL && (size_t)(hit - (m->buf + m->start)) <= MP_MAX_HEADERS)
			break;
		if (have >= MP_MAX_HEADERS + 4 || hit != NULL) {
			m->error = N_("multipart part headers too long");
			return -1;
		}
		if (m->left == 0) {
			m->error = N_("missing closing multipart boundary");
			return -1;
		}
		if (mp_fill(m) < 0)
			return -1;
	}
	pos = m->start;
	while (pos < (size_t)(hit - m->buf) + 2) {
		const char *eol = memmem(m->buf + pos, (size_t)(hit - m->buf) + 2 - pos, "\r\n", 2);
		size_t llen = (size_t)(eol - (m->buf + pos));

		if (!mp_header(a, m->buf + pos, llen, pp)) {
			m->error = N_("malformed multipart part header");
			return -1;
		}
		pos += llen + 2;
	}
	m->start = (size_t)(hit - m->buf) + 4;
	return 0;
}

/* Skip a part's content: the delimiter after it at *at. */
static int
mp_skip(struct ap_req_mp *m, size_t *at)
{
	for (;;) {
		int f = mp_find(m, at);

		if (f != 0)
			return f < 0 ? -1 : 0;
		if (m->end - m->start > m->dlen)
			m->start = m->end - m->dlen;
		if (m->left == 0) {
			m->error = N_("missing closing multipart boundary");
			return -1;
		}
		if (mp_fill(m) < 0)
			return -1;
	}
}

/* The body after a file's content (its delimiter at `at`): text parts skipped, up to the next
 * file part (its headers read: m->next) or the closing delimiter (m->closed); the epilogue is
 * ignored. */
static int
mp_rest(struct ap_arena *a, struct ap_req_mp *m, size_t at)
{
	while (!mp_take_delim(m, at)) {
		struct mp_part pp = { NULL, NULL, NULL };

		if (m->parts_left == 0) {
			m->error = N_("too many parts");
			return -1;
		}
		m->parts_left--;
		if (mp_headers(a, m, &pp) != 0)
			return -1;
		if (pp.filename != NULL) {
			const char *fn = upload_basename(pp.filename);

			if (pp.name == NULL || pp.name[0] == '\0' || !ap_utf8_valid(pp.name, strlen(pp.name))) {
				m->error = N_("multipart part without a name");
				return -1;
			}
			if (fn == NULL) {
				m->error = N_("invalid file name");
				return -1;
			}
			m->next_up.field = pp.name;
			m->next_up.filename = fn;
			m->next_up.content_type = pp.ctype ? pp.ctype : "application/octet-stream";
			m->next = true;
			return 0;
		}
		if (mp_skip(m, &at) != 0)
			return -1;
	}
	m->closed = true;
	return 0;
}

ssize_t
ap_req_part_read(struct ap_req *r, void *buf, size_t n)
{
	struct ap_req_mp *m = r->mp;

	if (m == NULL || m->error != NULL)
		return -1;
	if (!m->in_file || n == 0)
		return 0;
	for (;;) {
		size_t at = 0, avail;
		int f = mp_find(m, &at);

		if (f < 0)
			return -1;
		if (f == 1)
			avail = at - m->start;
		else
			avail = m->end - m->start > m->dlen ? m->end - m->start - m->dlen : 0;
		if (avail > 0) {
			if (avail > n)
				avail = n;
			memcpy(buf, m->buf + m->start, avail);
			m->start += avail;
			return (ssize_t)avail;
		}
		if (f == 1) {
			m->in_file = false;
			return mp_rest(r->arena, m, at) == 0 ? 0 : -1;
		}
		if (m->left == 0) {
			m->error = N_("missing closing multipart boundary");
			return -1;
		}
		if (mp_fill(m) < 0)
			return -1;
	}
}

int
ap_req_part_next(struct ap_req *r)
{
	struct ap_req_mp *m = r->mp;
	size_t at = 0;

	if (m == NULL)
		return 0;
	if (m->error != NULL)
		return -1;
	if (m->in_file) {
		/* The rest of this part's content unread: skipped. */
		if (mp_skip(m, &at) != 0)
			return -1;
		m->in_file = false;
		if (mp_rest(r->arena, m, at) != 0)
			return -1;
	}
	if (!m->next)
		return 0;
	m->next = false;
	m->in_file = true;
	r->uploads[0] = m->next_up;
	return 1;
}

const char *
ap_req_part_error(const struct ap_req *r)
{
	return r->mp != NULL && r->mp->error != NULL ? r->mp->error : "no file in the form";
}

bool
ap_req_part_failed(const struct ap_req *r)
{
	return r->mp != NULL && r->mp->error != NULL;
}

long long
ap_req_part_max(const struct ap_req *r)
{
	const struct ap_req_mp *m = r->mp;
	size_t rest;

	if (m == NULL || !m->in_file)
		return 0;
	rest = m->left + (m->end - m->start);
	/* What follows the content at least: "\r\n--boundary--\r\n". */
	return rest > m->dlen + 4 ? (long long)(rest - m->dlen - 4) : 0;
}

/* The reason mp_* left, as the request's 400 (a constant: translated as it is). */
static enum ap_err
mp_fail(struct ap_problem *err, const struct ap_req_mp *m)
{
	if (err != NULL)
		ap_problem_msg(err, AP_PB_MALFORMED, "body", m->error);
	return AP_ERR_INVAL;
}

static enum ap_err
parse_multipart_stream(struct ap_req *r, const char *boundary, size_t len, ap_req_read_fn rd,
    void *rdctx, const struct ap_req_limits *lim, struct ap_problem *err)
{
	struct ap_req_mp *m = ap_arena_calloc(r->arena, 1, sizeof(*m));
	size_t fl = lim->max_field_len < MP_FIELD_CAP ? lim->max_field_len : MP_FIELD_CAP;
	size_t text = 0, at = 0;
	char shown[SHOW_MAX + 1];

	m->delim = ap_arena_printf(r->arena, "\r\n--%s", boundary);
	m->dlen = strlen(m->delim);
	m->cap = MP_MAX_HEADERS + fl + 2 * m->dlen + 256;
	if (m->cap < MP_STREAM_MIN)
		m->cap = MP_STREAM_MIN;
	m->buf = ap_arena_alloc(r->arena, m->cap);
	/* The first delimiter may open the body without its CRLF: one is put before it. */
	memcpy(m->buf, "\r\n", 2);
	m->end = 2;
	m->left = len;
	m->rd = rd;
	m->rdctx = rdctx;
	r->form = ap_arena_calloc(r->arena, lim->max_fields ? lim->max_fields : 1, sizeof(*r->form));
	r->uploads = ap_arena_calloc(r->arena, 1, sizeof(*r->uploads));
	for (;;) {
		int f = mp_find(m, &at);

		if (f < 0)
			return mp_fail(err, m);
		if (f == 1)
			break;
		/* A preamble: at most one buffer of it. */
		if (m->left == 0 || m->end - m->start >= m->cap)
			return fail(err, 400, "body", "multipart boundary not found");
		if (mp_fill(m) < 0)
			return mp_fail(err, m);
	}
	for (size_t nparts = 0;; nparts++) {
		struct mp_part pp = { NULL, NULL, NULL };
		struct ap_kv *kv;
		size_t clen;
		int f;

		if (mp_take_delim(m, at))
			return AP_OK; /* closed without a file: the handler says it is missing */
		if (nparts == lim->max_fields)
			return fail(err, 400, "body", "too many parts (max %zu)", lim->max_fields);
		if (mp_headers(r->arena, m, &pp) != 0)
			return mp_fail(err, m);
		if (pp.name == NULL || pp.name[0] == '\0')
			return fail(err, 400, "body", "multipart part without a name");
		if (!ap_utf8_valid(pp.name, strlen(pp.name)))
			return fail(err, 400, "body", "a field name is not valid UTF-8 text");
		show(shown, sizeof(shown), pp.name, strlen(pp.name));
		if (pp.filename != NULL) {
			struct ap_upload *u = &r->uploads[0];
			const char *fn = upload_basename(pp.filename);

			if (fn == NULL)
				return fail(err, 400, shown, "invalid file name");
			u->field = pp.name;
			u->filename = fn;
			u->content_type = pp.ctype ? pp.ctype : "application/octet-stream";
			r->nuploads = 1;
			m->in_file = true;
			m->parts_left = lim->max_fields - nparts - 1;
			r->mp = m;
			return AP_OK;
		}
		/* A text field before the file: all of it is read, up to the next delimiter. */
		for (;;) {
			f = mp_find(m, &at);
			if (f < 0)
				return mp_fail(err, m);
			if (f == 1)
				break;
			if (m->end - m->start > fl + m->dlen)
				return fail(err, 400, shown, "'%s' is longer than %zu bytes", shown, lim->max_field_len);
			if (m->left == 0)
				return fail(err, 400, "body", "missing closing multipart boundary");
			if (mp_fill(m) < 0)
				return mp_fail(err, m);
		}
		clen = at - m->start;
		if (clen > lim->max_field_len)
			return fail(err, 400, shown, "'%s' is longer than %zu bytes", shown, lim->max_field_len);
		text += clen;
		if (text > lim->max_body)
			return fail(err, 413, "body", "the form's fields before its file are more than %zu bytes",
			    lim->max_body);
		if (memchr(m->buf + m->start, '\0', clen) != NULL)
			return fail(err, 400, shown, "'%s' contains a NUL byte", shown);
		if (!ap_utf8_valid(m->buf + m->start, clen))
			return fail(err, 400, shown, "'%s' is not valid UTF-8 text", shown);
		kv = &r->form[r->nform++];
		kv->key = pp.name;
		kv->val = ap_arena_strndup(r->arena, m->buf + m->start, clen);
		kv->len = clen;
	}
}

/*
 * JSON body: the whole body must be one value. A top-level object's
 * scalar members are mirrored into r->form as text so declared fields are
 * validated the same way whichever encoding the client used.
 */
static enum ap_err
parse_json(struct ap_req *r, const struct ap_req_limits *lim,
    struct ap_problem *err)
{
	enum ap_err rc = AP_OK;
	struct json_tokener *tok = NULL;
	struct json_object *obj = NULL;
	enum json_tokener_error jerr;
	size_t end, cap;
	char shown[SHOW_MAX + 1];

	if (memchr(r->body, '\0', r->body_len) != NULL) {
		rc = fail(err, 400, "body", "invalid JSON: contains a NUL byte");
		goto out;
	}
	if (!ap_utf8_valid(r->body, r->body_len)) {
		rc = fail(err, 400, "body", "invalid JSON: not valid UTF-8 text");
		goto out;
	}
	if (r->body_len >= INT_MAX) {
		rc = fail(err, 413, "body", "request body is too large");
		goto out;
	}
	tok = json_tokener_new_ex(REQ_JSON_DEPTH);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/*
	 * Include the terminating NUL (the body buffer has one) so a bare
	 * number at the very end is known to be complete, as in
	 * json_tokener_parse().
	 */
	obj = json_tokener_parse_ex(tok, r->body, (int)r->body_len + 1);
	jerr = json_tokener_get_error(tok);
	if (jerr != json_tokener_success) {
		rc = fail(err, 400, "body", "invalid JSON: %s",
		    json_tokener_error_desc(jerr));
		goto out;
	}
	for (end = json_tokener_get_parse_end(tok); end < r->body_len; end++) {
		char c = r->body[end];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			rc = fail(err, 400, "body",
			    "invalid JSON: trailing data after the value");
			goto out;
		}
	}
	r->json = obj;
	obj = NULL;
	if (!json_object_is_type(r->json, json_type_object))
		goto out;
	cap = (size_t)json_object_object_length(r->json);
	r->form = ap_arena_calloc(r->arena, cap ? cap : 1, sizeof(*r->form));
	json_object_object_foreach(r->json, key, val)
	{
		const char *s;
		size_t klen = strlen(key), slen;

		switch (json_object_get_type(val)) {
		case json_type_string:
		case json_type_int:
		case json_type_double:
		case json_type_boolean:
			break;
		default:
			continue;
		}
		if (klen == 0)
			continue;
		if (!ap_utf8_valid(key, klen)) {
			rc = fail(err, 400, "body",
			    "a field name is not valid UTF-8 text");
			goto out;
		}
		if (klen > lim->max_field_len) {
			rc = fail(err, 400, "body",
			    "a field name is longer than %zu bytes",
			    lim->max_field_len);
			goto out;
		}
		if (r->nform == lim->max_fields) {
			rc = fail(err, 400, "body", "too many fields (max %zu)",
			    lim->max_fields);
			goto out;
		}
		show(shown, sizeof(shown), key, klen);
		s = json_object_get_string(val);
		slen = json_object_is_type(val, json_type_string) ?
		    (size_t)json_object_get_string_len(val) : strlen(s);
		if (slen > lim->max_field_len) {
			rc = fail(err, 400, shown, "'%s' is longer than %zu bytes",
			    shown, lim->max_field_len);
			goto out;
		}
		if (memchr(s, '\0', slen) != NULL) {
			rc = fail(err, 400, shown, "'%s' contains a NUL byte", shown);
			goto out;
		}
		if (!ap_utf8_valid(s, slen)) {
			rc = fail(err, 400, shown, "'%s' is not valid UTF-8 text",
			    shown);
			goto out;
		}
		r->form[r->nform].key = ap_arena_strndup(r->arena, key, klen);
		r->form[r->nform].val = ap_arena_strndup(r->arena, s, slen);
		r->form[r->nform].len = slen;
		r->nform++;
	}
out:
	json_object_put(obj);
	if (tok != NULL)
		json_tokener_free(tok);
	return rc;
}

static enum ap_err
read_body(struct ap_req *r, ap_req_read_fn rd, void *rdctx, size_t len,
    struct ap_problem *err)
{
	char *buf = ap_arena_alloc(r->arena, len + 1);
	size_t got = 0;

	while (got < len) {
		ssize_t n = rd ? rd(rdctx, buf + got, len - got) : 0;

		if (n < 0 || (size_t)n > len - got)
			return fail(err, 400, "body",
			    "could not read the request body");
		if (n == 0)
			return fail(err, 400, "body",
			    "body shorter than Content-Length");
		got += (size_t)n;
	}
	buf[len] = '\0';
	r->body = buf;
	r->body_len = len;
	return AP_OK;
}

ssize_t
ap_req_stream_read(struct ap_req *r, void *buf, size_t n)
{
	ssize_t k;

	if (r->stream_done >= r->stream_len || n == 0)
		return 0;
	if (n > r->stream_len - r->stream_done)
		n = r->stream_len - r->stream_done;
	k = r->stream_rd != NULL ? r->stream_rd(r->stream_rdctx, buf, n) : -1;
	if (k <= 0 || (size_t)k > n)
		return -1;
	r->stream_done += (size_t)k;
	return k;
}

/*
 * Content-Length, type and size are all checked before a byte is read, so
 * an oversized or unwanted upload costs nothing but its headers.
 */
static enum ap_err
parse_body(struct ap_req *r, ap_req_read_fn rd, void *rdctx,
    const struct ap_req_limits *lim, struct ap_problem *err)
{
	enum ap_err rc = AP_OK;
	const char *cl = param_or_empty(r, "CONTENT_LENGTH"), *errstr;
	const char *boundary = NULL;
	long long len = 0;
	size_t limit;
	enum body_kind kind;
	struct ap_req_limits mine;
	char shown[SHOW_MAX + 1];

	if (cl[0] != '\0') {
		if (!ap_strtonum(cl, 0, LLONG_MAX, &len, &errstr)) {
			rc = fail(err, 400, "content-length",
			    "Content-Length is not a valid number");
			goto out;
		}
	} else if (r->method == AP_METHOD_POST || r->method == AP_METHOD_PUT ||
	    r->method == AP_METHOD_PATCH) {
		char c;
		ssize_t n = rd ? rd(rdctx, &c, 1) : 0;

		if (n < 0) {
			rc = fail(err, 400, "body", "could not read the request body");
			goto out;
		}
		if (n > 0) {
			rc = fail(err, 411, "content-length",
			    "Content-Length is required");
			goto out;
		}
	}
	if (media_type_is(r->content_type, "application/octet-stream") && lim->max_stream > 0 &&
	    (r->method == AP_METHOD_POST || r->method == AP_METHOD_PUT)) {
		/* Streamed by the handler of a route that takes it (the response layer refuses it
		 * for every other route): checked against its own limit, not read here. */
		if ((unsigned long long)len > lim->max_stream) {
			rc = fail(err, 413, "body", "request body is %lld bytes; the limit is %zu",
			    len, lim->max_stream);
			goto out;
		}
		r->stream = true;
		r->stream_len = (size_t)len;
		r->stream_rd = rd;
		r->stream_rdctx = rdctx;
		goto out;
	}
	if (len == 0)
		goto out;
	if (lim->for_route != NULL) {
		mine = *lim;
		mine.for_route = NULL;
		lim->for_route(lim->for_route_arg, r, &mine);
		lim = &mine;
	}
	if (media_type_is(r->content_type, "application/x-www-form-urlencoded")) {
		kind = BODY_FORM;
		limit = lim->max_body;
	} else if (media_type_is(r->content_type, "multipart/form-data")) {
		kind = BODY_MULTIPART;
		limit = lim->max_upload;
		/* A streamed form's file is not held: its own limit is the handler's. */
		if (lim->stream_form)
			limit = lim->max_stream + lim->max_upload;
	} else if (media_type_is(r->content_type, "application/json")) {
		kind = BODY_JSON;
		limit = lim->max_body;
	} else {
		rc = fail(err, 415, "content-type", "unsupported Content-Type '%s'",
		    show(shown, sizeof(shown), r->content_type,
		    strlen(r->content_type)));
		goto out;
	}
	if ((unsigned long long)len > limit) {
		rc = fail(err, 413, "body",
		    "request body is %lld bytes; the limit is %zu", len, limit);
		goto out;
	}
	if (kind == BODY_MULTIPART) {
		boundary = header_param(r->arena, r->content_type, "boundary");
		if (boundary == NULL || !boundary_ok(boundary)) {
			rc = fail(err, 400, "content-type",
			    "missing or invalid multipart boundary");
			goto out;
		}
	}
	if (kind == BODY_MULTIPART && lim->stream_form) {
		rc = parse_multipart_stream(r, boundary, (size_t)len, rd, rdctx, lim, err);
		goto out;
	}
	rc = read_body(r, rd, rdctx, (size_t)len, err);
	if (rc != AP_OK)
		goto out;
	switch (kind) {
	case BODY_FORM:
		rc = ap_parse_urlencoded(r->arena, r->body, r->body_len, "body",
		    lim, &r->form, &r->nform, err);
		break;
	case BODY_MULTIPART:
		rc = parse_multipart(r, boundary, lim, err);
		break;
	case BODY_JSON:
		rc = parse_json(r, lim, err);
		break;
	}
out:
	return rc;
}

enum ap_err
ap_req_parse(struct ap_req *r, struct ap_arena *a, char *const *envp,
    ap_req_read_fn rd, void *rdctx, const struct ap_req_limits *lim,
    struct ap_problem *err)
{
	enum ap_err rc, rc2;
	struct ap_problem scratch;
	const char *q;

	memset(r, 0, sizeof(*r));
	if (err == NULL)
		err = &scratch;
	memset(err, 0, sizeof(*err));
	r->arena = a;
	r->method = AP_METHOD_GET;
	r->method_name = method_names[AP_METHOD_GET];
	r->path = "/";

	/*
	 * Params, method and path are all attempted even after a failure:
	 * the error page needs them. Only the first problem is reported.
	 */
	rc = copy_params(r, envp, lim, err);
	r->uri = param_or_empty(r, "REQUEST_URI");
	r->remote_addr = param_or_empty(r, "REMOTE_ADDR");
	r->host = param_or_empty(r, "HTTP_HOST");
	r->content_type = param_or_empty(r, "CONTENT_TYPE");
	r->accept = param_or_empty(r, "HTTP_ACCEPT");
	r->accept_language = param_or_empty(r, "HTTP_ACCEPT_LANGUAGE");
	r->origin = param_or_empty(r, "HTTP_ORIGIN");
	r->referer = param_or_empty(r, "HTTP_REFERER");
	r->user_agent = param_or_empty(r, "HTTP_USER_AGENT");
	r->https = strcasecmp(param_or_empty(r, "HTTPS"), "on") == 0;
	q = ap_req_param(r, "QUERY_STRING");
	if (q == NULL) {
		q = strchr(r->uri, '?');
		q = q ? q + 1 : "";
	}
	r->query_string = q;

	rc2 = parse_method(r, rc == AP_OK ? err : &scratch);
	if (rc == AP_OK)
		rc = rc2;
	rc2 = parse_path(r, rc == AP_OK ? err : &scratch);
	if (rc == AP_OK)
		rc = rc2;
	r->wants_json = strncmp(r->path, "/api/", 5) == 0 ||
	    accept_wants_json(r->accept);
	if (rc != AP_OK)
		goto out;

	rc = ap_parse_urlencoded(a, r->query_string, strlen(r->query_string),
	    "query", lim, &r->query, &r->nquery, err);
	if (rc != AP_OK)
		goto out;
	rc = parse_cookies(r, lim, err);
	if (rc != AP_OK)
		goto out;
	rc = parse_body(r, rd, rdctx, lim, err);
out:
	/* Error pages never read the JSON body; don't rely on the caller. */
	if (rc != AP_OK)
		ap_req_clear(r);
	return rc;
}
