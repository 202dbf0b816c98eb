/*
 * problem.c — the problem type (problem.h): codes, their HTTP statuses,
 * and reasons kept both as a translatable format with its arguments and
 * as English text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "aapanel/problem.h"

static const struct {
	const char *name;
	int status;
} codes[AP_PB__MAX] = {
	[AP_PB_NONE] = { "none", 200 },
	[AP_PB_INVALID] = { "invalid", 400 },
	[AP_PB_MALFORMED] = { "malformed", 400 },
	[AP_PB_UNAUTHENTICATED] = { "unauthenticated", 401 },
	[AP_PB_DENIED] = { "denied", 403 },
	[AP_PB_CSRF] = { "csrf", 403 },
	[AP_PB_NOT_FOUND] = { "not_found", 404 },
	[AP_PB_METHOD] = { "method_not_allowed", 405 },
	[AP_PB_EXISTS] = { "exists", 409 },
	[AP_PB_CONFLICT] = { "conflict", 409 },
	[AP_PB_LENGTH_REQUIRED] = { "length_required", 411 },
	[AP_PB_TOO_LARGE] = { "too_large", 413 },
	[AP_PB_MEDIA_TYPE] = { "unsupported_media_type", 415 },
	[AP_PB_THROTTLED] = { "throttled", 429 },
	[AP_PB_HEADERS_TOO_LARGE] = { "headers_too_large", 431 },
	[AP_PB_INTERNAL] = { "internal", 500 },
	[AP_PB_UNAVAILABLE] = { "unavailable", 503 },
	[AP_PB_TIMEOUT] = { "timeout", 504 },
	[AP_PB_UNSUPPORTED] = { "unsupported", 501 },
	[AP_PB_FAILED] = { "failed", 422 },
	[AP_PB_BUSY] = { "busy", 503 },
};

const char *
ap_pb_name(enum ap_pb_code code)
{
	if ((unsigned)code >= AP_PB__MAX)
		return "internal";
	return codes[code].name;
}

bool
ap_pb_parse(const char *name, enum ap_pb_code *out)
{
	for (int c = AP_PB_INVALID; name != NULL && c < AP_PB__MAX; c++)
		if (strcmp(codes[c].name, name) == 0) {
			*out = (enum ap_pb_code)c;
			return true;
		}
	return false;
}

int
ap_pb_status(enum ap_pb_code code)
{
	if ((unsigned)code >= AP_PB__MAX)
		return 500;
	return codes[code].status;
}

enum ap_pb_code
ap_pb_for_status(int status)
{
	/* The first code with the status is its generic one (400 → invalid). */
	for (int c = AP_PB_INVALID; c < AP_PB__MAX; c++)
		if (codes[c].status == status)
			return (enum ap_pb_code)c;
	return status >= 500 ? AP_PB_INTERNAL : AP_PB_INVALID;
}

enum ap_err
ap_problem_msg(struct ap_problem *pb, enum ap_pb_code code, const char *field, const char *msgid)
{
	if (pb == NULL)
		return AP_ERR_INVAL;
	memset(pb, 0, sizeof(*pb));
	pb->code = code;
	pb->status = ap_pb_status(code);
	if (field != NULL)
		snprintf(pb->field, sizeof(pb->field), "%s", field);
	if (msgid != NULL) {
		pb->msgid = msgid;
		snprintf(pb->reason, sizeof(pb->reason), "%s", msgid);
	}
	return AP_ERR_INVAL;
}

void
ap_problem_clear(struct ap_problem *pb)
{
	if (pb == NULL)
		return;
	memset(pb, 0, sizeof(*pb));
}

bool
ap_problem_is_set(const struct ap_problem *pb)
{
	return pb != NULL && pb->code != AP_PB_NONE;
}

void
ap_problem_copy(struct ap_problem *dst, const struct ap_problem *src)
{
	if (dst != src)
		memcpy(dst, src, sizeof(*dst));
}

/*
 * One conversion at fmt ('%' already seen at fmt[0]): its length in *len,
 * and what it is. Returns the kind: 's' (string, *prec_star when ".*"),
 * 'i' int, 'l' long, 'L' long long, 'z' size_t, 'c' char (as int),
 * '%' a literal percent, or 0 for a conversion kept only in reason.
 */
static int
conversion(const char *fmt, size_t *len, bool *prec_star, bool *is_unsigned)
{
	const char *p = fmt + 1;
	int kind = 'i';

	*prec_star = false;
	*is_unsigned = false;
	if (*p == '%') {
		*len = 2;
		return '%';
	}
	if (*p == '.') {
		p++;
		if (*p == '*') {
			*prec_star = true;
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				p++;
		}
	}
	if (p[0] == 'l' && p[1] == 'l') {
		kind = 'L';
		p += 2;
	} else if (*p == 'l') {
		kind = 'l';
		p++;
	} else if (*p == 'z') {
		kind = 'z';
		p++;
	}
	switch (*p) {
	case 's':
		kind = 's';
		break;
	case 'c':
		kind = 'c';
		break;
	case 'u':
	case 'x':
		*is_unsigned = true;
		break;
	case 'd':
	case 'i':
		break;
	default:
		kind = 0;
		break;
	}
	*len = (size_t)(p - fmt) + (*p ? 1 : 0);
	return kind;
}

