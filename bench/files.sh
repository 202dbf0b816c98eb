#!/usr/bin/env bash
# bench/files.sh — the file manager's throughput and listing (issue 16): a
# real pool (2 workers), helper (test profile, sandbox in a temp dir) and
# nginx; one static site.
#  - a 200 MiB file downloaded through the panel (GET
#    /api/v1/sites/{id}/files/content: the helper's descriptor streamed by
#    the worker, nginx buffering the FastCGI answer) and uploaded through it
#    (POST …/files/content, the body buffered by nginx, then streamed into a
#    temporary file, fsync, rename), each as a ratio of nginx serving the
#    same file statically from the site in the same run (best of 3 each;
#    goal: download ≥ 0.5 of static);
#  - a folder of 10,000 entries listed (GET /api/v1/sites/{id}/files, the
#    helper reads and sorts them all, the answer carries the first 2000):
#    the median time of 10 through nginx (goal < 100 ms), and the worker's
#    instructions per listing page (callgrind, bench/instr.sh).
# Run by bench/run.sh; alone: bench/files.sh (after make all).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/aapanel-bench-files.XXXXXX)
hpid="" ppid_="" npid=""
cleanup() {
	[ -n "$npid" ] && kill -QUIT "$npid" 2>/dev/null || true
	[ -n "$ppid_" ] && kill -TERM "$ppid_" 2>/dev/null || true
	[ -n "$hpid" ] && kill -TERM "$hpid" 2>/dev/null || true
	for p in $npid $ppid_ $hpid; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T" 2>/dev/null || { sleep 0.5; rm -rf "$T"; }
}
trap cleanup EXIT
port=$((20000 + RANDOM % 30000))
SB="$T/sandbox"
mkdir -p "$T/conf/profiles" "$T/var/run" "$SB/etc/nginx/aapanel/sites" "$SB/var/log/nginx" "$SB/var/www"
cp "$src/conf/aapanel.cfg" "$T/conf/aapanel.cfg"
cat > "$T/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$T/var"; run_dir = "$T/var/run"; log_dir = "$T/var/log"; };
server = { socket = "$T/var/run/pool.sock"; };
db = { dsn = "sqlite:///$T/var/aapanel.db"; };
log = { level = "warn"; };
pool = { workers = 2; request_timeout = 50; };
helper = { socket = "$T/var/run/helper.sock"; sandbox_root = "$SB"; timeout_ms = 20000; };
sites = { http_port = $port; listen_address = "127.0.0.1"; nginx_conf = "$T/nginx/nginx.conf";
          nginx_prefix = "$T/nginx"; system_users = false; };
files = { max_upload = 268435456; };
CFG
A() { "$src/build/aapanel" --profile test --config "$T/conf/aapanel.cfg" --root "$src" "$@"; }
"$src/build/aapanel-helper" --profile test --config "$T/conf/aapanel.cfg" --root "$src" 2>"$T/helper.log" &
hpid=$!
"$src/build/aapanel" --profile test --config "$T/conf/aapanel.cfg" --root "$src" serve 2>"$T/pool.log" &
ppid_=$!
NGINX_SITES_DIR="$SB/etc/nginx/aapanel/sites" "$src/scripts/nginx-conf.sh" "$T/nginx" "$port" "$T/var/run/pool.sock" "$src/static" 300m 60
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
npid=$!
for _ in $(seq 1 200); do
	[ -S "$T/var/run/helper.sock" ] && curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	sleep 0.05
done
printf '%s\n' 'bench passphrase 2026' | A user add bench --role admin --password-stdin >/dev/null
TOKEN=$(A token create --user bench --scope write --name bench | tail -1)
api="http://127.0.0.1:$port/api/v1"
code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
	-d '{"domain":"files-bench.test","kind":"static"}' "$api/sites")
[ "$code" = 201 ] || { echo "bench: creating the site answered $code: $(head -c 300 "$T/out")"; exit 1; }
sid=$(jq -r .id "$T/out")
R="$SB/var/www/files-bench.test/public"
head -c $((200 * 1024 * 1024)) /dev/urandom > "$T/big.bin"
cp "$T/big.bin" "$R/big.bin"
# Warm the page cache for every side alike.
cat "$R/big.bin" "$T/big.bin" > /dev/null

