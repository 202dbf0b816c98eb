/*
 * testing.c — GET /_test/sleep?ms=N: a request that takes N ms, so the
 * integration tests can exercise the request timeout, graceful reload and
 * graceful stop with requests in flight. Answers 404 outside the test
 * profile: it does not exist on a real panel.
 */
#include <time.h>
#include <unistd.h>

#include "pages.h"

int
ap_page_test_sleep(struct ap_ctx *ctx)
{
	const struct ap_fieldval *ms = ap_ctx_field(ctx, "ms");
	struct timespec ts;

	if (ctx->app->cfg->profile != AP_PROFILE_TEST)
		return 404;
	ts.tv_sec = ms->i / 1000;
	ts.tv_nsec = (ms->i % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0)
		;
	json_object_object_add(ctx->model, "slept_ms", json_object_new_int64(ms->i));
	json_object_object_add(ctx->model, "pid", json_object_new_int((int)getpid()));
	return 200;
}
