/*
 * logs.c — `aapanel logs SITE access|error [--lines N] [--search TEXT]`: the
 * last lines of a site's nginx log, as the log viewer shows them
 * (src/data/logs.c, docs/files.md). Exit 0, 2 for invalid input (an unknown
 * site or log, a bad number), 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/cli.h"
#include "aapanel/logs.h"

static const char logs_usage[] = "usage: aapanel logs SITE access|error [--lines N] [--search TEXT]\n";

int
ap_cli_logs(const struct ap_config *cfg, int argc, char **argv)
{
	struct ap_sites_env env = { .cfg = cfg };
	const char *search = NULL, *pos[2] = { NULL, NULL };
	struct json_object *lines = NULL;
	struct ap_problem pb;
	struct ap_site s;
	int n = 0, count = 200, which = -1, rc = 0;
	int64_t size = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc) {
			const char *errstr;
			long long v;

			if (!ap_strtonum(argv[++i], 1, 5000, &v, &errstr)) {
				fprintf(stderr, "aapanel logs: --lines: must be 1 to 5000\n");
				return 2;
			}
			count = (int)v;
		} else if (strcmp(argv[i], "--search") == 0 && i + 1 < argc) {
			search = argv[++i];
		} else if (argv[i][0] != '-' && n < 2) {
			pos[n++] = argv[i];
		} else {
			fputs(logs_usage, stderr);
			return 2;
		}
	}
	for (int i = 0; n == 2 && ap_log_kinds[i] != NULL; i++)
		if (strcmp(pos[1], ap_log_kinds[i]) == 0)
			which = i;
	if (n != 2 || which < 0) {
		fputs(logs_usage, stderr);
		return 2;
	}
	if ((env.db = ap_cli_db_open(cfg)) == NULL)
		return 1;
	env.helper = ap_helper_client_new(cfg->helper_socket, cfg->helper_timeout_ms, 1 << 20);
	if (ap_site_find(&env, pos[0], &s, &pb) != AP_OK ||
	    ap_logs_tail(&env, &s, which, 0, count, search, NULL, &lines, &size, &pb) != AP_OK) {
		rc = ap_cli_problem("logs", &pb);
	} else {
		for (size_t i = 0; i < json_object_array_length(lines); i++)
			printf("%s\n", json_object_get_string(json_object_array_get_idx(lines, i)));
	}
	json_object_put(lines);
	ap_helper_client_free(env.helper);
	ap_db_close(env.db);
	return rc;
}
