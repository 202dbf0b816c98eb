/*
 * exit_dump.c — linked only into the coverage build (make coverage, see
 * mk/quality.mk) with -Wl,--wrap=_exit.
 *
 * gcov writes its counters from an atexit handler, which _exit() skips, and
 * the pool's workers end with _exit() (src/web/pool.c): without this their
 * requests would count for nothing. Every call to _exit() in the linked
 * objects is redirected here; the counters are written, then the real
 * _exit() runs. Nothing else changes: the program under test is the same.
 */
#include <unistd.h>

void __gcov_dump(void);
void __real__exit(int status) __attribute__((noreturn));
void __wrap__exit(int status) __attribute__((noreturn));

void
__wrap__exit(int status)
{
	__gcov_dump();
	__real__exit(status);
}
