#!/usr/bin/env bash
# Run integration tests, JOBS at a time (default 2: they are independent —
# each has its own temp dir, free ports, processes and namespaces). Each
# test's output is printed whole when it ends, with its time; a summary at
# the end; exit 1 if any failed.
set -u
. "$(dirname "$0")/../run_parallel.sh"
# The longest first beside a light one (seconds on the 2-core machine: t_browser about 450,
# t_tasks 150, mostly waiting on cron), so the browser walk does not end last. Not t_backups
# as well: CPU-heavy, beside t_browser it took three times as long; three at a time was no
# faster either. (t_layers was the other one: 442 s beside t_browser, 144 s alone, before
# check-layers.sh stopped forking per include and edge; 10 s now.)
LONG=(t_browser.sh t_tasks.sh)
# The suites that boot a systemd as PID 1 of their own namespaces run one at a time: the
# cgroup file system is the machine's, and a systemd starting there takes its root as its
# own (it trims the empty cgroups it finds, another one's units' among them). flock -o: the
# lock is flock's own, never inherited by what the suite starts.
# (Those suites are the ones whose script starts /lib/systemd/systemd --system.)
SYSTEMD_LOCK=${TMPDIR:-/tmp}/aapanel-test-systemd.lock
launch() { # SCRIPT LOG
	if grep -q 'lib/systemd/systemd --system' "$1"; then
		flock -o -w 1200 "$SYSTEMD_LOCK" bash "$1" > "$2" 2>&1
	else
		bash "$1" > "$2" 2>&1
	fi
}
run_parallel integration launch "$@"
