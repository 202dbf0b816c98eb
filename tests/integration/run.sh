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
launch() { bash "$1" > "$2" 2>&1; } # SCRIPT LOG
run_parallel integration launch "$@"
