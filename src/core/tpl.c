/*
 * tpl.c — Mustache-style templates with inheritance, compiled once into a
 * flat op list per set and rendered without re-parsing.
 *
 * Every template of a set shares one op array, one string pool and one
 * table of name segments, so references between templates (partials,
 * layouts) are plain indices resolved at load time. A body (section, block,
 * layout) is the ops between its opening op and op->end; there is no close
 * op. Rendering walks the ops with a fixed-size context stack: no
 * allocation besides growing the output buffer.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aapanel/rows.h"
#include "aapanel/tpl.h"
#include "aapanel/uagent.h"

#define TPL_MAX_FILE (1u << 20)       /* one template source */
#define TPL_MAX_POOL (64u << 20)      /* whole set: text and names */
#define TPL_MAX_FILES 4096            /* templates per set */
#define TPL_MAX_DIR_DEPTH 8           /* sub-directories below dir */
#define TPL_MAX_NEST 32               /* open tags in one template */
#define TPL_MAX_NAME 128              /* bytes in a name */
#define TPL_MAX_SEGS 16               /* dotted segments in a name */
#define TPL_MAX_DEPTH 64              /* render recursion (sections, partials) */
#define TPL_MAX_STEPS (1u << 22)      /* ops executed by one render */
#define TPL_MAX_OUT ((size_t)64 << 20) /* bytes produced by one render */
#define TPL_MAX_INDENT 256            /* bytes of accumulated indentation */

enum op_kind {
	OP_TEXT,     /* a = pool offset, b = length */
	OP_VAR,      /* a = first segment, nseg; escaped */
	OP_RAW,      /* like OP_VAR, unescaped */
	OP_SECTION,  /* name as OP_VAR; body up to end */
	OP_INVERTED, /* name as OP_VAR; body up to end */
	OP_PARTIAL,  /* a = pool offset of the name, b = template index */
	OP_PARENT,   /* as OP_PARTIAL; body (the overriding blocks) up to end */
	OP_BLOCK,    /* a = block id; default body up to end */
	OP_TRANS,    /* a = pool offset of the NUL-terminated msgid, b = length */
	OP_FILTER,   /* {{name|filter}}: name as OP_VAR, end = filter, b = pool offset of its
		      * argument (NUL-terminated) or UINT32_MAX */
};

/* Filters a value may go through: {{created|time}}, {{agent|ua}}, {{via|tr:via}}. */
enum filter {
	FILTER_TIME = 1, /* ISO 8601 UTC → <time> with a readable text */
	FILTER_UA,       /* a User-Agent → "Chrome on Linux" (title: the whole header) */
	FILTER_TR,       /* a code → its translation in the argument's context (msgctxt) */
	FILTER_BYTES,    /* an integer of bytes → "1.5 GiB" (the exact count in title) */
};

struct op {
	uint8_t kind;
	uint8_t nseg; /* 0 means "." (current context) */
	uint16_t indlen; /* OP_PARTIAL, OP_PARENT, OP_BLOCK: see ind */
	uint16_t dedent; /* OP_BLOCK: indentation its body's lines share (standalone) */
	uint32_t line;
	uint32_t end;
	uint32_t a;
	uint32_t b;
	/* Pool offset of the indentation to add to every line rendered there:
	 * a standalone partial's or layout's leading white space; a standalone
	 * block's own (the indentation its default body shares, else its
	 * tag's). */
	uint32_t ind;
};

struct tpl {
	char *name; /* "home", "partials/nav" */
	char *file; /* as shown in errors: "templates/home.html" */
	uint32_t start, end;
};

struct ap_tpl_set {
	struct tpl *tpls; /* sorted by name once loaded */
	size_t ntpl, captpl;
	struct op *ops;
	size_t nops, capops;
	uint32_t *segs; /* pool offsets of name segments */
	size_t nsegs, capsegs;
	unsigned long *seghash; /* json-c hash of each segment (see hash_segments) */
	uint32_t *blocks; /* pool offsets of interned block names; id = index */
	size_t nblocks, capblocks;
	struct ap_buf pool;
};

/* Double the capacity of an array until it holds need elements. */
static void *
grow(void *p, size_t *cap, size_t need, size_t elsz)
{
	size_t c = *cap ? *cap : 16;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	p = ap_xrealloc(p, c * elsz);
	*cap = c;
	return p;
}


/* ---------------------------------------------------------------- compiler */

struct open_tag {
	uint32_t op;
	uint32_t line;
	char sigil;
	const char *name;
	size_t namelen;
	bool standalone; /* '$': the tag was on a standalone line */
	size_t body;     /* '$': source offset where its body starts */
	size_t ind, indlen; /* '$': the white space before the tag (standalone) */
};

struct comp {
	struct ap_tpl_set *s;
	const char *file;
	const char *src;
	size_t len;
	uint32_t line;   /* line number at line_pos */
	size_t line_pos; /* newlines counted up to here */
	bool can_merge;  /* the last op is text nothing else may separate */
	struct open_tag open[TPL_MAX_NEST];
	int nopen;
	/* The tag being compiled: on a standalone line (sa) with the white
	 * space [sa_ind, sa_ind + sa_indlen) before its first tag; after is
	 * where the text after it starts, close_pos where the text before it
	 * ends (the line's start when standalone). */
	bool sa;
	size_t sa_ind, sa_indlen;
	size_t after, close_pos;
	uint32_t group_ops;  /* ops before the standalone line's first tag */
	bool closed_pair;    /* the last tag closed a block opened on its line */
	char *err;
	size_t errlen;
};

static void
comp_err(struct comp *c, uint32_t line, const char *fmt, ...) AP_PRINTF(3, 4);