best() { sort -g | tail -1; } # the highest of the speeds (bytes/s)
static=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{speed_download}\n' -H 'Host: files-bench.test' "http://127.0.0.1:$port/big.bin"; done | best)
down=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{speed_download}\n' -H "Authorization: Bearer $TOKEN" "$api/sites/$sid/files/content?path=big.bin"; done | best)
curl -s -o "$T/back.bin" -H "Authorization: Bearer $TOKEN" "$api/sites/$sid/files/content?path=big.bin"
cmp -s "$T/back.bin" "$T/big.bin" || { echo "bench: the download is not the file"; exit 1; }
rm -f "$T/back.bin"
# An upload's time: from the first byte sent to the panel's answer (nginx buffers, then the worker streams).
up=$(for _ in 1 2 3; do
	curl -s -o /dev/null -w '%{size_upload} %{time_total}\n' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/octet-stream' --data-binary "@$T/big.bin" \
		"$api/sites/$sid/files/content?path=up.bin&overwrite=true" | awk '{printf "%.0f\n", $1 / $2}'
done | best)
cmp -s "$R/up.bin" "$T/big.bin" || { echo "bench: the upload is not the file"; exit 1; }
echo "files: a 200 MiB file through the panel vs nginx serving it statically (best of 3, $(nproc) cores; goal download >= 0.5):"
awk -v s="$static" -v d="$down" -v u="$up" 'BEGIN {
	printf "  %-34s %10.0f MiB/s\n", "nginx static (the site)", s / 1048576
	printf "  %-34s %10.0f MiB/s   %.2f of static\n", "download (files/content)", d / 1048576, d / s
	printf "  %-34s %10.0f MiB/s   %.2f of static\n", "upload (files/content, fsync)", u / 1048576, u / s }'

# 10,000 entries in one folder.
mkdir "$R/many"
python3 - "$R/many" <<'PY'
import os, sys
for i in range(10000):
    with open(os.path.join(sys.argv[1], "file-%05d.txt" % i), "w") as f:
        f.write("x" * (i % 100))
PY
curl -s -o "$T/list.json" -H "Authorization: Bearer $TOKEN" "$api/sites/$sid/files?path=many"
[ "$(jq -r '.total' "$T/list.json")" = 10000 ] || { echo "bench: the listing has $(jq -r .total "$T/list.json") entries"; exit 1; }
ltimes=$(for _ in $(seq 1 10); do curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $TOKEN" "$api/sites/$sid/files?path=many"; done | sort -g)
lmed=$(awk '{a[NR]=$1} END {print (a[5] + a[6]) / 2 * 1000}' <<<"$ltimes")
lmax=$(tail -1 <<<"$ltimes" | awk '{print $1 * 1000}')
# Instructions of the listing page in one worker (callgrind), with a session.
. "$src/tests/integration/signin.sh"
. "$src/bench/instr.sh"
jar="$T/jar"
signin "http://127.0.0.1:$port" "$jar" bench 'bench passphrase 2026' "" >/dev/null
cookie=$(awk '$6 == "aapanel" {print "aapanel=" $7}' "$jar")
mkdir -p "$T/instr/profiles" "$T/instr/run"
cp "$src/conf/aapanel.cfg" "$T/instr/aapanel.cfg"
sed -e "s|^server = .*|server = { socket = \"$T/instr/run/pool.sock\"; };|" -e "s|^pool = .*|pool = { workers = 1; max_workers = 1; request_timeout = 50; };|" \
    -e "s|run_dir = \"$T/var/run\"|run_dir = \"$T/instr/run\"|" "$T/conf/profiles/test.cfg" > "$T/instr/profiles/test.cfg"
li=$(INSTR_REQUESTS=${INSTR_REQUESTS:-10} INSTR_WARMUP=2 instr_per_request "$src" "$T/instr/aapanel.cfg" "$T/instr/run/pool.sock" "/sites/$sid/files?path=many" "$cookie")
echo "files: a folder of 10,000 entries listed (GET /api/v1/sites/{id}/files, the first 2000 answered; goal < 100 ms):"
printf '  median %.1f ms   max %.1f ms (10 through nginx)   %s instructions per page in the worker (callgrind)\n' "$lmed" "$lmax" "$li"
