#!/usr/bin/env bash
# Databases (issue 15): a database server that does not answer holds neither
# the helper's loop nor the servers page. Three servers point at a loopback
# port that accepts TCP (the kernel's backlog) and never sends a byte — a
# blackholed MariaDB — beside a live PostgreSQL: the servers page answers in
# about databases.connect_timeout_ms (their statuses are asked at once, not
# one after the other), says which are unreachable, and while statements on
# the blackholed servers are under way other pages, another server's page and
# another helper call stay fast.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sites_lib.sh"
. "$(dirname "$0")/dbservers.sh"
CT=1000
it_setup "databases = { connect_timeout_ms = $CT; };
pool = { workers = 8; };"
sites_setup 'system_users = false;'
D=$(mktemp -d /tmp/aapanel-dbslow.XXXXXX)
chmod 0755 "$D"
HOLE_PID="" BG_PIDS=""
slow_teardown() {
	local rc=$?
	for p in $BG_PIDS $HOLE_PID; do kill "$p" 2>/dev/null || true; done
	for p in $BG_PIDS $HOLE_PID; do wait "$p" 2>/dev/null || true; done
	db_stop_all || true
	rm -rf "$D"
	(exit "$rc")
	sites_teardown
}
trap slow_teardown EXIT
check "MariaDB starts on loopback" db_start_mariadb "$D/my"
check "PostgreSQL starts on loopback" db_start_postgres "$D/pg"
[ -n "${MYSQL_PID:-}" ] && [ -n "${PG_PID:-}" ] || exit 1
APW=$(openssl rand -hex 16)
_db_my_sql "CREATE USER 'dbadmin'@'127.0.0.1' IDENTIFIED BY '$APW'; GRANT ALL ON *.* TO 'dbadmin'@'127.0.0.1' WITH GRANT OPTION;"
runuser -u postgres -- "$PG_BIN/psql" -X -q -h "$D/pg" -p "$PG_PORT" -U postgres -d postgres \
	-c "CREATE ROLE dbadmin SUPERUSER LOGIN PASSWORD '$APW'" >/dev/null

it_start_pool
sites_start_nginx
sites_start_helper
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
it_user admin admin 'correct horse battery staple'
TOKEN=$(A token create --user admin --scope write --name t | tail -1)
ms_of() { local t0; t0=$(date +%s%N); "$@" >/dev/null; echo $(( ($(date +%s%N) - t0) / 1000000 )); }

for s in my1 my2 my3; do
	api POST /database-servers "$(jq -nc --arg n "$s" --arg d "mysql://dbadmin@127.0.0.1:$MYSQL_PORT/" --arg p "$APW" '{name:$n, dsn:$d, password:$p}')" > "$T/st"
	check "server $s added while MariaDB answers" test "$(cat "$T/st")" = 201
done
check "server pg added" test "$(api POST /database-servers "$(jq -nc --arg d "postgresql://dbadmin@127.0.0.1:$PG_PORT/postgres" --arg p "$APW" '{name:"pg", dsn:$d, password:$p}')")" = 201
PG_ID=$(jq -r .id "$T/api.json")
check "a database on my1 while it answers" test "$(api POST /databases '{"server":"my1","name":"slowdb"}')" = 201
SLOW_ID=$(jq -r .id "$T/api.json")
api POST /databases '{"server":"my2","name":"slowdb2"}' > "$T/st2"
api POST /databases '{"server":"my3","name":"slowdb3"}' > "$T/st3"
check "... and one on my2 and on my3" test "$(cat "$T/st2") $(cat "$T/st3")" = "201 201"
t=$(ms_of api GET /database-servers)
check "all four reachable: the servers page in ${t} ms" jqe '[.items[] | select(.reachable)] | length == 4' "$T/api.json"

# ---------------------------------------------------------------- the blackhole
db_stop_mariadb
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
print("ready", flush=True)
time.sleep(600)' "$MYSQL_PORT" > "$D/hole.out" &
HOLE_PID=$!
for _ in $(seq 1 100); do grep -q ready "$D/hole.out" 2>/dev/null && break; sleep 0.05; done
check "the blackhole takes TCP connections and answers nothing" \
	bash -c "exec 3<>/dev/tcp/127.0.0.1/$MYSQL_PORT && ! timeout 1 head -c1 <&3 >/dev/null"

t=$(ms_of api GET /database-servers)
check "the servers page answers in about connect_timeout_ms ($t ms; three blackholed servers one after the other would be ≥ $((3 * CT)))" \
	test "$t" -ge $((CT - 300)) -a "$t" -lt $((CT * 2 + 600))
check "... the three blackholed servers not reachable, with a reason; pg reachable" \
	jqe '([.items[] | select(.name | startswith("my")) | select(.reachable == false and (.error | length) > 0)] | length == 3) and (.items[] | select(.name == "pg") | .reachable)' "$T/api.json"
t0=$(date +%s%N)
A dbserver list > "$T/cli.txt" 2>&1 || true
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check "CLI: dbserver list in about connect_timeout_ms too ($t ms), three unreachable" bash -c \
	"[ $t -lt $((CT * 2 + 800)) ] && [ \$(grep -c ' unreachable ' '$T/cli.txt') = 3 ] && grep -q '^pg .* reachable ' '$T/cli.txt'"