static void
comp_err(struct comp *c, uint32_t line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->err == NULL || c->errlen == 0)
		return;
	n = snprintf(c->err, c->errlen, "%s:%" PRIu32 ": ", c->file, line);
	if (n < 0 || (size_t)n >= c->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* Line number of byte pos; positions only move forward. */
static uint32_t
line_at(struct comp *c, size_t pos)
{
	const char *p = c->src + c->line_pos, *e = c->src + pos;

	while (p < e && (p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
		c->line++;
		p++;
	}
	c->line_pos = pos;
	return c->line;
}

/* Copy n bytes plus a NUL into the pool; return the offset. */
static uint32_t
pool_add(struct ap_tpl_set *s, const char *p, size_t n)
{
	uint32_t off = (uint32_t)s->pool.len;

	ap_buf_append(&s->pool, p, n);
	ap_buf_putc(&s->pool, '\0');
	return off;
}

static struct op *
emit(struct comp *c, enum op_kind kind, uint32_t line)
{
	struct ap_tpl_set *s = c->s;
	struct op *op;

	s->ops = grow(s->ops, &s->capops, s->nops + 1, sizeof(*s->ops));
	op = &s->ops[s->nops++];
	memset(op, 0, sizeof(*op));
	op->kind = (uint8_t)kind;
	op->line = line;
	c->can_merge = false;
	return op;
}

static void
emit_text(struct comp *c, size_t from, size_t to)
{
	struct ap_tpl_set *s = c->s;
	struct op *op;

	if (to <= from)
		return;
	/* Text split only by comments becomes one op: fewer steps at render. */
	if (c->can_merge) {
		op = &s->ops[s->nops - 1];
		if (op->a + op->b + 1 == s->pool.len) {
			s->pool.len--; /* drop the NUL, append, re-terminate */
			ap_buf_append(&s->pool, c->src + from, to - from);
			ap_buf_putc(&s->pool, '\0');
			op->b += (uint32_t)(to - from);
			return;
		}
	}
	op = emit(c, OP_TEXT, 0);
	op->b = (uint32_t)(to - from);
	op->a = pool_add(s, c->src + from, to - from);
	c->can_merge = true;
}

static bool
is_ws(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static bool
is_name_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
}

static void
trim(const char **p, size_t *n)
{
	while (*n > 0 && is_ws(**p)) {
		(*p)++;
		(*n)--;
	}
	while (*n > 0 && is_ws((*p)[*n - 1]))
		(*n)--;
}

/* "." or dotted segments of [A-Za-z0-9_-]; fills op->a/nseg. */
static bool
compile_name(struct comp *c, struct op *op, const char *name, size_t n)
{
	struct ap_tpl_set *s = c->s;
	size_t i, seg = 0;

	if (n == 0) {
		comp_err(c, op->line, "empty name");
		return false;
	}
	if (n == 1 && name[0] == '.') {
		op->nseg = 0;
		return true;
	}
	if (n > TPL_MAX_NAME)
		goto bad;
	for (i = 0; i < n; i++) {
		if (name[i] == '.') {
			if (i == seg)
				goto bad;
			seg = i + 1;
		} else if (!is_name_char(name[i]))
			goto bad;
	}
	if (seg == n)
		goto bad;
	op->a = (uint32_t)s->nsegs;
	seg = 0;
	for (i = 0; i <= n; i++) {
		if (i < n && name[i] != '.')
			continue;
		if (op->nseg == TPL_MAX_SEGS)
			goto bad;
		s->segs = grow(s->segs, &s->capsegs, s->nsegs + 1, sizeof(*s->segs));
		s->segs[s->nsegs++] = pool_add(s, name + seg, i - seg);
		op->nseg++;
		seg = i + 1;
	}
	return true;
bad:
	comp_err(c, op->line, "invalid name '%.*s'", (int)(n > 64 ? 64 : n), name);
	return false;
}

/* Template names: path-like, [A-Za-z0-9_-] and '/', '.'. */
static bool
check_tpl_name(struct comp *c, uint32_t line, const char *name, size_t n)
{
	size_t i;

	if (n == 0) {
		comp_err(c, line, "empty name");
		return false;
	}
	for (i = 0; i < n && n <= TPL_MAX_NAME; i++)
		if (!is_name_char(name[i]) && name[i] != '/' && name[i] != '.')
			break;
	if (i != n || name[0] == '/' || name[0] == '.') {
		comp_err(c, line, "invalid name '%.*s'", (int)(n > 64 ? 64 : n), name);
		return false;
	}
	return true;
}

static uint32_t
intern_block(struct ap_tpl_set *s, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < s->nblocks; i++) {
		const char *b = s->pool.data + s->blocks[i];

		if (strncmp(b, name, n) == 0 && b[n] == '\0')
			return (uint32_t)i;
	}
	s->blocks = grow(s->blocks, &s->capblocks, s->nblocks + 1, sizeof(*s->blocks));
	s->blocks[s->nblocks] = pool_add(s, name, n);
	return (uint32_t)s->nblocks++;
}

/* msgid with runs of white space folded to one space (tags may wrap). */
static uint32_t
pool_add_msgid(struct ap_tpl_set *s, const char *p, size_t n)
{
	uint32_t off = (uint32_t)s->pool.len;
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_ws(p[i])) {
			while (i + 1 < n && is_ws(p[i + 1]))
				i++;
			ap_buf_putc(&s->pool, ' ');
		} else
			ap_buf_putc(&s->pool, p[i]);
	}
	ap_buf_putc(&s->pool, '\0');
	return off;
}

static bool
push_open(struct comp *c, struct op *op, char sigil, const char *name, size_t n)
{
	struct open_tag *o;

	if (c->nopen == TPL_MAX_NEST) {
		comp_err(c, op->line, "nesting too deep");
		return false;
	}
	o = &c->open[c->nopen++];
	o->op = (uint32_t)(op - c->s->ops);
	o->line = op->line;
	o->sigil = sigil;
	o->name = name;
	o->namelen = n;
	o->standalone = c->sa;
	o->body = c->after;
	o->ind = c->sa_ind;
	o->indlen = c->sa ? c->sa_indlen : 0;
	return true;
}

/* Length of the white space prefix all non-blank lines of src[from, to)
 * share; *first gets the first such line's start. */
static size_t
common_indent(const char *src, size_t from, size_t to, size_t *first)
{
	size_t common = SIZE_MAX, pos = from;

	*first = SIZE_MAX;
	while (pos < to) {
		const char *nl = memchr(src + pos, '\n', to - pos);
		size_t end = nl ? (size_t)(nl - src) : to, w = 0;

		while (pos + w < end && (src[pos + w] == ' ' || src[pos + w] == '\t'))
			w++;
		if (pos + w < end && !(src[pos + w] == '\r' && pos + w + 1 == end)) {
			if (*first == SIZE_MAX) {
				*first = pos;
				common = w;
			} else {
				size_t k = 0;

				while (k < common && k < w && src[pos + k] == src[*first + k])
					k++;
				common = k;
			}
		}
		pos = end + 1;
	}
	return common == SIZE_MAX ? 0 : common;
}

/*
 * A block whose tag stood alone on its line is re-indented where it is
 * rendered (Mustache's inheritance rules): its body's shared indentation is
 * removed (dedent) and the block site's added (ind): the indentation its
 * default body shares, else the white space before its tag.
 */
static void
block_indent(struct comp *c, const struct open_tag *o, struct op *op)
{
	size_t first, w;

	if (!o->standalone)
		return;
	w = o->body < c->close_pos ? common_indent(c->src, o->body, c->close_pos, &first) : 0;
	if (w > UINT16_MAX)
		w = UINT16_MAX;
	if (w > 0) {
		op->dedent = (uint16_t)w;
		op->ind = pool_add(c->s, c->src + first, w);
		op->indlen = (uint16_t)w;
	} else if (o->indlen > 0) {
		op->ind = pool_add(c->s, c->src + o->ind, o->indlen > UINT16_MAX ? UINT16_MAX : o->indlen);
		op->indlen = (uint16_t)(o->indlen > UINT16_MAX ? UINT16_MAX : o->indlen);
	}
}

static bool
close_tag(struct comp *c, uint32_t line, const char *name, size_t n)
{
	struct open_tag *o;

	if (n == 0) {
		comp_err(c, line, "empty name");
		return false;
	}
	if (c->nopen == 0) {
		comp_err(c, line, "unexpected close '%.*s'", (int)(n > 64 ? 64 : n), name);
		return false;
	}
	o = &c->open[c->nopen - 1];
	if (o->namelen != n || memcmp(o->name, name, n) != 0) {
		comp_err(c, line, "mismatched close '%.*s', expected '%.*s'",
		    (int)(n > 64 ? 64 : n), name,
		    (int)(o->namelen > 64 ? 64 : o->namelen), o->name);
		return false;
	}
	c->s->ops[o->op].end = (uint32_t)c->s->nops;
	if (o->sigil == '$') {
		block_indent(c, o, &c->s->ops[o->op]);
		c->closed_pair = c->sa && o->op >= c->group_ops;
	}
	c->nopen--;
	c->can_merge = false;
	return true;
}

/* {{name|filter}} or {{name|filter:argument}}; an unknown filter fails the load. */
static bool
compile_filter(struct comp *c, uint32_t line, const char *p, size_t n)
{
	static const struct {
		const char *name;
		enum filter f;
		bool arg;
	} filters[] = {
		{ "time", FILTER_TIME, false },
		{ "ua", FILTER_UA, false },
		{ "tr", FILTER_TR, true },
		{ "bytes", FILTER_BYTES, false },
	};
	const char *bar = memchr(p, '|', n), *f = bar + 1, *colon;
	size_t nn = (size_t)(bar - p), fn = n - nn - 1, argn = 0;
	struct op *op;

	trim(&p, &nn);
	trim(&f, &fn);
	colon = memchr(f, ':', fn);
	if (colon != NULL) {
		argn = fn - (size_t)(colon - f) - 1;
		fn = (size_t)(colon - f);
	}
	for (size_t i = 0; i < AP_NELEM(filters); i++) {
		if (strlen(filters[i].name) != fn || memcmp(filters[i].name, f, fn) != 0)
			continue;
		if (filters[i].arg != (colon != NULL) || (colon != NULL && argn == 0)) {
			comp_err(c, line, "filter '%s' %s", filters[i].name,
			    filters[i].arg ? "needs an argument (name|tr:context)" : "takes no argument");
			return false;
		}
		for (size_t k = 0; k < argn; k++)
			if (!is_name_char(colon[1 + k])) {
				comp_err(c, line, "invalid filter argument '%.*s'", (int)(argn > 64 ? 64 : argn),
				    colon + 1);
				return false;
			}
		op = emit(c, OP_FILTER, line);
		op->end = filters[i].f;
		op->b = colon != NULL ? pool_add(c->s, colon + 1, argn) : UINT32_MAX;
		return compile_name(c, op, p, nn);
	}
	comp_err(c, line, "unknown filter '%.*s' (time, ua, bytes, tr:context)", (int)(fn > 32 ? 32 : fn), f);
	return false;
}

