/*
 * taskcheck.c — a scheduled task's parts (taskcheck.h).
 */
#include <stdbool.h>
#include <string.h>

#include "aapanel/taskcheck.h"

static bool
lower_digit(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

const char *
ap_check_task_name(const char *s, size_t n)
{
	if (n < 1 || n > 64)
		return "must be 1 to 64 characters";
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return "must start with a lowercase letter";
	for (size_t i = 1; i < n; i++)
		if (!lower_digit(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return "may only contain a-z, 0-9 and _ . -";
	return NULL;
}

const char *
ap_check_task_user(const char *s, size_t n)
{
	if (n < 1 || n > 32)
		return "must be 1 to 32 characters";
	if (!((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return "must be a user name: a-z or _, then a-z, 0-9, _ or -";
	for (size_t i = 1; i < n; i++)
		if (!lower_digit(s[i]) && s[i] != '_' && s[i] != '-')
			return "must be a user name: a-z or _, then a-z, 0-9, _ or -";
	return NULL;
}

/* The program: /seg/seg..., segments of [A-Za-z0-9._+-], none "." or "..". */
static bool
program_ok(const char *p)
{
	if (p[0] != '/' || p[1] == '\0')
		return false;
	while (*p == '/') {
		const char *seg = ++p;

		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '+' || *p == '-')
			p++;
		if (p == seg || (p - seg == 1 && seg[0] == '.') ||
		    (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
			return false;
	}
	return *p == '\0';
}

struct json_object *
ap_task_argv(const char *s, size_t n, const char **why)
{
	struct json_object *a = NULL;
	char word[AP_TASK_MAX_COMMAND + 1];
	size_t w = 0, i = 0;
	bool in_word = false;

	*why = NULL;
	if (n < 1 || n > AP_TASK_MAX_COMMAND) {
		*why = "must be 1 to 4096 characters";
		return NULL;
	}
	for (size_t k = 0; k < n; k++)
		if ((unsigned char)s[k] < 0x20 && s[k] != '\t') {
			*why = "must be one line without control characters";
			return NULL;
		} else if (s[k] == 0x7f) {
			*why = "must be one line without control characters";
			return NULL;
		}
	a = json_object_new_array();
	while (i <= n) {
		char c = i < n ? s[i] : '\0';

		if (i == n || c == ' ' || c == '\t') {
			if (in_word) {
				if (json_object_array_length(a) >= AP_TASK_MAX_ARGS) {
					*why = "has more than 64 words";
					goto fail;
				}
				json_object_array_add(a, json_object_new_string_len(word, (int)w));
				w = 0;
				in_word = false;
			}
			i++;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *e = memchr(s + i + 1, '\'', n - i - 1);

			if (e == NULL) {
				*why = "has a quote ' that is not closed";
				goto fail;
			}
			memcpy(word + w, s + i + 1, (size_t)(e - (s + i + 1)));
			w += (size_t)(e - (s + i + 1));
			i = (size_t)(e - s) + 1;
		} else if (c == '"') {
			i++;
			while (i < n && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < n && (s[i + 1] == '"' || s[i + 1] == '\\'))
					i++;
				word[w++] = s[i++];
			}
			if (i == n) {
				*why = "has a quote \" that is not closed";
				goto fail;
			}
			i++;
		} else if (c == '\\') {
			if (i + 1 == n) {
				*why = "ends with a backslash";
				goto fail;
			}
			word[w++] = s[i + 1];
			i += 2;
		} else {
			word[w++] = c;
			i++;
		}
	}
	if (json_object_array_length(a) == 0) {
		*why = "is required";
		goto fail;
	}
	if (!program_ok(json_object_get_string(json_object_array_get_idx(a, 0)))) {
		*why = "must start with the program's absolute path, e.g. /usr/bin/php";
		goto fail;
	}
	return a;
fail:
	json_object_put(a);
	return NULL;
}

const char *
ap_check_task_command(const char *s, size_t n)
{
	const char *why;
	struct json_object *a = ap_task_argv(s, n, &why);

	json_object_put(a);
	return why;
}

const char *
ap_check_task_url(const char *s, size_t n)
{
	size_t i;

	if (n < 1 || n > AP_TASK_MAX_URL)
		return "must be 1 to 2048 characters";
	if (strncmp(s, "http://", 7) == 0)
		i = 7;
	else if (strncmp(s, "https://", 8) == 0)
		i = 8;
	else
		return "must start with http:// or https://";
	if (i == n || s[i] == '/' || s[i] == ':')
		return "needs a host";
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr("-._~:/?#[]@!$&()*+,;=%", c) != NULL) || c == '\0')
			return "may only contain the characters of a URL (no spaces or quotes; encode them with %)";
	}
	return NULL;
}
