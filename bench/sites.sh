#!/usr/bin/env bash
# bench/sites.sh — the time from "create site" to the site answering: a real
# pool, helper (test profile, sandbox in a temp dir, sites as the helper's
# own user) and nginx; SITES_N static sites (default 20) created one after
# the other through the JSON API (POST /api/v1/sites), each timed from the
# request until `curl -H 'Host: <site>'` gets its first page (200 with its
# name). Prints p50/p95/max; goal p50 < 500 ms. The sites are deleted again.
# Run by bench/run.sh; alone: bench/sites.sh (after make all).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
n=${SITES_N:-20}
T=$(mktemp -d /tmp/aapanel-bench-sites.XXXXXX)
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
mkdir -p "$T/conf/profiles" "$T/var/run" "$SB/etc/nginx/aapanel/sites"
cp "$src/conf/aapanel.cfg" "$T/conf/aapanel.cfg"
cat > "$T/conf/profiles/test.cfg" <<CFG
paths = { var_dir = "$T/var"; run_dir = "$T/var/run"; log_dir = "$T/var/log"; };
server = { socket = "$T/var/run/pool.sock"; };
db = { dsn = "sqlite:///$T/var/aapanel.db"; };
log = { level = "warn"; };
pool = { workers = 2; request_timeout = 30; };
helper = { socket = "$T/var/run/helper.sock"; sandbox_root = "$SB"; };
sites = { http_port = $port; listen_address = "127.0.0.1"; nginx_conf = "$T/nginx/nginx.conf";
          nginx_prefix = "$T/nginx"; system_users = false; };
CFG
A() { "$src/build/aapanel" --profile test --config "$T/conf/aapanel.cfg" --root "$src" "$@"; }
"$src/build/aapanel-helper" --profile test --config "$T/conf/aapanel.cfg" --root "$src" 2>"$T/helper.log" &
hpid=$!
"$src/build/aapanel" --profile test --config "$T/conf/aapanel.cfg" --root "$src" serve 2>"$T/pool.log" &
ppid_=$!
NGINX_SITES_DIR="$SB/etc/nginx/aapanel/sites" "$src/scripts/nginx-conf.sh" "$T/nginx" "$port" "$T/var/run/pool.sock" "$src/static"
nginx -p "$T/nginx" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" &
npid=$!
for _ in $(seq 1 200); do
	[ -S "$T/var/run/helper.sock" ] && curl -s -o /dev/null "http://127.0.0.1:$port/healthz" && break
	sleep 0.05
done
printf '%s\n' 'bench passphrase 2026' | A user add bench --role admin --password-stdin >/dev/null
TOKEN=$(A token create --user bench --scope write --name bench | tail -1)

ms() { echo $(( $(date +%s%N) / 1000000 )); }
times=()
for i in $(seq 1 "$n"); do
	d="bench-$i.test"
	t0=$(ms)
	code=$(curl -s -o "$T/out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
		-d "{\"domain\":\"$d\",\"kind\":\"static\"}" "http://127.0.0.1:$port/api/v1/sites")
	[ "$code" = 201 ] || { echo "bench: creating $d answered $code: $(head -c 300 "$T/out")"; exit 1; }
	for _ in $(seq 1 500); do
		curl -s -H "Host: $d" "http://127.0.0.1:$port/" | grep -q "<h1>$d</h1>" && break
		sleep 0.002
	done
	times+=($(( $(ms) - t0 )))
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
pct() { awk -v p="$1" '{a[NR]=$1} END {i=int((NR*p+99)/100); if (i<1) i=1; print a[i]}' <<<"$sorted"; }
echo "create site → the site answers ($n static sites through POST /api/v1/sites, $(nproc) cores; goal p50 < 500 ms):"
printf '  p50 %s ms   p95 %s ms   max %s ms   (each: helper job: vhost, nginx -t, swap, reload; probe)\n' "$(pct 50)" "$(pct 95)" "$(pct 100)"
for i in $(seq 1 "$n"); do
	id=$(sqlite3 "$T/var/aapanel.db" "SELECT id FROM sites WHERE domain = 'bench-$i.test'")
	curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"delete_files":true}' \
		"http://127.0.0.1:$port/api/v1/sites/$id/delete"
done
