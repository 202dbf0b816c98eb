/*
 * fuzz_tpl.c — libFuzzer target: compile arbitrary template text and, when
 * it compiles, render it against a small fixed model. Must never crash,
 * leak, hang or report a compile error without "name:line: reason".
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c17 -D_GNU_SOURCE \
 *       -Iinclude -I/usr/include/json-c tests/fuzz/fuzz_tpl.c src/core/tpl.c \
 *       src/core/common.c -ljson-c -lm -o build/fuzz_tpl
 *   build/fuzz_tpl tests/fuzz/corpus/tpl
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aapanel/tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char model_json[] =
    "{\"app\": {\"name\": \"aaPanel\", \"base\": \"\", \"static\": \"/static\"},"
    " \"lang\": \"ar\", \"dir\": \"rtl\", \"title\": \"<t>&'\\\"\", \"n\": 0,"
    " \"d\": 2.5, \"t\": true, \"f\": false, \"z\": null, \"e\": \"\","
    " \"xs\": [1, \"two\", {\"name\": \"three\"}, [4], null],"
    " \"empty\": [],"
    " \"host\": {\"hostname\": \"h\", \"load1\": 0.42, \"kids\": []},"
    " \"tree\": {\"name\": \"r\", \"kids\": [{\"name\": \"a\", \"kids\": []}]}}";

static const char *
fuzz_tr(void *ctx, const char *msgid)
{
	(void)ctx;
	/* Alternate between a translation and the identity. */
	return msgid[0] == 'A' ? "ترجمة <عربية>" : msgid;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct json_object *model;
	struct ap_tpl_set *s = NULL;
	struct ap_buf out = { 0 };
	char err[256];
	char *text;

	if (model == NULL)
		model = json_tokener_parse(model_json);
	if (size > 64 * 1024)
		return 0;
	text = ap_xstrndup((const char *)data, size);
	err[0] = '\0';
	if (ap_tpl_compile_string("fuzz", text, &s, err, sizeof(err)) == AP_OK) {
		(void)ap_tpl_render(s, "fuzz", model, fuzz_tr, NULL, &out);
		(void)ap_tpl_render(s, "fuzz", NULL, NULL, NULL, &out);
		(void)ap_tpl_render(s, "missing", model, NULL, NULL, &out);
	} else if (strncmp(err, "fuzz:", 5) != 0) {
		fprintf(stderr, "error without location: %s\n", err);
		abort();
	}
	ap_tpl_free(s);
	ap_buf_free(&out);
	free(text);
	return 0;
}