/* One tag: content is the text between the delimiters. */
static bool
compile_tag(struct comp *c, uint32_t line, bool triple, const char *p, size_t n)
{
	struct op *op;
	char sigil;

	trim(&p, &n);
	if (triple) {
		op = emit(c, OP_RAW, line);
		return compile_name(c, op, p, n);
	}
	if (n == 0) {
		comp_err(c, line, "empty name");
		return false;
	}
	sigil = p[0];
	if (sigil == '_' && (n == 1 || is_ws(p[1]))) {
		p++;
		n--;
		trim(&p, &n);
		if (n == 0) {
			comp_err(c, line, "empty translation text");
			return false;
		}
		op = emit(c, OP_TRANS, line);
		op->a = pool_add_msgid(c->s, p, n);
		op->b = (uint32_t)strlen(c->s->pool.data + op->a);
		return true;
	}
	if ((is_name_char(sigil) || sigil == '.') && memchr(p, '|', n) != NULL)
		return compile_filter(c, line, p, n);
	if (is_name_char(sigil) || sigil == '.') {
		op = emit(c, OP_VAR, line);
		return compile_name(c, op, p, n);
	}
	p++;
	n--;
	trim(&p, &n);
	switch (sigil) {
	case '!':
		return true;
	case '&':
		op = emit(c, OP_RAW, line);
		return compile_name(c, op, p, n);
	case '#':
	case '^':
		op = emit(c, sigil == '#' ? OP_SECTION : OP_INVERTED, line);
		return compile_name(c, op, p, n) && push_open(c, op, sigil, p, n);
	case '/':
		return close_tag(c, line, p, n);
	case '>':
	case '<':
		if (!check_tpl_name(c, line, p, n))
			return false;
		op = emit(c, sigil == '>' ? OP_PARTIAL : OP_PARENT, line);
		op->a = pool_add(c->s, p, n);
		if (c->sa && c->sa_indlen > 0) {
			/* Standalone: its white space indents every line it renders. */
			size_t w = c->sa_indlen > UINT16_MAX ? UINT16_MAX : c->sa_indlen;

			op->ind = pool_add(c->s, c->src + c->sa_ind, w);
			op->indlen = (uint16_t)w;
		}
		return sigil == '>' || push_open(c, op, sigil, p, n);
	case '$':
		if (n == 0) {
			comp_err(c, line, "empty name");
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			if (!is_name_char(p[i]) || n > TPL_MAX_NAME) {
				comp_err(c, line, "invalid name '%.*s'",
				    (int)(n > 64 ? 64 : n), p);
				return false;
			}
		}
		op = emit(c, OP_BLOCK, line);
		op->a = intern_block(c->s, p, n);
		return push_open(c, op, sigil, p, n);
	default:
		if (isprint((unsigned char)sigil))
			comp_err(c, line, "unknown tag kind '%c'", sigil);
		else
			comp_err(c, line, "unknown tag kind '\\x%02x'",
			    (unsigned char)sigil);
		return false;
	}
}

/* Tags that produce no output may stand alone on their line. */
static bool
is_standalone_kind(bool triple, const char *p, size_t n)
{
	if (triple)
		return false;
	trim(&p, &n);
	return n > 0 && strchr("#^/!><$", p[0]) != NULL;
}

/* The tag opening at src[tag]: *triple, its content [*body, *close) and
 * where it ends; false when it is not closed. */
static bool
tag_bounds(const char *src, size_t len, size_t tag, bool *triple, size_t *body, size_t *close,
    size_t *end)
{
	const char *c;

	*triple = tag + 2 < len && src[tag + 2] == '{';
	*body = tag + (*triple ? 3 : 2);
	c = memmem(src + *body, len - *body, *triple ? "}}}" : "}}", *triple ? 3 : 2);
	if (c == NULL)
		return false;
	*close = (size_t)(c - src);
	*end = *close + (*triple ? 3 : 2);
	return true;
}

/*
 * Is the line of the tag at src[tag] standalone: only white space and tags
 * that produce no output ({{#a}}{{/b}}, {{> p}}, {{! c}} ...)? Then the
 * whole line goes, white space and newline included (Mustache's standalone
 * rule, for one tag or several). *ls gets the line's start, *le the offset
 * of its newline (or len).
 */
static bool
standalone_line(const char *src, size_t len, size_t text, size_t tag, size_t *ls, size_t *le)
{
	size_t q = tag, body, close, end;
	bool triple;

	*ls = tag;
	while (*ls > text && (src[*ls - 1] == ' ' || src[*ls - 1] == '\t'))
		(*ls)--;
	if (*ls != 0 && src[*ls - 1] != '\n')
		return false;
	for (;;) {
		if (!tag_bounds(src, len, q, &triple, &body, &close, &end) ||
		    !is_standalone_kind(triple, src + body, close - body))
			return false;
		q = end;
		while (q < len && (src[q] == ' ' || src[q] == '\t' || src[q] == '\r'))
			q++;
		if (q == len || src[q] == '\n') {
			*le = q;
			return true;
		}
		if (q + 1 >= len || src[q] != '{' || src[q + 1] != '{')
			return false;
	}
}

/* Compile src into the ops of a new template named name. */
static enum ap_err
compile(struct ap_tpl_set *s, const char *name, const char *file,
    const char *src, size_t len, char *err, size_t errlen)
{
	struct comp c = {
		.s = s, .file = file, .src = src, .len = len, .line = 1,
		.err = err, .errlen = errlen,
	};
	struct tpl *t;
	size_t pos = 0, text = 0, i;
	uint32_t start = (uint32_t)s->nops;

	for (i = 0; i < s->ntpl; i++) {
		if (strcmp(s->tpls[i].name, name) == 0) {
			ap_errf(err, errlen, "%s:1: duplicate template '%s'", file, name);
			return AP_ERR_PARSE;
		}
	}
	if (s->ntpl >= TPL_MAX_FILES || s->pool.len + 2 * len > TPL_MAX_POOL) {
		ap_errf(err, errlen, "%s:1: too many or too large templates", file);
		return AP_ERR_PARSE;
	}
	for (;;) {
		const char *open = memmem(src + pos, len - pos, "{{", 2);
		size_t tag, body, close, tag_end, ls, le, next;
		bool triple;
		uint32_t line;

		if (open == NULL) {
			emit_text(&c, text, len);
			break;
		}
		tag = (size_t)(open - src);
		line = line_at(&c, tag);
		if (!tag_bounds(src, len, tag, &triple, &body, &close, &tag_end)) {
			comp_err(&c, line, "unclosed tag");
			return AP_ERR_PARSE;
		}
		if (!standalone_line(src, len, text, tag, &ls, &le)) {
			emit_text(&c, text, tag);
			c.sa = false;
			c.after = tag_end;
			c.close_pos = tag;
			if (!compile_tag(&c, line, triple, src + body, close - body))
				return AP_ERR_PARSE;
			pos = text = tag_end;
			continue;
		}
		/* Every tag of the standalone line, then past its newline. */
		emit_text(&c, text, ls);
		next = le < len ? le + 1 : le;
		c.sa = true;
		c.sa_ind = ls;
		c.sa_indlen = tag - ls;
		c.after = next;
		c.close_pos = ls;
		c.group_ops = (uint32_t)s->nops;
		for (size_t q = tag; q < le;) {
			if (!tag_bounds(src, len, q, &triple, &body, &close, &tag_end))
				break; /* cannot happen: standalone_line parsed them */
			line = line_at(&c, q);
			c.closed_pair = false;
			if (!compile_tag(&c, line, triple, src + body, close - body))
				return AP_ERR_PARSE;
			q = tag_end;
			while (q < le && src[q] != '{')
				q++;
		}
		c.sa = false;
		/* An empty block alone on its line ("  {{$b}}{{/b}}") keeps the
		 * newline: what fills it has none of its own (Mustache spec). */
		if (c.closed_pair && le < len)
			next = le;
		pos = text = next;
	}
	if (c.nopen > 0) {
		struct open_tag *o = &c.open[c.nopen - 1];
		const char *what = o->sigil == '$' ? "block" :
		    o->sigil == '<' ? "layout" : "section";

		comp_err(&c, o->line, "unclosed %s '%.*s'", what,
		    (int)(o->namelen > 64 ? 64 : o->namelen), o->name);
		return AP_ERR_PARSE;
	}
	s->tpls = grow(s->tpls, &s->captpl, s->ntpl + 1, sizeof(*s->tpls));
	t = &s->tpls[s->ntpl++];
	t->name = ap_xstrdup(name);
	t->file = ap_xstrdup(file);
	t->start = start;
	t->end = (uint32_t)s->nops;
	return AP_OK;
}