enum ap_err
ap_problem_set(struct ap_problem *pb, enum ap_pb_code code, const char *field, const char *msgid, ...)
{
	va_list ap;

	va_start(ap, msgid);
	ap_problem_vset(pb, code, field, msgid, ap);
	va_end(ap);
	return AP_ERR_INVAL;
}

enum ap_err
ap_problem_vset(struct ap_problem *pb, enum ap_pb_code code, const char *field, const char *msgid,
    va_list ap)
{
	va_list aq;

	if (pb == NULL)
		return AP_ERR_INVAL;
	memset(pb, 0, sizeof(*pb));
	pb->code = code;
	pb->status = ap_pb_status(code);
	if (field != NULL)
		snprintf(pb->field, sizeof(pb->field), "%s", field);
	if (msgid == NULL)
		return AP_ERR_INVAL;
	pb->msgid = msgid;
	va_copy(aq, ap);
	vsnprintf(pb->reason, sizeof(pb->reason), msgid, ap);
	/* The arguments again, one by one, each formatted on its own. */
	for (const char *f = msgid; *f; f++) {
		char one[16], *dst;
		size_t len, dlen;
		bool star, uns;
		int kind, prec = -1;

		if (*f != '%')
			continue;
		kind = conversion(f, &len, &star, &uns);
		if (kind == '%') {
			f++;
			continue;
		}
		if (kind == 0 || pb->nargs == AP_PB_MAXARGS) {
			/* Not ours to keep: format() will then fall back to reason. */
			pb->nargs = -1;
			break;
		}
		if (len >= sizeof(one))
			len = sizeof(one) - 1;
		memcpy(one, f, len);
		one[len] = '\0';
		dst = pb->args[pb->nargs];
		dlen = sizeof(pb->args[0]);
		switch (kind) {
		case 's':
			if (star) {
				prec = va_arg(aq, int);
				snprintf(dst, dlen, "%.*s", prec, va_arg(aq, const char *));
			} else {
				snprintf(dst, dlen, one, va_arg(aq, const char *));
			}
			break;
		case 'c':
		case 'i':
			if (uns)
				snprintf(dst, dlen, one, va_arg(aq, unsigned));
			else
				snprintf(dst, dlen, one, va_arg(aq, int));
			break;
		case 'l':
			if (uns)
				snprintf(dst, dlen, one, va_arg(aq, unsigned long));
			else
				snprintf(dst, dlen, one, va_arg(aq, long));
			break;
		case 'L':
			if (uns)
				snprintf(dst, dlen, one, va_arg(aq, unsigned long long));
			else
				snprintf(dst, dlen, one, va_arg(aq, long long));
			break;
		case 'z':
			snprintf(dst, dlen, one, va_arg(aq, size_t));
			break;
		default:
			break;
		}
		pb->nargs++;
		f += len - 1;
	}
	va_end(aq);
	return AP_ERR_INVAL;
}

/* Conversions in fmt that take an argument; -1 when one is not ours. */
static int
count_conversions(const char *fmt)
{
	int n = 0;

	for (const char *f = fmt; *f; f++) {
		size_t len;
		bool star, uns;
		int kind;

		if (*f != '%')
			continue;
		kind = conversion(f, &len, &star, &uns);
		if (kind == 0)
			return -1;
		if (kind != '%')
			n++;
		f += len - 1;
	}
	return n;
}

void
ap_problem_format(const struct ap_problem *pb, const char *fmt, char *out, size_t outlen)
{
	size_t o = 0;
	int used = 0;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (pb == NULL)
		return;
	/* A translation must take exactly the arguments msgid took. */
	if (fmt == NULL || pb->msgid == NULL || pb->nargs < 0 || count_conversions(fmt) != pb->nargs) {
		snprintf(out, outlen, "%s", pb->reason);
		return;
	}
	for (const char *f = fmt; *f && o + 1 < outlen; f++) {
		const char *piece = f;
		size_t plen = 1, len, n;
		bool star, uns;
		int kind;

		if (*f == '%') {
			kind = conversion(f, &len, &star, &uns);
			if (kind != '%') {
				piece = pb->args[used++];
				plen = strlen(piece);
			}
			f += len - 1;
		}
		n = plen < outlen - 1 - o ? plen : outlen - 1 - o;
		memcpy(out + o, piece, n);
		o += n;
	}
	out[o] = '\0';
}
