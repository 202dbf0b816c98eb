#!/usr/bin/env bash
# Databases (issue 15): the database page's import form streamed, and the
# database's page bounded when its server does not answer. On a throwaway
# MariaDB started here: a generated 200 MiB dump imported through the page's
# form (multipart, the csrf field first) via nginx, every worker's peak memory
# printed and far below the dump's size, the rows there; a wrong, missing or
# late (after the file) CSRF token a 403 with nothing imported and no history
# row; a form cut off before its final boundary a 400 naming the field; a
# dump over databases.import_max a 413 with the form again naming the field
# and a failed history row. Then the database's server behind a
# loopback forwarder that turns into a blackhole (takes TCP, answers nothing):
# the database's page answers within databases.connect_timeout_ms and a
# little, saying the server is unreachable and why, while another page
# (the sites list, another session) answers at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
CT=1000
MAX=$((210 * 1024 * 1024))
it_setup "pool = { request_timeout = 50; workers = 4; };
databases = { import_max = $MAX; connect_timeout_ms = $CT; };"
sites_setup 'system_users = false;'
D=$(mktemp -d /tmp/aapanel-dbstream.XXXXXX)
chmod 0755 "$D"
FWD_PID="" SAMPLER="" BG=""
st_teardown() {
	local rc=$?
	for p in $SAMPLER $FWD_PID $BG; do kill "$p" 2>/dev/null || true; done
	for p in $SAMPLER $FWD_PID $BG; do wait "$p" 2>/dev/null || true; done
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap st_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
[ -n "${MYSQL_PID:-}" ] || exit 1
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
chmod 0755 "$T" "$T/var" "$SB" "$SB/var"
it_start_pool
sites_start_nginx 400m 60
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
check "the admin signs in" test "$(it_login "$T/jar" admin 'correct horse battery staple')" = 303
J="$T/jar"
CSRF=$(csrf_of "$J")
check "server my added" test "$(api POST /database-servers "$(jq -nc --arg d "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" --arg p "$APW" '{name:"my", dsn:$d, password:$p}')")" = 201
check "a database with its user" test "$(api POST /databases '{"server":"my","name":"bulk","user":"bulk","hosts":"127.0.0.1"}')" = 201
ID=$(jq -r .id "$T/api.json") PW=$(jq -r .password "$T/api.json")
MY() { MYSQL_PWD=$PW timeout 60 mariadb --no-defaults -h 127.0.0.1 -P "$MYSQL_PORT" -u bulk -N -B bulk "$@"; }
hist_n() { curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$ID")" | jq '.history | length'; }
# post_form OUT CURL-ARGS...: the page's form as a browser sends it; the status and redirect printed.
post_form() {
	local out=$1
	shift
	curl -s -o "$out" -w '%{http_code} %{redirect_url}' -b "$J" -H "Origin: http://127.0.0.1:$PORT" "$@" \
		"$(url "/databases/$ID/import/upload")"
}
job_wait() {
	for _ in $(seq 1 1800); do
		curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$ID/jobs/$1")" > "$T/job.json"
		jq -e '.job.state != "queued" and .job.state != "running"' "$T/job.json" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ---------------------------------------------------------------- CSRF from the stream's first part
printf 'CREATE TABLE evil (id INT);\nINSERT INTO evil VALUES (1);\n' > "$D/evil.sql"
h0=$(hist_n)
r=$(post_form "$T/f.html" -F "csrf=wrong$CSRF" -F "file=@$D/evil.sql")
check "a wrong CSRF token in the first part: 403 ($r)" test "${r%% *}" = 403
r=$(post_form "$T/f.html" -F "file=@$D/evil.sql")
check "no CSRF token: 403 ($r)" test "${r%% *}" = 403
r=$(post_form "$T/f.html" -F "file=@$D/evil.sql" -F "csrf=$CSRF")
check "the right token but after the file (not read before it): 403 ($r)" test "${r%% *}" = 403
sleep 1
check "... nothing imported (no table evil) and no history row" \
	bash -c "[ \"\$(MYSQL_PWD='$PW' mariadb --no-defaults -h 127.0.0.1 -P '$MYSQL_PORT' -u bulk -N -B bulk -e \"SHOW TABLES LIKE 'evil'\")\" = '' ] && [ '$(hist_n)' = '$h0' ]"

# A form cut off: the file's content never closed by the final boundary.
printf -- '--XyZ\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n%s\r\n--XyZ\r\nContent-Disposition: form-data; name="file"; filename="cut.sql"\r\n\r\nCREATE TABLE cut (id INT);\n' "$CSRF" > "$D/cut.body"
h0=$(hist_n)
r=$(post_form "$T/cut.html" -H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary "@$D/cut.body")
check "a form without its final boundary: 400 with the form again, file saying why ($r)" \
	bash -c "[ '${r%% *}' = 400 ] && grep -q 'id=\"f-import-error\"' '$T/cut.html' && grep -q 'missing closing multipart boundary' '$T/cut.html'"
check "... nothing imported (no table cut), a failed history row" \
	bash -c "[ \"\$(MYSQL_PWD='$PW' mariadb --no-defaults -h 127.0.0.1 -P '$MYSQL_PORT' -u bulk -N -B bulk -e \"SHOW TABLES LIKE 'cut'\")\" = '' ] && [ '$(hist_n)' = '$((h0 + 1))' ]"

# ---------------------------------------------------------------- 200 MiB through nginx
python3 - "$D/big.sql" <<'PY'
import sys
row = "x" * 1000
with open(sys.argv[1], "w") as f:
    f.write("CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(1200) NOT NULL);\n")
    n = 0
    while f.tell() < 200 * 1024 * 1024:
        f.write("INSERT INTO big VALUES " + ",".join("(%d,'%s%d')" % (n + i, row, n + i) for i in range(500)) + ";\n")
        n += 500
print(n)
PY
ROWS=$(python3 -c "import sys; print(sum(l.count('),(') + 1 for l in open(sys.argv[1]) if l.startswith('INSERT')))" "$D/big.sql")
SIZE=$(stat -c %s "$D/big.sql")
hwm() { for p in $(worker_pids); do awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null; done | sort -n | tail -1; }
before=$(hwm)
# Sample every worker's RSS while the upload runs.
( while :; do for p in $(worker_pids); do awk '/VmRSS/ {print $2}' "/proc/$p/status" 2>/dev/null; done; sleep 0.1; done ) > "$D/rss.txt" 2>/dev/null &
SAMPLER=$!
t0=$(date +%s%N)
r=$(post_form "$T/f.html" -F "csrf=$CSRF" -F "file=@$D/big.sql")
t=$(( ($(date +%s%N) - t0) / 1000000 ))
kill "$SAMPLER" 2>/dev/null || true; wait "$SAMPLER" 2>/dev/null || true; SAMPLER=""
JOB=$(echo "$r" | sed -n 's|.*/jobs/\([0-9][0-9]*\)$|\1|p')
check "a $((SIZE / 1048576)) MiB dump from the page's form through nginx: 303 to its job in $t ms ($r)" \
	bash -c "[ '${r%% *}' = 303 ] && [ -n '$JOB' ]"
peak=$(hwm)
rss=$(sort -n "$D/rss.txt" | tail -1)
echo "  -- workers' peak memory (VmHWM): ${before} kB before, ${peak} kB after; highest RSS sampled during the upload: ${rss:-?} kB; the dump: $((SIZE / 1024)) kB"
check "no worker's peak memory came near the dump's size (peak ${peak} kB, dump $((SIZE / 1024)) kB)" \
	test "${peak:-999999}" -lt 65536
job_wait "$JOB" || true
check "... the import's job done ($(jq -c '.job | {state, error}' "$T/job.json"))" jqe '.job.state == "done"' "$T/job.json"
check "... the $ROWS rows are there" test "$(MY -e 'SELECT COUNT(*) FROM big')" = "$ROWS"
check "... the last row whole" test "$(MY -e "SELECT LENGTH(v) FROM big WHERE id = $((ROWS - 1))")" = "$((1000 + ${#ROWS} ))"
curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$ID")" > "$T/db.json"
SHA=$(sha256sum "$D/big.sql" | cut -d' ' -f1)
check "... its history row: the upload's size and SHA-256" \
	jqe --arg s "$SHA" --argjson n "$SIZE" '.history[0] | .size == $n and .sha256 == $s and .kind == "import"' "$T/db.json"

# ---------------------------------------------------------------- over databases.import_max
head -c $((MAX - SIZE + 4096)) /dev/zero | tr '\0' ' ' > "$D/pad"
cat "$D/big.sql" "$D/pad" > "$D/over.sql"
rm -f "$D/pad"
h0=$(hist_n)
r=$(post_form "$T/over.html" -F "csrf=$CSRF" -F "file=@$D/over.sql")
check "a dump over databases.import_max: 413 ($r)" test "${r%% *}" = 413
check "... the form again, the field file saying why" \
	bash -c "grep -q 'id=\"f-import-error\"' '$T/over.html' && grep -q 'import_max' '$T/over.html' && grep -q 'aria-invalid=\"true\"' '$T/over.html'"
curl -s -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$ID")" > "$T/db.json"
check "... a failed history row without a job" \
	jqe --argjson h "$h0" '(.history | length) == $h + 1 and (.history[0] | .result == "failed" and .job == null and (.error | test("import_max")))' "$T/db.json"
rm -f "$D/over.sql" "$D/big.sql"
printf 'INSERT INTO big VALUES (-1, %s);\n' "'tail'" > "$D/small.sql"
r=$(post_form "$T/f.html" -F "csrf=$CSRF" -F "file=@$D/small.sql")
check "the pool serves the next form import at once ($r)" test "${r%% *}" = 303

# ---------------------------------------------------------------- an unreachable server's database page
FWPORT=$(it_free_port)
python3 - "$FWPORT" "$MYSQL_PORT" "$D/hole" > "$D/fwd.out" 2>&1 <<'PY' &
import os, socket, sys, threading
lp, tp, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", lp)); s.listen(64)
print("ready", flush=True)
held = []
def pipe(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d: break
            b.sendall(d)
    except OSError: pass
    for x in (a, b):
        try: x.shutdown(socket.SHUT_RDWR)
        except OSError: pass
while True:
    c, _ = s.accept()
    if os.path.exists(flag):
        held.append(c)  # a blackhole: the connection taken, nothing ever sent
        continue
    u = socket.create_connection(("127.0.0.1", tp))
    threading.Thread(target=pipe, args=(c, u), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c), daemon=True).start()
PY
FWD_PID=$!
for _ in $(seq 1 100); do grep -q ready "$D/fwd.out" 2>/dev/null && break; sleep 0.05; done
check "server far added through the loopback forwarder" test "$(api POST /database-servers "$(jq -nc --arg d "mysql://dbadmin@127.0.0.1:$FWPORT/" --arg p "$APW" '{name:"far", dsn:$d, password:$p}')")" = 201
check "a database on it" test "$(api POST /databases '{"server":"far","name":"remote1"}')" = 201
FID=$(jq -r .id "$T/api.json")
curl -s -o "$T/far.html" -b "$J" "$(url "/databases/$FID")"
check "its page while it answers: no unreachable alert" bash -c "! grep -q 'alert-error' '$T/far.html'"
touch "$D/hole"
ms_of() { local t0; t0=$(date +%s%N); "$@" >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 )); }
# Another page asked (another session) while the database's page waits.
it_login "$T/jar2" admin 'correct horse battery staple' >/dev/null
( sleep 0.3; ms_of curl -s -o /dev/null -b "$T/jar2" "$(url "/sites")" > "$D/other.ms" ) &
BG=$!
t0=$(date +%s%N)
code=$(curl -s -o "$T/far.html" -w '%{http_code}' -b "$J" "$(url "/databases/$FID")")
t=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$BG" 2>/dev/null || true; BG=""
check "the blackholed server's database page answers 200 in $t ms (connect_timeout_ms $CT)" \
	bash -c "[ '$code' = 200 ] && [ $t -lt $((CT + 1500)) ]"
check "... saying the server is not reachable, and why" \
	bash -c "grep -q 'alert-error' '$T/far.html' && grep -q 'not reachable' '$T/far.html' && grep -q 'Reason:' '$T/far.html'"
check "... meanwhile the sites page answered in $(cat "$D/other.ms") ms" test "$(cat "$D/other.ms")" -lt "$CT"
curl -s -o "$T/far-ar.html" -b "$J" -b lang=ar "$(url "/databases/$FID")"
check "... in Arabic, right to left, the reason kept left to right" \
	bash -c "grep -q 'dir=\"rtl\"' '$T/far-ar.html' && grep -q '<bdi dir=\"ltr\" class=\"mono\">' '$T/far-ar.html'"
t=$(ms_of curl -s -o "$T/far.json" -H "Authorization: Bearer $TOKEN" "$(url "/api/v1/databases/$FID")")
check "the API's GET /databases/{id} in $t ms: 200, size unknown" \
	bash -c "[ $t -lt $((CT + 1500)) ] && jq -e '.database.name == \"remote1\" and .database.size == null' '$T/far.json' >/dev/null"
it_summary
[ "$FAIL" -eq 0 ]