static int
tpl_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tpl *)a)->name, ((const struct tpl *)b)->name);
}

static int
tpl_key_cmp(const void *key, const void *b)
{
	return strcmp(key, ((const struct tpl *)b)->name);
}

static const struct tpl *
find_tpl(const struct ap_tpl_set *s, const char *name)
{
	if (s == NULL || name == NULL || s->ntpl == 0)
		return NULL;
	return bsearch(name, s->tpls, s->ntpl, sizeof(*s->tpls), tpl_key_cmp);
}

/*
 * Name lookups are the renderer's hottest path. json-c hashes every key of
 * every lookup; the names are fixed, so hash them once here with the hash
 * function json-c uses for all object tables (its seed is fixed per process,
 * and workers inherit the master's). lookup() then probes with the
 * precomputed hash.
 */
static void
hash_segments(struct ap_tpl_set *s)
{
	struct json_object *probe = json_object_new_object();
	struct lh_table *t = json_object_get_object(probe);

	free(s->seghash);
	s->seghash = ap_xcalloc(s->nsegs ? s->nsegs : 1, sizeof(*s->seghash));
	for (size_t i = 0; i < s->nsegs; i++)
		s->seghash[i] = lh_get_hash(t, s->pool.data + s->segs[i]);
	json_object_put(probe);
}

/* Sort by name and resolve every partial and layout reference. */
static enum ap_err
link_set(struct ap_tpl_set *s, char *err, size_t errlen)
{
	size_t i, j;

	hash_segments(s);

	if (s->ntpl > 1)
		qsort(s->tpls, s->ntpl, sizeof(*s->tpls), tpl_cmp);
	for (i = 0; i < s->ntpl; i++) {
		const struct tpl *t = &s->tpls[i];

		for (j = t->start; j < t->end; j++) {
			struct op *op = &s->ops[j];
			const struct tpl *target;

			if (op->kind != OP_PARTIAL && op->kind != OP_PARENT)
				continue;
			target = find_tpl(s, s->pool.data + op->a);
			if (target == NULL && op->kind == OP_PARTIAL) {
				/* {{> nav}} may name templates/partials/nav.html. */
				char *alt = ap_xasprintf("partials/%s", s->pool.data + op->a);

				target = find_tpl(s, alt);
				free(alt);
			}
			if (target == NULL) {
				ap_errf(err, errlen, "%s:%" PRIu32 ": unknown %s '%s'",
				    t->file, op->line,
				    op->kind == OP_PARTIAL ? "partial" : "layout",
				    s->pool.data + op->a);
				return AP_ERR_PARSE;
			}
			op->b = (uint32_t)(target - s->tpls);
		}
	}
	return AP_OK;
}

/* Report the first line holding invalid UTF-8 or a NUL byte. */
static bool
check_utf8(const char *file, const char *src, size_t len, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned line = 1;

	if (ap_utf8_valid(src, len))
		return true;
	while (pos < len) {
		const char *nl = memchr(src + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - src) : len;

		if (!ap_utf8_valid(src + pos, end - pos))
			break;
		pos = end + 1;
		line++;
	}
	ap_errf(err, errlen, "%s:%u: invalid UTF-8", file, line);
	return false;
}

/* ------------------------------------------------------------------ loader */

struct entry {
	char *rel; /* "partials/nav.html" */
};

struct walk {
	struct entry *v;
	size_t n, cap;
	const char *top; /* dir as shown in errors */
	char *err;
	size_t errlen;
};

static enum ap_err
walk_dir(struct walk *w, int dfd, const char *prefix, int depth)
{
	DIR *d = NULL;
	struct dirent *de;
	enum ap_err rc = AP_OK;

	d = fdopendir(dfd);
	if (d == NULL) {
		close(dfd);
		ap_errf(w->err, w->errlen, "%s/%s: %s", w->top, prefix, strerror(errno));
		return AP_ERR_IO;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		size_t nl = strlen(de->d_name);
		char *rel;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		rel = ap_xasprintf("%s%s", prefix, de->d_name);
		if (S_ISDIR(st.st_mode)) {
			int sub;
			char *subprefix;

			if (depth >= TPL_MAX_DIR_DEPTH) {
				free(rel);
				continue;
			}
			sub = openat(dirfd(d), de->d_name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				ap_errf(w->err, w->errlen, "%s/%s: %s", w->top, rel, strerror(errno));
				free(rel);
				rc = AP_ERR_IO;
				goto out;
			}
			subprefix = ap_xasprintf("%s/", rel);
			free(rel);
			rc = walk_dir(w, sub, subprefix, depth + 1);
			free(subprefix);
			if (rc != AP_OK)
				goto out;
		} else if (S_ISREG(st.st_mode) && nl > 5 &&
		    strcmp(de->d_name + nl - 5, ".html") == 0) {
			if (w->n >= TPL_MAX_FILES) {
				ap_errf(w->err, w->errlen, "%s: too many templates", w->top);
				free(rel);
				rc = AP_ERR_PARSE;
				goto out;
			}
			w->v = grow(w->v, &w->cap, w->n + 1, sizeof(*w->v));
			w->v[w->n++].rel = rel;
		} else
			free(rel);
	}
out:
	closedir(d);
	return rc;
}

static int
entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->rel, ((const struct entry *)b)->rel);
}

/* Whole file into a NUL-terminated buffer, bounded by TPL_MAX_FILE. */
static enum ap_err
read_file(int dfd, const char *rel, const char *file, char **out, size_t *outlen,
    char *err, size_t errlen)
{
	enum ap_err rc = ap_read_file_at(dfd, rel, TPL_MAX_FILE, out, outlen);

	if (rc == AP_ERR_TOOBIG) {
		ap_errf(err, errlen, "%s:1: not a regular file or larger than %u bytes", file, TPL_MAX_FILE);
		return AP_ERR_PARSE;
	}
	if (rc != AP_OK)
		ap_errf(err, errlen, "%s: %s", file, strerror(errno));
	return rc;
}


enum ap_err
ap_tpl_load(const char *dir, struct ap_tpl_set **out, char *err, size_t errlen)
{
	struct walk w = { .err = err, .errlen = errlen };
	struct ap_tpl_set *s = NULL;
	char *label = NULL;
	enum ap_err rc;
	size_t i;
	int dfd = -1;

	*out = NULL;
	label = ap_path_last(dir);
	w.top = label;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ap_errf(err, errlen, "%s: %s", dir, strerror(errno));
		rc = AP_ERR_IO;
		goto out;
	}
	rc = walk_dir(&w, dup(dfd), "", 0);
	if (rc != AP_OK)
		goto out;
	if (w.n > 1)
		qsort(w.v, w.n, sizeof(*w.v), entry_cmp);
	s = ap_xcalloc(1, sizeof(*s));
	for (i = 0; i < w.n; i++) {
		char *file = ap_xasprintf("%s/%s", label, w.v[i].rel);
		char *name = ap_xstrndup(w.v[i].rel, strlen(w.v[i].rel) - 5);
		char *src = NULL;
		size_t len = 0;

		rc = read_file(dfd, w.v[i].rel, file, &src, &len, err, errlen);
		if (rc == AP_OK && !check_utf8(file, src, len, err, errlen))
			rc = AP_ERR_PARSE;
		if (rc == AP_OK)
			rc = compile(s, name, file, src, len, err, errlen);
		free(src);
		free(name);
		free(file);
		if (rc != AP_OK)
			goto out;
	}
	rc = link_set(s, err, errlen);
	if (rc != AP_OK)
		goto out;
	*out = s;
	s = NULL;
out:
	if (dfd >= 0)
		close(dfd);
	for (i = 0; i < w.n; i++)
		free(w.v[i].rel);
	free(w.v);
	free(label);
	ap_tpl_free(s);
	return rc;
}