# Statements on the blackholed servers under way, several at once.
for s in my1 my2 my3; do
	curl -s -o "$T/bg-$s.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
		-H 'Content-Type: application/json' --data-binary "{\"server\":\"$s\",\"name\":\"late_$s\"}" \
		"$(url /api/v1/databases)" > "$T/bg-$s.st" &
	BG_PIDS="$BG_PIDS $!"
done
curl -s -o "$T/bg-drop.json" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
	-H 'Content-Type: application/json' --data-binary '{"confirm_name":"slowdb"}' \
	"$(url "/api/v1/databases/$SLOW_ID/remove")" > "$T/bg-drop.st" &
BG_PIDS="$BG_PIDS $!"
curl -s -o /dev/null -H "Authorization: Bearer $TOKEN" "$(url /api/v1/database-servers)" &
BG_PIDS="$BG_PIDS $!"
sleep 0.2
t=$(ms_of "$SEND" --call "$HS" helper.ping)
check "meanwhile another helper call answers at once ($t ms; held by the four statements it would wait ≥ $((3 * CT)))" test "$t" -lt $CT
t0=$(date +%s%N)
"$SEND" --call "$HS" dbserver.status '{"name":"pg"}' > "$T/pgst.json" 2>&1 || true
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... the live server's status from the helper ($t ms), reachable" bash -c \
	"[ $t -lt $CT ] && jq -e '.result.reachable' '$T/pgst.json' >/dev/null"
t=$(ms_of api GET /sites)
check "... the sites list ($t ms)" test "$t" -lt $CT
t=$(ms_of api GET /databases)
check "... the databases list, which asks my1, my2 and my3 at once for their sizes ($t ms; one after the other ≥ $((3 * CT)))" test "$t" -lt $((CT * 2 + 600))
check "... their databases still listed, without the sizes their servers could not give" jqe '([.items[] | select(.name | startswith("slowdb")) | select(.size == null)] | length == 3)' "$T/api.json"
t=$(ms_of api POST /databases '{"server":"pg","name":"fastdb"}')
check "... a database created on the live server ($t ms)" test "$t" -lt 2000 -a "$(jq -r .name "$T/api.json")" = fastdb
for p in $BG_PIDS; do wait "$p" 2>/dev/null || true; done
BG_PIDS=""
check "the creates on the blackholed servers failed with the driver's reason" \
	bash -c "for s in my1 my2 my3; do [ \"\$(cat $T/bg-\$s.st)\" = 422 ] && jq -e '.error.reason | test(\"connect\")' $T/bg-\$s.json >/dev/null || exit 1; done"
check "... nothing recorded for them" test "$(sqlite3 "$T/var/aapanel.db" "SELECT COUNT(*) FROM managed_databases WHERE name LIKE 'late_%'")" = 0
check "the drop on a blackholed server failed and the database is still listed" \
	bash -c "[ \"\$(cat $T/bg-drop.st)\" = 422 ] && [ \"\$(sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM managed_databases WHERE name = 'slowdb'\")\" = 1 ]"

# The helper's own bound: a direct status call of all three answers within connect_timeout_ms + 1 s.
t0=$(date +%s%N)
"$SEND" --call --timeout 10000 "$HS" dbserver.statuses '{"names":"my1 pg my2 my3"}' > "$T/statuses.json" 2>&1 || true
t=$(( ($(date +%s%N) - t0) / 1000000 ))
check "dbserver.statuses of four, three blackholed: $t ms, in the order asked" bash -c \
	"[ $t -lt $((CT * 2 + 400)) ] && jq -e '[.result.servers[].name] == [\"my1\",\"pg\",\"my2\",\"my3\"] and [.result.servers[].reachable] == [false,true,false,false]' '$T/statuses.json' >/dev/null"
printf '%s\n' '{"id":1,"op":"dbserver.statuses","args":{"names":"my1 pg"}}' '{"id":2,"op":"helper.ping","args":{}}' |
	"$SEND" --timeout 10000 "$HS" > "$T/pipelined.out" 2>&1 || true
check "two requests sent at once, then half-closed: the late answer first, then the next, in order" bash -c \
	"[ \$(wc -l < '$T/pipelined.out') = 2 ] && head -1 '$T/pipelined.out' | jq -e '.id == 1 and .ok and (.result.servers | length) == 2' >/dev/null && tail -1 '$T/pipelined.out' | jq -e '.id == 2 and .ok' >/dev/null"
check "... a bad list of names is refused naming the field" bash -c \
	"\"$SEND\" --call '$HS' dbserver.statuses '{\"names\":\"a  b\"}' 2>&1 | jq -e '.error.field == \"names\"' >/dev/null"
check "no helper child left behind" bash -c "[ -z \"\$(ps -o pid= --ppid $HPID | tr -d ' ')\" ]"
check "the admin password in no log" bash -c "! grep -rq '$APW' '$T/pool.log' '$T/helper.log' '$T/nginx' 2>/dev/null"
it_summary
