#!/usr/bin/env bash
# Run the unit suites (and fuzz replays) JOBS at a time (default 2: each has
# its own temp dir; none listens on a fixed port or shares a file). Each is an
# argument, PROG or PROG=ARG (one argument for it: a fuzz corpus). Each one's
# output is printed whole when it ends, with its time; a summary line at the
# end; exit 1 if any failed. `make unit` calls it.
set -u
. "$(dirname "$0")/../run_parallel.sh"
# The longest first (CPU on the 2-core machine: check_config, check_audit and
# check_password about 10 s each, argon2 and file checks), so that no long one
# starts last.
LONG=(check_config check_audit check_password check_app check_db)
launch() { # ITEM LOG
	if [ "${1#*=}" != "$1" ]; then "${1%%=*}" "${1#*=}" > "$2" 2>&1; else "$1" > "$2" 2>&1; fi
}
run_parallel unit launch "$@"