enum ap_err
ap_tpl_compile_strings(const char *const *names, const char *const *texts,
    size_t n, struct ap_tpl_set **out, char *err, size_t errlen)
{
	struct ap_tpl_set *s = ap_xcalloc(1, sizeof(*s));
	enum ap_err rc = AP_OK;
	size_t i;

	*out = NULL;
	for (i = 0; i < n && rc == AP_OK; i++) {
		size_t len = strlen(texts[i]);
		struct comp probe = { .file = names[i], .err = err, .errlen = errlen };

		if (!check_tpl_name(&probe, 1, names[i], strlen(names[i])))
			rc = AP_ERR_PARSE;
		else if (!check_utf8(names[i], texts[i], len, err, errlen))
			rc = AP_ERR_PARSE;
		else
			rc = compile(s, names[i], names[i], texts[i], len, err, errlen);
	}
	if (rc == AP_OK)
		rc = link_set(s, err, errlen);
	if (rc != AP_OK) {
		ap_tpl_free(s);
		return rc;
	}
	*out = s;
	return AP_OK;
}

enum ap_err
ap_tpl_compile_string(const char *name, const char *text,
    struct ap_tpl_set **out, char *err, size_t errlen)
{
	return ap_tpl_compile_strings(&name, &text, 1, out, err, errlen);
}

void
ap_tpl_free(struct ap_tpl_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ntpl; i++) {
		free(s->tpls[i].name);
		free(s->tpls[i].file);
	}
	free(s->tpls);
	free(s->ops);
	free(s->segs);
	free(s->seghash);
	free(s->blocks);
	ap_buf_free(&s->pool);
	free(s);
}

bool
ap_tpl_has(const struct ap_tpl_set *s, const char *name)
{
	return find_tpl(s, name) != NULL;
}

/* ---------------------------------------------------------------- renderer */

/*
 * A value as the renderer sees it: a json-c value of the model, or a cell
 * of a typed row source (rows.h) read straight from its struct, or one
 * row of such a source (a context, like an object).
 */
enum val_kind { V_NONE, V_JSON, V_STR, V_INT, V_BOOL, V_TIME, V_ROWS, V_ROW, V_DOUBLE };
struct val {
	enum val_kind k;
	union {
		struct json_object *j;    /* V_JSON (never NULL: JSON null is V_NONE) */
		const struct ap_rows *rs; /* V_ROWS, V_ROW */
		const char *s;            /* V_STR */
	};
	const unsigned char *row; /* V_ROW */
	int64_t i;                /* V_INT, V_BOOL, V_TIME */
	double d;                 /* V_DOUBLE */
};

#define TPL_COL_CACHE 64
#define TPL_TR_CACHE 32

struct render {
	const struct ap_tpl_set *s;
	const char *pool;
	struct ap_buf *out;
	ap_tpl_gettext_fn tr;
	void *trctx;
	struct val ctx[TPL_MAX_DEPTH + 1];
	/* The column a name op reads in a row source's rows (-1: none). */
	struct {
		const struct op *op;
		const struct ap_rows *rs;
		int col;
	} colcache[TPL_COL_CACHE];
	/* A translated text op's text. */
	struct {
		const struct op *op;
		const char *s;
		size_t n;
	} trcache[TPL_TR_CACHE];
	unsigned nctx;
	uint32_t frames[TPL_MAX_DEPTH]; /* OP_PARENT indices, outermost first */
	unsigned nframes;
	unsigned depth;
	size_t steps;
	size_t out_start;
	/* Re-indentation (standalone partials, layouts, blocks): ind is added
	 * at the start of every line of template text, after up to strip
	 * leading blanks of that line were dropped (a block's own indentation).
	 * bol: at the start of a line, indentation not yet written; skip:
	 * blanks of this line still to drop. */
	char ind[TPL_MAX_INDENT];
	size_t indlen;
	unsigned strip, skip;
	bool bol;
};

/* Bytes to the output: straight into its spare room when they fit. */
static inline void
out_append(struct ap_buf *b, const char *p, size_t n)
{
	if (b->data != NULL && b->len + n < b->cap) {
		memcpy(b->data + b->len, p, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	ap_buf_append(b, p, n);
}

static const unsigned char esc_special[256] = {
	['&'] = 1, ['<'] = 1, ['>'] = 1, ['"'] = 1, ['\''] = 1,
};

/* HTML-escaped text to the output (as ap_buf_html_escape), in one pass
 * when the worst case fits the spare room. */
static void
out_escape(struct ap_buf *b, const char *s, size_t n)
{
	char *o;

	if (b->data == NULL || b->cap - b->len <= n * 6) {
		ap_buf_html_escape(b, s, n);
		return;
	}
	o = b->data + b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!esc_special[c]) {
			*o++ = (char)c;
			continue;
		}
		switch (c) {
		case '&': memcpy(o, "&amp;", 5), o += 5; break;
		case '<': memcpy(o, "&lt;", 4), o += 4; break;
		case '>': memcpy(o, "&gt;", 4), o += 4; break;
		case '"': memcpy(o, "&quot;", 6), o += 6; break;
		default: memcpy(o, "&#39;", 5), o += 5; break;
		}
	}
	b->len = (size_t)(o - b->data);
	*o = '\0';
}

/* Template text: the only output whose line starts are indented. */
static void
put_text(struct render *r, const char *p, size_t n)
{
	size_t i = 0;

	if (n == 0)
		return;
	if (r->indlen == 0 && r->skip == 0 && r->strip == 0) {
		out_append(r->out, p, n);
		r->bol = p[n - 1] == '\n';
		return;
	}
	while (i < n) {
		const char *nl;
		size_t end;

		if (r->skip > 0 && (p[i] == ' ' || p[i] == '\t')) {
			r->skip--;
			i++;
			continue;
		}
		r->skip = 0;
		if (p[i] == '\n') { /* blank lines stay blank */
			ap_buf_putc(r->out, '\n');
			r->bol = true;
			r->skip = r->strip;
			i++;
			continue;
		}
		if (r->bol) {
			ap_buf_append(r->out, r->ind, r->indlen);
			r->bol = false;
		}
		nl = memchr(p + i, '\n', n - i);
		end = nl ? (size_t)(nl - p) + 1 : n;
		out_append(r->out, p + i, end - i);
		i = end;
		if (nl) {
			r->bol = true;
			r->skip = r->strip;
		}
	}
}

/* Before a value (never indented inside, per Mustache): the pending
 * indentation of its line. */
static void
put_value_start(struct render *r)
{
	r->skip = 0;
	if (r->bol && r->indlen > 0)
		ap_buf_append(r->out, r->ind, r->indlen);
	r->bol = false;
}

struct indent_save {
	size_t indlen;
	unsigned strip;
};

/*
 * Enter something rendered with n more bytes of indentation (the first
 * `drop` of which fall away: they belong to the enclosing block's own
 * indentation, which is being removed) and a new strip. Undo with
 * indent_pop.
 */
static struct indent_save
indent_push(struct render *r, const char *ind, size_t n, unsigned strip)
{
	struct indent_save sv = { r->indlen, r->strip };
	size_t drop = r->strip < n ? r->strip : n;

	n -= drop;
	if (n > 0 && r->indlen + n <= sizeof(r->ind)) {
		memcpy(r->ind + r->indlen, ind + drop, n);
		r->indlen += n;
		r->bol = true; /* standalone: it starts a line */
	}
	r->strip = strip;
	r->skip = strip;
	return sv;
}

static void
indent_pop(struct render *r, struct indent_save sv)
{
	r->indlen = sv.indlen;
	r->strip = sv.strip;
	r->skip = r->bol ? r->strip : 0;
}

/* Member k (with its precomputed hash h) of v, or NULL. */
static struct json_object *
member(struct json_object *v, const char *k, unsigned long h)
{
	struct lh_entry *e;

	if (!json_object_is_type(v, json_type_object))
		return NULL;
	e = lh_table_lookup_entry_w_hash(json_object_get_object(v), k, h);
	return e ? (struct json_object *)lh_entry_v(e) : NULL;
}

/* A json-c value as a val: null is nothing, a row source is its rows. */
static struct val
json_val(struct json_object *j)
{
	struct val v = { .k = V_NONE };
	const struct ap_rows *rs;

	if (j == NULL)
		return v;
	if ((rs = ap_rows_of(j)) != NULL) {
		v.k = V_ROWS;
		v.rs = rs;
		return v;
	}
	v.k = V_JSON;
	v.j = j;
	return v;
}

