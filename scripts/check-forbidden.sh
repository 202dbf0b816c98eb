#!/usr/bin/env bash
# check-forbidden.sh — no C source of the project starts a program through a
# shell or a PATH search. Programs run only through the helper's spawn
# function (execve of an absolute path with a fixed argv): system(),
# popen(), the exec*p() family and "sh -c" appear nowhere (docs/security.md).
set -euo pipefail
cd "$(dirname "$0")/.."
pattern='\b(system|popen|execvp|execlp|execvpe)[[:space:]]*\(|"(/bin/)?sh",[[:space:]]*"-c"'
if hits=$(grep -rnE "$pattern" --include='*.c' --include='*.h' src include bench tests/unit tests/fuzz tests/integration); then
	echo "forbidden: a program started through a shell or a PATH search:" >&2
	echo "$hits" >&2
	exit 1
fi
echo "check-forbidden: ok (no system, popen, exec*p or sh -c)"
