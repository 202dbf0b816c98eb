/*
 * textdiff.h — a line diff of two texts in the unified format (diff -u),
 * for showing how a file on disk differs from the one the panel wrote
 * (a site's vhost changed by hand). Longest common subsequence over lines;
 * meant for configuration files, so it gives up past a size bound.
 */
#ifndef AAPANEL_TEXTDIFF_H
#define AAPANEL_TEXTDIFF_H

#include "aapanel/common.h"

#define AP_TEXTDIFF_MAX_LINES 4000
#define AP_TEXTDIFF_MAX_CELLS (2000UL * 2000UL) /* lines of a × lines of b */

/*
 * Append to out the unified diff from a (labelled label_a, "---") to b
 * (label_b, "+++") with 3 lines of context: "" when they are equal.
 * Returns AP_OK, or AP_ERR_TOOBIG when either has more than
 * AP_TEXTDIFF_MAX_LINES lines or their product exceeds AP_TEXTDIFF_MAX_CELLS (out then says so in one line).
 */
enum ap_err ap_textdiff(const char *a, size_t alen, const char *b, size_t blen,
    const char *label_a, const char *label_b, struct ap_buf *out);

#endif