/* The column of rs called name, looked up once per op and row source. */
static int
row_col(struct render *r, const struct op *op, const struct ap_rows *rs, const char *name)
{
	size_t slot = op->a % TPL_COL_CACHE; /* the op's first name segment: its own */
	int c = -1;

	if (r->colcache[slot].op == op && r->colcache[slot].rs == rs)
		return r->colcache[slot].col;
	for (size_t i = 0; i < rs->ncols; i++) {
		if (strcmp(rs->cols[i].name, name) == 0) {
			c = (int)i;
			break;
		}
	}
	r->colcache[slot].op = op;
	r->colcache[slot].rs = rs;
	r->colcache[slot].col = c;
	return c;
}

/* Cell c of a row. */
static inline struct val
cell(const struct ap_rows *rs, const unsigned char *row, int c)
{
	const struct ap_col *col = &rs->cols[c];
	struct val v = { .k = V_NONE };
	struct json_object *j;
	bool b;

	switch (col->type) {
	case AP_COL_STR:
		memcpy(&v.s, row + col->off, sizeof(v.s));
		v.k = v.s ? V_STR : V_NONE;
		break;
	case AP_COL_INT:
	case AP_COL_INTN:
		memcpy(&v.i, row + col->off, sizeof(v.i));
		v.k = col->type == AP_COL_INTN && v.i == AP_ROWS_NULL ? V_NONE : V_INT;
		break;
	case AP_COL_TIME:
		memcpy(&v.i, row + col->off, sizeof(v.i));
		v.k = v.i ? V_TIME : V_NONE;
		break;
	case AP_COL_BOOL:
		memcpy(&b, row + col->off, sizeof(b));
		v.i = b;
		v.k = V_BOOL;
		break;
	case AP_COL_DOUBLE:
		memcpy(&v.d, row + col->off, sizeof(v.d));
		v.k = isnan(v.d) ? V_NONE : V_DOUBLE;
		break;
	case AP_COL_JSON:
		memcpy(&j, row + col->off, sizeof(j));
		return json_val(j);
	}
	return v;
}

static struct val
lookup(struct render *r, const struct op *op)
{
	struct val none = { .k = V_NONE }, v = none;
	struct json_object *j = NULL;
	const uint32_t *seg = r->s->segs + op->a;
	const unsigned long *h = r->s->seghash + op->a;
	unsigned i;
	bool found = false;

	if (op->nseg == 0)
		return r->ctx[r->nctx - 1];
	if (op->nseg == 1 && r->ctx[r->nctx - 1].k == V_ROW) {
		/* The row's own cell, its column known: most lookups of a list. */
		const struct val *f = &r->ctx[r->nctx - 1];
		size_t slot = op->a % TPL_COL_CACHE;

		if (r->colcache[slot].op == op && r->colcache[slot].rs == f->rs && r->colcache[slot].col >= 0)
			return cell(f->rs, f->row, r->colcache[slot].col);
	}
	for (i = r->nctx; i-- > 0;) {
		const struct val *f = &r->ctx[i];
		struct lh_entry *e;

		if (f->k == V_ROW) {
			int c = row_col(r, op, f->rs, r->pool + seg[0]);

			if (c < 0)
				continue;
			v = cell(f->rs, f->row, c);
			if (op->nseg == 1)
				return v;
			if (v.k != V_JSON)
				return none;
			j = v.j;
			found = true;
			break;
		}
		if (f->k != V_JSON || !json_object_is_type(f->j, json_type_object))
			continue;
		e = lh_table_lookup_entry_w_hash(json_object_get_object(f->j), r->pool + seg[0], h[0]);
		if (e != NULL) {
			/* a member holding JSON null is found too, as before */
			j = (struct json_object *)lh_entry_v(e);
			found = true;
			break;
		}
	}
	if (!found)
		return none;
	for (i = 1; i < op->nseg; i++) {
		j = member(j, r->pool + seg[i], h[i]);
		if (j == NULL)
			return none;
	}
	return json_val(j);
}

static bool
truthy(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return false;
	case json_type_boolean:
		return json_object_get_boolean(v);
	case json_type_int:
		return json_object_get_int64(v) != 0 || json_object_get_uint64(v) != 0;
	case json_type_double:
		return json_object_get_double(v) != 0.0;
	case json_type_string:
		return json_object_get_string_len(v) > 0;
	case json_type_array:
		return json_object_array_length(v) > 0;
	case json_type_object:
		return true;
	}
	return false;
}

static bool
truthy_val(const struct val *v)
{
	switch (v->k) {
	case V_NONE:
		return false;
	case V_JSON:
		return truthy(v->j);
	case V_STR:
		return v->s[0] != '\0';
	case V_INT:
	case V_BOOL:
	case V_TIME:
		return v->i != 0;
	case V_DOUBLE:
		return v->d != 0.0;
	case V_ROWS:
		return v->rs->n > 0;
	case V_ROW:
		return true;
	}
	return false;
}

/* Decimal digits of v into buf (at least 21 bytes); returns the length. */
static size_t
fmt_u64(char *buf, bool neg, unsigned long long v)
{
	char tmp[24];
	size_t n = 0, i = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	if (neg)
		buf[i++] = '-';
	while (n > 0)
		buf[i++] = tmp[--n];
	return i;
}

/*
 * Doubles print like "%.15g" (0.1 → "0.1", 3.0 → "3"). Metrics such as
 * 0.42 or 27.6 are common on pages and printf's exact conversion is slow,
 * so values that round-trip with at most 6 decimals take an integer path.
 */
static size_t
fmt_double(char *buf, size_t len, double d)
{
	static const double pow10[] = { 1, 10, 100, 1e3, 1e4, 1e5, 1e6 };
	unsigned k;
	int n;

	if (d > -1e9 && d < 1e9) {
		for (k = 0; k < AP_NELEM(pow10); k++) {
			long long m = llround(d * pow10[k]);
			unsigned long long a, fp;
			size_t i;

			if ((double)m / pow10[k] != d)
				continue;
			a = m < 0 ? -(unsigned long long)m : (unsigned long long)m;
			fp = a % (unsigned long long)pow10[k];
			i = fmt_u64(buf, m < 0, a / (unsigned long long)pow10[k]);
			if (fp == 0)
				return i;
			while (fp % 10 == 0) {
				fp /= 10;
				k--;
			}
			buf[i++] = '.';
			/* Leading zeros of the fraction: 0.05 has k = 2, fp = 5. */
			for (unsigned z = k; z > 1 && fp < (unsigned long long)pow10[z - 1]; z--)
				buf[i++] = '0';
			return i + fmt_u64(buf + i, false, fp);
		}
	}
	n = snprintf(buf, len, "%.15g", d);
	return n < 0 ? 0 : ((size_t)n < len ? (size_t)n : len - 1);
}

static void
put_value(struct render *r, struct json_object *v, bool raw)
{
	char num[48];
	size_t n;
	int64_t i;

	switch (json_object_get_type(v)) {
	case json_type_string:
		if (json_object_get_string_len(v) > 0)
			put_value_start(r);
		/* {{{x}}} prints unescaped only what a handler marked raw (ap_tpl_mark_raw). */
		if (raw && ap_tpl_is_raw(v))
			out_append(r->out, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		else
			out_escape(r->out, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v));
		return;
	case json_type_int:
		/* get_int64 saturates at INT64_MAX for large unsigned values. */
		i = json_object_get_int64(v);
		if (i == INT64_MAX)
			n = fmt_u64(num, false, json_object_get_uint64(v));
		else
			n = fmt_u64(num, i < 0, i < 0 ? -(uint64_t)i : (uint64_t)i);
		break;
	case json_type_double:
		n = fmt_double(num, sizeof(num), json_object_get_double(v));
		break;
	case json_type_boolean:
		put_value_start(r);
		ap_buf_puts(r->out, json_object_get_boolean(v) ? "true" : "false");
		return;
	default:
		return; /* null, objects and arrays print nothing */
	}
	put_value_start(r);
	out_append(r->out, num, n);
}

