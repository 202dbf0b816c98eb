/*
 * routes.c — `aapanel routes [--json]`: the route table as data, for
 * operators (what the panel answers, with which permission) and for tools
 * (the browser test visits every page it lists); `aapanel openapi`: the
 * API document made from the same table (docs/openapi.json is its output).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "aapanel/cli.h"
#include "aapanel/openapi.h"
#include "aapanel/pages.h"

static const char *const type_names[AP_FIELD__MAX] = {
	[AP_FIELD_TEXT] = "text", [AP_FIELD_INT] = "int", [AP_FIELD_BOOL] = "bool",
	[AP_FIELD_ENUM] = "enum", [AP_FIELD_NAME] = "name", [AP_FIELD_HOSTNAME] = "hostname",
	[AP_FIELD_EMAIL] = "email",
};

static struct json_object *
methods_json(unsigned m)
{
	struct json_object *a = json_object_new_array();

	if (m & AP_M_GET)
		m |= AP_M_HEAD;
	for (int i = 0; i < AP_METHOD__MAX; i++)
		if (m & AP_M(i))
			json_object_array_add(a, json_object_new_string(ap_method_name((enum ap_method)i)));
	return a;
}

static struct json_object *
field_json(const struct ap_field *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "type", json_object_new_string(type_names[f->type]));
	json_object_object_add(o, "in", json_object_new_string((f->flags & AP_FIELD_PATH) ? "path" : "form"));
	json_object_object_add(o, "required", json_object_new_boolean(f->flags & AP_FIELD_REQUIRED));
	json_object_object_add(o, "secret", json_object_new_boolean(f->flags & AP_FIELD_SECRET));
	json_object_object_add(o, "single_line", json_object_new_boolean(f->flags & AP_FIELD_SINGLELINE));
	if (f->min != 0 || f->max != 0) {
		json_object_object_add(o, "min", json_object_new_int64(f->min));
		json_object_object_add(o, "max", json_object_new_int64(f->max));
	}
	if (f->type == AP_FIELD_ENUM) {
		struct json_object *c = json_object_new_array();

		for (size_t i = 0; f->choices[i] != NULL; i++)
			json_object_array_add(c, json_object_new_string(f->choices[i]));
		json_object_object_add(o, "choices", c);
	}
	return o;
}

static struct json_object *
route_json(const struct ap_route *rt)
{
	struct json_object *o = json_object_new_object(), *fields = json_object_new_array();
	size_t nf = ap_fields_count(rt->fields);

	json_object_object_add(o, "methods", methods_json(rt->methods));
	json_object_object_add(o, "pattern", json_object_new_string(rt->pattern));
	json_object_object_add(o, "permission", rt->perm ? json_object_new_string(rt->perm) : NULL);
	json_object_object_add(o, "public", json_object_new_boolean(rt->flags & AP_ROUTE_PUBLIC));
	json_object_object_add(o, "template", rt->tpl ? json_object_new_string(rt->tpl) : NULL);
	json_object_object_add(o, "raw", json_object_new_boolean(rt->flags & AP_ROUTE_RAW));
	json_object_object_add(o, "database", json_object_new_boolean(rt->flags & AP_ROUTE_DB));
	json_object_object_add(o, "has_form_page", json_object_new_boolean(rt->form != NULL));
	json_object_object_add(o, "confirm", json_object_new_boolean(rt->flags & AP_ROUTE_CONFIRM));
	json_object_object_add(o, "browser", json_object_new_boolean(rt->flags & AP_ROUTE_BROWSER));
	json_object_object_add(o, "create", json_object_new_boolean(rt->flags & AP_ROUTE_CREATE));
	json_object_object_add(o, "testing", json_object_new_boolean(rt->flags & AP_ROUTE_TESTING));
	json_object_object_add(o, "summary", json_object_new_string(rt->summary ? rt->summary : ""));
	json_object_object_add(o, "answer", rt->answer ? json_object_new_string(rt->answer->name) : NULL);
	for (size_t i = 0; i < nf; i++)
		json_object_array_add(fields, field_json(&rt->fields[i]));
	json_object_object_add(o, "fields", fields);
	return o;
}

int
ap_cli_routes(int argc, char **argv)
{
	bool json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else {
			fprintf(stderr, "aapanel routes: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (json) {
		struct json_object *a = json_object_new_array();

		for (size_t i = 0; i < ap_nroutes; i++)
			json_object_array_add(a, route_json(&ap_routes[i]));
		puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(a);
		return 0;
	}
	printf("%-18s %-34s %-16s %s\n", "METHODS", "PATH", "PERMISSION", "TEMPLATE");
	for (size_t i = 0; i < ap_nroutes; i++) {
		const struct ap_route *rt = &ap_routes[i];
		struct ap_buf m = { 0 };

		ap_methods_str(rt->methods, &m);
		printf("%-18s %-34s %-16s %s\n", ap_buf_cstr(&m), rt->pattern,
		    rt->perm ? rt->perm : "(public)", rt->tpl ? rt->tpl : "-");
		ap_buf_free(&m);
	}
	return 0;
}

int
ap_cli_openapi(int argc, char **argv)
{
	const char *base = "";
	bool testing = false;
	char *doc, err[256];

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--testing") == 0) {
			testing = true;
		} else if (strcmp(argv[i], "--base") == 0 && i + 1 < argc) {
			base = argv[++i];
			if (strcmp(base, "/") == 0)
				base = "";
			else if (base[0] != '/' || base[strlen(base) - 1] == '/') {
				fprintf(stderr, "aapanel openapi: --base: must start with / and not end with one\n");
				return 2;
			}
		} else {
			fprintf(stderr, "aapanel openapi: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	/* The document describes a table that holds the API's rules (the pool
	 * refuses to start otherwise); say which rule breaks rather than guess. */
	if (ap_api_table_check(ap_routes, ap_nroutes, err, sizeof(err)) != AP_OK) {
		fprintf(stderr, "aapanel openapi: the route table breaks the API's rules: %s\n", err);
		return 1;
	}
	if ((doc = ap_openapi_doc(ap_routes, ap_nroutes, base, testing)) == NULL) {
		fprintf(stderr, "aapanel openapi: out of memory\n");
		return 1;
	}
	puts(doc);
	free(doc);
	return 0;
}
