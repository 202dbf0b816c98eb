/*
 * helper_rtt.c — round trip of a no-op through the helper (helper.ping),
 * as a worker makes it with the client library: N calls on one kept
 * connection, then N/10 calls each on a fresh connection (connect, peer
 * check, request, answer, close). Prints p50/p90/p99/max in microseconds.
 *
 *   bench-helper-rtt SOCKET [N]     (N default 10000)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aapanel/helper.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t
pct(const uint64_t *v, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return v[i < n ? i : n - 1];
}

/* One ping; aborts the benchmark on any problem (a fast error is not a result). */
static uint64_t
ping(struct ap_helper_client *h)
{
	struct ap_problem pb;
	struct json_object *res = NULL;
	uint64_t t0 = ap_now_us(), dt;

	if (ap_helper_call(h, "helper.ping", NULL, &res, &pb) != AP_OK) {
		fprintf(stderr, "bench-helper-rtt: helper.ping: %s: %s\n",
		    ap_pb_name(pb.code), pb.reason);
		exit(1);
	}
	dt = ap_now_us() - t0;
	json_object_put(res);
	return dt;
}

static void
report(const char *what, uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	printf("  %-34s %7zu calls   p50 %6.1f us   p90 %6.1f us   p99 %6.1f us   max %7.1f us\n",
	    what, n, (double)pct(v, n, 0.50), (double)pct(v, n, 0.90), (double)pct(v, n, 0.99),
	    (double)v[n - 1]);
}

int
main(int argc, char **argv)
{
	const char *errstr;
	long long n = 10000;
	struct ap_helper_client *h;
	uint64_t *v;
	size_t nfresh;

	if (argc < 2 || argc > 3 || (argc == 3 && !ap_strtonum(argv[2], 10, 10000000, &n, &errstr))) {
		fprintf(stderr, "usage: bench-helper-rtt SOCKET [N >= 10]\n");
		return 2;
	}
	v = ap_xcalloc((size_t)n, sizeof(*v));
	h = ap_helper_client_new(argv[1], 5000, 1 << 20);
	for (int i = 0; i < 200; i++) /* warm up: page in, settle the caches */
		ping(h);
	for (long long i = 0; i < n; i++)
		v[i] = ping(h);
	report("helper.ping, kept connection", v, (size_t)n);
	ap_helper_client_free(h);
	nfresh = (size_t)n / 10;
	for (size_t i = 0; i < nfresh; i++) {
		h = ap_helper_client_new(argv[1], 5000, 1 << 20);
		v[i] = ping(h);
		ap_helper_client_free(h);
	}
	report("helper.ping, new connection each", v, nfresh);
	free(v);
	return 0;
}