static void
put_val(struct render *r, const struct val *v, bool raw)
{
	char num[48];
	size_t n;

	switch (v->k) {
	case V_JSON:
		put_value(r, v->j, raw);
		return;
	case V_STR:
		/* Cells are the panel's data, never marked raw: always escaped. */
		n = strlen(v->s);
		if (n > 0)
			put_value_start(r);
		out_escape(r->out, v->s, n);
		return;
	case V_INT:
		n = fmt_u64(num, v->i < 0, v->i < 0 ? -(uint64_t)v->i : (uint64_t)v->i);
		break;
	case V_DOUBLE:
		n = fmt_double(num, sizeof(num), v->d);
		break;
	case V_BOOL:
		put_value_start(r);
		ap_buf_puts(r->out, v->i ? "true" : "false");
		return;
	case V_TIME:
		n = ap_rows_fmt_time(v->i, num);
		put_value_start(r);
		out_escape(r->out, num, n);
		return;
	default:
		return; /* nothing, a row source and its rows print nothing */
	}
	put_value_start(r);
	out_append(r->out, num, n);
}

static enum ap_err render_range(struct render *r, uint32_t i, uint32_t end);

static enum ap_err
render_pushed(struct render *r, const struct val *v, uint32_t start, uint32_t end)
{
	enum ap_err rc;

	if (r->nctx > TPL_MAX_DEPTH)
		return AP_ERR_TOOBIG;
	r->ctx[r->nctx++] = *v;
	rc = render_range(r, start, end);
	r->nctx--;
	return rc;
}

/*
 * A value marked with ap_tpl_keep keeps what each section showing it
 * rendered, by the section's op and the indentation state it started in
 * (the only other inputs of its bytes), and gives it again.
 */
#define KEPT_MAGIC 0x4b657074u
#define KEPT_RENDERS 4
struct kept_render {
	const struct op *op;
	char ind[TPL_MAX_INDENT];
	size_t indlen;
	unsigned strip, skip, nframes;
	bool bol;
	unsigned skip_after;
	bool bol_after;
	char *html;
	size_t len;
};
struct kept {
	uint32_t magic;
	unsigned next;
	struct kept_render e[KEPT_RENDERS];
};

static void
kept_delete(struct json_object *jso, void *ud)
{
	struct kept *k = ud;

	(void)jso;
	for (size_t i = 0; i < KEPT_RENDERS; i++)
		free(k->e[i].html);
	free(k);
}

void
ap_tpl_keep(struct json_object *v)
{
	struct kept *k;

	if (v == NULL || !(json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array)) ||
	    json_object_get_userdata(v) != NULL)
		return;
	k = ap_xcalloc(1, sizeof(*k));
	k->magic = KEPT_MAGIC;
	json_object_set_userdata(v, k, kept_delete);
}

static struct kept *
kept_of(const struct val *v)
{
	struct kept *k;

	if (v->k != V_JSON || json_object_is_type(v->j, json_type_string))
		return NULL;
	k = json_object_get_userdata(v->j);
	return k != NULL && k->magic == KEPT_MAGIC ? k : NULL;
}

static bool
kept_same(const struct kept_render *e, const struct render *r, const struct op *op)
{
	return e->op == op && e->indlen == r->indlen && e->strip == r->strip && e->skip == r->skip &&
	    e->bol == r->bol && e->nframes == r->nframes && memcmp(e->ind, r->ind, r->indlen) == 0;
}

static enum ap_err render_section_of(struct render *r, const struct op *op, uint32_t body, struct val v);

static enum ap_err
render_section(struct render *r, const struct op *op, uint32_t body)
{
	struct val v = lookup(r, op);
	struct kept *k = op->kind == OP_SECTION ? kept_of(&v) : NULL;
	struct kept_render *e;
	size_t start;
	enum ap_err rc;

	if (k == NULL)
		return render_section_of(r, op, body, v);
	for (size_t i = 0; i < KEPT_RENDERS; i++) {
		e = &k->e[i];
		if (e->html != NULL && kept_same(e, r, op)) {
			out_append(r->out, e->html, e->len);
			r->bol = e->bol_after;
			r->skip = e->skip_after;
			return AP_OK;
		}
	}
	e = &k->e[k->next++ % KEPT_RENDERS];
	free(e->html);
	e->html = NULL;
	e->op = op;
	memcpy(e->ind, r->ind, r->indlen);
	e->indlen = r->indlen;
	e->strip = r->strip;
	e->skip = r->skip;
	e->bol = r->bol;
	e->nframes = r->nframes;
	start = r->out->len;
	rc = render_section_of(r, op, body, v);
	if (rc == AP_OK) {
		e->len = r->out->len - start;
		e->html = ap_xmalloc(e->len + 1);
		memcpy(e->html, r->out->data + start, e->len);
		e->html[e->len] = '\0';
		e->bol_after = r->bol;
		e->skip_after = r->skip;
	}
	return rc;
}

static enum ap_err
render_section_of(struct render *r, const struct op *op, uint32_t body, struct val v)
{
	struct val it;
	enum ap_err rc = AP_OK;
	size_t i, n;

	if (op->kind == OP_INVERTED)
		return truthy_val(&v) ? AP_OK : render_range(r, body, op->end);
	if (v.k == V_ROWS) {
		it.k = V_ROW;
		it.rs = v.rs;
		for (i = 0; i < v.rs->n && rc == AP_OK; i++) {
			it.row = ap_rows_row(v.rs, i);
			rc = render_pushed(r, &it, body, op->end);
		}
		return rc;
	}
	if (v.k != V_JSON || !json_object_is_type(v.j, json_type_array))
		return truthy_val(&v) ? render_pushed(r, &v, body, op->end) : AP_OK;
	n = json_object_array_length(v.j);
	for (i = 0; i < n && rc == AP_OK; i++) {
		it = json_val(json_object_array_get_idx(v.j, i));
		rc = render_pushed(r, &it, body, op->end);
	}
	return rc;
}

/*
 * A block renders the override from the outermost page that extends the
 * layout chain, else its own default body. Blocks nested inside an
 * override only see the frames outside it, which also stops a block from
 * overriding itself forever.
 */
static enum ap_err
render_block(struct render *r, const struct op *op, uint32_t body)
{
	const struct op *ops = r->s->ops;
	unsigned f, saved = r->nframes;
	struct indent_save sv;
	enum ap_err rc;

	for (f = 0; f < saved; f++) {
		uint32_t p = r->frames[f], j = p + 1;

		while (j < ops[p].end) {
			const struct op *b = &ops[j];

			if (b->kind == OP_BLOCK && b->a == op->a) {
				/* The override, re-indented from its own
				 * indentation to the site's. */
				r->nframes = f;
				sv = indent_push(r, r->pool + op->ind, op->indlen, b->dedent);
				rc = render_range(r, j + 1, b->end);
				indent_pop(r, sv);
				r->nframes = saved;
				return rc;
			}
			j = (b->kind == OP_BLOCK || b->kind == OP_SECTION ||
			    b->kind == OP_INVERTED || b->kind == OP_PARENT) ? b->end : j + 1;
		}
	}
	sv = indent_push(r, r->pool + op->ind, op->indlen, op->dedent);
	rc = render_range(r, body, op->end);
	indent_pop(r, sv);
	return rc;
}

/* The translation of msgid, or NULL when there is none. */
static const char *
translated(const struct render *r, const char *msgid)
{
	const char *t = r->tr ? r->tr(r->trctx, msgid) : NULL;

	return t == msgid ? NULL : t;
}

/* fmt with each "%s" replaced, in order, by a and b (already escaped HTML). */
static void
put_pattern(struct render *r, const char *fmt, const char *a, const char *b)
{
	const char *args[2] = { a, b };
	int used = 0;

	for (const char *p = fmt; *p; p++) {
		if (p[0] == '%' && p[1] == 's' && used < 2) {
			ap_buf_puts(r->out, args[used++]);
			p++;
		} else {
			ap_buf_html_escape(r->out, p, 1);
		}
	}
}

/* An integer of bytes in binary units, "512 B" … "1.5 TiB", isolated left to right. */
static void
put_bytes(struct render *r, int64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double x = (double)b;
	size_t u = 0;

	while ((x >= 1024.0 || x <= -1024.0) && u < AP_NELEM(unit) - 1) {
		x /= 1024.0;
		u++;
	}
	put_value_start(r);
	ap_buf_printf(r->out, "<bdi dir=\"ltr\" title=\"%lld B\">", (long long)b);
	if (u == 0)
		ap_buf_printf(r->out, "%lld B", (long long)b);
	else
		ap_buf_printf(r->out, "%.1f %s", x, unit[u]);
	ap_buf_puts(r->out, "</bdi>");
}

