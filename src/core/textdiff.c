/*
 * textdiff.c — unified line diff (textdiff.h): split both texts into lines,
 * a longest-common-subsequence table from the end, then walk it forwards
 * and print the changes in hunks with their context.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/textdiff.h"

#define CONTEXT 3

struct line {
	const char *s;
	size_t n; /* without the newline */
};

static size_t
split(const char *t, size_t len, struct line **out)
{
	size_t n = 0, cap = 16;
	struct line *v = ap_xmalloc(cap * sizeof(*v));
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - t) : len;

		if (n == cap)
			v = ap_xrealloc(v, (cap *= 2) * sizeof(*v));
		v[n++] = (struct line){ t + i, end - i };
		i = end + 1;
	}
	*out = v;
	return n;
}

static bool
same(const struct line *x, const struct line *y)
{
	return x->n == y->n && memcmp(x->s, y->s, x->n) == 0;
}

/* One step of the edit script: ' ' keep, '-' only in a, '+' only in b. */
struct op {
	char kind;
	size_t ai, bi;
};

static void
emit_hunk(struct ap_buf *out, const struct op *ops, size_t from, size_t to,
    const struct line *a, const struct line *b)
{
	size_t a0 = 0, b0 = 0, an = 0, bn = 0;
	bool first = true;

	for (size_t k = from; k < to; k++) {
		if (first) {
			a0 = ops[k].ai;
			b0 = ops[k].bi;
			first = false;
		}
		if (ops[k].kind != '+')
			an++;
		if (ops[k].kind != '-')
			bn++;
	}
	ap_buf_printf(out, "@@ -%zu,%zu +%zu,%zu @@\n", an ? a0 + 1 : a0, an, bn ? b0 + 1 : b0, bn);
	for (size_t k = from; k < to; k++) {
		const struct line *l = ops[k].kind == '+' ? &b[ops[k].bi] : &a[ops[k].ai];

		ap_buf_putc(out, ops[k].kind);
		ap_buf_append(out, l->s, l->n);
		ap_buf_putc(out, '\n');
	}
}

enum ap_err
ap_textdiff(const char *a_text, size_t alen, const char *b_text, size_t blen,
    const char *label_a, const char *label_b, struct ap_buf *out)
{
	struct line *a = NULL, *b = NULL;
	size_t n = split(a_text, alen, &a), m = split(b_text, blen, &b), nops = 0;
	uint32_t *lcs = NULL;
	struct op *ops = NULL;
	enum ap_err rc = AP_OK;
	size_t i = 0, j = 0;

	if (n > AP_TEXTDIFF_MAX_LINES || m > AP_TEXTDIFF_MAX_LINES ||
	    (n + 1) * (m + 1) > AP_TEXTDIFF_MAX_CELLS) {
		ap_buf_printf(out, "(the files differ; too long to compare line by line)\n");
		rc = AP_ERR_TOOBIG;
		goto out;
	}
	if (alen == blen && memcmp(a_text, b_text, alen) == 0)
		goto out;
	/* lcs[i][j]: the longest common subsequence of a[i..] and b[j..]. */
	lcs = ap_xcalloc((n + 1) * (m + 1), sizeof(*lcs));
#define L(x, y) lcs[(size_t)(x) * (m + 1) + (y)]
	for (size_t x = n; x-- > 0;)
		for (size_t y = m; y-- > 0;)
			L(x, y) = same(&a[x], &b[y]) ? L(x + 1, y + 1) + 1
			    : (L(x + 1, y) >= L(x, y + 1) ? L(x + 1, y) : L(x, y + 1));
	ops = ap_xmalloc((n + m + 1) * sizeof(*ops));
	while (i < n || j < m) {
		if (i < n && j < m && same(&a[i], &b[j])) {
			ops[nops++] = (struct op){ ' ', i++, j++ };
		} else if (i < n && (j == m || L(i + 1, j) >= L(i, j + 1))) {
			ops[nops++] = (struct op){ '-', i++, j }; /* removals first, as diff -u */
		} else {
			ops[nops++] = (struct op){ '+', i, j++ };
		}
	}
#undef L
	ap_buf_printf(out, "--- %s\n+++ %s\n", label_a, label_b);
	/* Hunks: each change with CONTEXT kept lines around it; close ones merge. */
	for (size_t k = 0; k < nops;) {
		size_t start, end, last;

		while (k < nops && ops[k].kind == ' ')
			k++;
		if (k == nops)
			break;
		start = k > CONTEXT ? k - CONTEXT : 0;
		last = k;
		for (size_t q = k; q < nops; q++) {
			if (ops[q].kind != ' ')
				last = q;
			else if (q - last > 2 * CONTEXT)
				break;
		}
		end = last + 1 + CONTEXT < nops ? last + 1 + CONTEXT : nops;
		emit_hunk(out, ops, start, end, a, b);
		k = end;
	}
out:
	free(ops);
	free(lcs);
	free(a);
	free(b);
	return rc;
}