static void
put_filtered(struct render *r, const struct op *op, const struct val *v)
{
	const char *s = NULL;
	size_t n = 0;
	char iso[32];

	if ((enum filter)op->end == FILTER_BYTES) {
		if (v->k == V_JSON && json_object_is_type(v->j, json_type_int))
			put_bytes(r, json_object_get_int64(v->j));
		else if (v->k == V_INT)
			put_bytes(r, v->i);
		return;
	}
	if (v->k == V_JSON && json_object_is_type(v->j, json_type_string)) {
		s = json_object_get_string(v->j);
		n = (size_t)json_object_get_string_len(v->j);
	} else if (v->k == V_STR) {
		s = v->s;
		n = strlen(s);
	} else if (v->k == V_TIME) {
		n = ap_rows_fmt_time(v->i, iso);
		s = iso;
	}
	if (s == NULL || n == 0)
		return;
	put_value_start(r);
	switch ((enum filter)op->end) {
	case FILTER_TIME:
		/* "2026-12-01T07:36:05Z" → "2026-12-01 07:36 UTC"; the exact value stays in
		 * datetime and title (static/js/app.js shows it as "5 minutes ago"). */
		ap_buf_puts(r->out, "<time datetime=\"");
		ap_buf_html_escape(r->out, s, n);
		ap_buf_puts(r->out, "\" title=\"");
		ap_buf_html_escape(r->out, s, n);
		ap_buf_puts(r->out, "\" dir=\"ltr\">");
		if (n == 20 && s[10] == 'T' && s[19] == 'Z') {
			ap_buf_html_escape(r->out, s, 10);
			ap_buf_putc(r->out, ' ');
			ap_buf_html_escape(r->out, s + 11, 5);
			ap_buf_puts(r->out, " UTC");
		} else {
			ap_buf_html_escape(r->out, s, n);
		}
		ap_buf_puts(r->out, "</time>");
		break;
	case FILTER_UA: {
		const char *browser, *os, *tb, *to, *fmt;
		struct ap_buf eb = { 0 }, eo = { 0 };

		ap_ua_summary(s, &browser, &os);
		/* Product names stay as they are, isolated from the sentence around them. */
		tb = translated(r, browser);
		ap_buf_puts(&eb, "<bdi>");
		ap_buf_html_escape(&eb, tb ? tb : browser, strlen(tb ? tb : browser));
		ap_buf_puts(&eb, "</bdi>");
		ap_buf_puts(r->out, "<span class=\"ua\" title=\"");
		ap_buf_html_escape(r->out, s, n);
		ap_buf_puts(r->out, "\">");
		if (os != NULL) {
			to = translated(r, os);
			ap_buf_puts(&eo, "<bdi>");
			ap_buf_html_escape(&eo, to ? to : os, strlen(to ? to : os));
			ap_buf_puts(&eo, "</bdi>");
			fmt = translated(r, N_("%s on %s"));
			put_pattern(r, fmt ? fmt : "%s on %s", ap_buf_cstr(&eb), ap_buf_cstr(&eo));
		} else {
			ap_buf_puts(r->out, ap_buf_cstr(&eb));
		}
		ap_buf_puts(r->out, "</span>");
		ap_buf_free(&eb);
		ap_buf_free(&eo);
		break;
	}
	case FILTER_TR: {
		/* gettext's msgctxt: "context\004value", the value itself when untranslated. */
		struct ap_buf key = { 0 };
		const char *t;

		ap_buf_puts(&key, r->pool + op->b);
		ap_buf_putc(&key, '\004');
		ap_buf_append(&key, s, n);
		t = translated(r, ap_buf_cstr(&key));
		if (t != NULL && strcmp(t, ap_buf_cstr(&key)) != 0)
			ap_buf_html_escape(r->out, t, strlen(t));
		else
			ap_buf_html_escape(r->out, s, n);
		ap_buf_free(&key);
		break;
	}
	case FILTER_BYTES: /* above */
		break;
	}
}

static enum ap_err
render_range(struct render *r, uint32_t i, uint32_t end)
{
	const struct op *ops = r->s->ops;
	enum ap_err rc = AP_OK;

	if (++r->depth > TPL_MAX_DEPTH) {
		rc = AP_ERR_TOOBIG;
		goto out;
	}
	while (i < end && rc == AP_OK) {
		const struct op *op = &ops[i];
		const struct tpl *t;
		const char *msg, *tr;
		struct indent_save sv;
		struct val v;
		size_t slot;

		if (++r->steps > TPL_MAX_STEPS || r->out->len - r->out_start > TPL_MAX_OUT) {
			rc = AP_ERR_TOOBIG;
			break;
		}
		switch ((enum op_kind)op->kind) {
		case OP_TEXT:
			put_text(r, r->pool + op->a, op->b);
			i++;
			break;
		case OP_VAR:
		case OP_RAW:
			v = lookup(r, op);
			put_val(r, &v, op->kind == OP_RAW);
			i++;
			break;
		case OP_FILTER:
			v = lookup(r, op);
			put_filtered(r, op, &v);
			i++;
			break;
		case OP_TRANS:
			put_value_start(r);
			slot = (size_t)(op - ops) % TPL_TR_CACHE;
			if (r->trcache[slot].op != op) {
				/* The same text in every row: translated once per render. */
				msg = r->pool + op->a;
				tr = r->tr ? r->tr(r->trctx, msg) : NULL;
				r->trcache[slot].op = op;
				r->trcache[slot].s = (tr == NULL || tr == msg) ? msg : tr;
				r->trcache[slot].n = (tr == NULL || tr == msg) ? op->b : strlen(tr);
			}
			out_escape(r->out, r->trcache[slot].s, r->trcache[slot].n);
			i++;
			break;
		case OP_SECTION:
		case OP_INVERTED:
			rc = render_section(r, op, i + 1);
			i = op->end;
			break;
		case OP_PARTIAL:
			t = &r->s->tpls[op->b];
			sv = indent_push(r, r->pool + op->ind, op->indlen, 0);
			rc = render_range(r, t->start, t->end);
			indent_pop(r, sv);
			i++;
			break;
		case OP_PARENT:
			if (r->nframes >= TPL_MAX_DEPTH) {
				rc = AP_ERR_TOOBIG;
				break;
			}
			t = &r->s->tpls[op->b];
			r->frames[r->nframes++] = i;
			sv = indent_push(r, r->pool + op->ind, op->indlen, 0);
			rc = render_range(r, t->start, t->end);
			indent_pop(r, sv);
			r->nframes--;
			i = op->end;
			break;
		case OP_BLOCK:
			rc = render_block(r, op, i + 1);
			i = op->end;
			break;
		}
	}
out:
	r->depth--;
	return rc;
}

enum ap_err
ap_tpl_render(const struct ap_tpl_set *s, const char *name,
    struct json_object *model, ap_tpl_gettext_fn tr, void *trctx,
    struct ap_buf *out)
{
	const struct tpl *t = find_tpl(s, name);
	struct render r;
	enum ap_err rc;

	if (t == NULL)
		return AP_ERR_NOTFOUND;
	r.s = s;
	r.pool = s->pool.data;
	r.out = out;
	r.tr = tr;
	r.trctx = trctx;
	r.ctx[0] = json_val(model);
	r.nctx = 1;
	memset(r.colcache, 0, sizeof(r.colcache));
	memset(r.trcache, 0, sizeof(r.trcache));
	r.nframes = 0;
	r.depth = 0;
	r.steps = 0;
	r.out_start = out->len;
	r.indlen = 0;
	r.strip = 0;
	r.skip = 0;
	r.bol = true;
	rc = render_range(&r, t->start, t->end);
	if (rc != AP_OK) {
		/* Never hand back half a page. */
		out->len = r.out_start;
		if (out->data)
			out->data[out->len] = '\0';
	}
	return rc;
}

/* The mark is the address of this object, kept as the value's userdata. */
static const char raw_mark;

void
ap_tpl_mark_raw(struct json_object *v)
{
	if (v != NULL)
		json_object_set_userdata(v, (void *)&raw_mark, NULL);
}

bool
ap_tpl_is_raw(struct json_object *v)
{
	return v != NULL && json_object_get_userdata(v) == (void *)&raw_mark;
}
