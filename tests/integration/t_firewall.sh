#!/usr/bin/env bash
# Firewall (issue 17): nftables through the helper, in network namespaces the
# test creates (a server namespace with small listeners, a client namespace,
# a veth pair between them); never the machine's own ruleset, which is
# checked unchanged at the end. Allowed traffic passes, denied does not, the
# block list (an nftables set) drops its addresses, rules from addresses and
# CIDR networks (IPv4 and IPv6) come before later denies, ping on and off, a
# connection rate limit; an unconfirmed apply reverts after its deadline (3 s
# here) and traffic passes again, a confirmed one stays; a foreign table the
# test adds survives every apply; the lock-out guard refuses a ruleset that
# would cut off the requesting address (CLI: $SSH_CONNECTION, API: the
# client's address on the panel's port) unless overridden; hostile input is
# refused naming the field with nothing changed; every change is audited
# with before and after; the API and the page show the kernel's table.
. "$(dirname "$0")/lib.sh"
N=$$
SRV="aptest-fws-$N" CLI="aptest-fwc-$N"
it_setup "helper = { socket = \"@T@/var/run/helper.sock\"; sandbox_root = \"@T@/var/sandbox\"; };
firewall = { netns = \"/run/netns/$SRV\"; confirm_seconds = 3; ssh_port = 22; };"
mkdir -p "$T/var/sandbox"
A() { "$BIN" --profile test --config "$T/conf/aapanel.cfg" --root "$SRC" "$@"; }
SX() { ip netns exec "$SRV" "$@"; }
CX() { ip netns exec "$CLI" "$@"; }

ROOT_RULES_BEFORE=$(nft list ruleset 2>&1 | sha256sum)
LISTENERS=()
cleanup_ns() {
	local p
	for p in "${LISTENERS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	# A watchdog left by the helper (a change still waiting) must not outlive the test.
	if [ -n "$HELPER_PID" ]; then
		for p in $(pgrep -P "$HELPER_PID" 2>/dev/null); do kill "$p" 2>/dev/null; done
	fi
	ip netns del "$SRV" 2>/dev/null
	ip netns del "$CLI" 2>/dev/null
	return 0
}
trap 'rc=$?; cleanup_ns; (exit $rc); it_teardown' EXIT

# ---- the two namespaces and their veth pair
S4=10.231.$((N % 200)).1 C4=10.231.$((N % 200)).2
S6=fd00:fa:$((N % 200))::1 C6=fd00:fa:$((N % 200))::2
ip netns add "$SRV"
ip netns add "$CLI"
ip link add "fwa$N" type veth peer name "fwb$N"
ip link set "fwa$N" netns "$SRV"
ip link set "fwb$N" netns "$CLI"
SX ip link set lo up; CX ip link set lo up
SX ip addr add "$S4/24" dev "fwa$N"; CX ip addr add "$C4/24" dev "fwb$N"
SX ip addr add "$S6/64" dev "fwa$N" nodad; CX ip addr add "$C6/64" dev "fwb$N" nodad
SX ip link set "fwa$N" up; CX ip link set "fwb$N" up
for port in 8080 8081 8082; do
	# nsenter execs the listener itself (ip netns exec would fork it away from $!)
	nsenter --net="/run/netns/$SRV" python3 -m http.server "$port" --bind :: --directory "$T" >/dev/null 2>&1 &
	LISTENERS+=($!)
	disown $!
done
# fetch ADDR PORT → the HTTP status from the client namespace (000: no answer within a second)
fetch() { CX curl -s -o /dev/null -m 1 -w '%{http_code}' "http://$1:$2/" 2>/dev/null || true; }
fetch6() { CX curl -s -o /dev/null -m 1 -w '%{http_code}' "http://[$1]:$2/" 2>/dev/null || true; }
for _ in $(seq 1 100); do [ "$(fetch "$S4" 8080)$(fetch "$S4" 8081)$(fetch "$S4" 8082)" = 200200200 ] && break; sleep 0.1; done
# echo4 ADDR: one ICMP echo request from the client namespace; 0 when the reply comes within a second
# (Python's raw socket: the machine has no ping)
echo4() {
	CX python3 - "$1" <<'PY'
import os, socket, struct, sys, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF); s += s >> 16
    return ~s & 0xFFFF
ident = os.getpid() & 0xFFFF  # a new id each time, as ping does (conntrack tells echoes apart by it)
hdr = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"aapanel!"
pkt = hdr[:2] + struct.pack("!H", csum(hdr)) + hdr[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.2)
s.sendto(pkt, (sys.argv[1], 0))
end = time.time() + 1
while time.time() < end:
    try:
        data, src = s.recvfrom(2048)
    except socket.timeout:
        continue
    ihl = (data[0] & 15) * 4
    if src[0] == sys.argv[1] and data[ihl] == 0 and struct.unpack("!H", data[ihl + 4:ihl + 6])[0] == ident:
        sys.exit(0)
sys.exit(1)
PY
}
check "before any rule the client reaches the server (IPv4 and IPv6)" \
	test "$(fetch "$S4" 8080)$(fetch "$S4" 8081)$(fetch6 "$S6" 8080)" = 200200200

# A foreign table, as Docker or fail2ban would have: it must survive every apply.
SX nft add table ip foreign
SX nft add chain ip foreign input '{ type filter hook input priority 10; policy accept; }'
SX nft add rule ip foreign input tcp dport 9999 counter comment '"theirs"'
foreign_ok() { local t; t=$(SX nft list table ip foreign 2>&1) && [[ $t == *'tcp dport 9999 counter'*'comment "theirs"'* ]]; }

HS="$T/var/run/helper.sock"
it_start_helper "$HS"
it_user admin admin 'correct horse battery staple'
count_rules() { sqlite3 "$T/var/aapanel.db" 'SELECT COUNT(*) FROM firewall_rules'; }
list_json() { A firewall list --json; }

# ---- deny a port, apply, confirm
check "deny 8081/tcp is stored" quiet A firewall deny 8081/tcp --comment "no 8081"
check "before apply the kernel has no panel table" jqe '.kernel.exists == false and .applied == false and .rules[0].in_kernel == false' <(list_json)
check "apply answers a serial and the confirmation deadline" quiet A firewall apply
check "8080 still passes, 8081 is dropped" test "$(fetch "$S4" 8080)$(fetch "$S4" 8081)" = 200000
check "the kernel's table is read back: the rule with its comment, a change pending" \
	jqe '.kernel.exists and (.kernel.text | test("tcp dport 8081 drop comment \"aapanel:[0-9]+ no 8081\"")) and .rules[0].in_kernel and .pending != null and .differs == false and .applied' <(list_json)
check "the foreign table survives the apply" foreign_ok
check "confirm keeps it" quiet A firewall confirm
sleep 4
check "past the deadline a confirmed change stays: 8081 still dropped" test "$(fetch "$S4" 8081)" = 000
check "nothing pending after the confirmation" jqe '.pending == null and .differs == false' <(list_json)

# ---- allow from an address before the deny, IPv4 and IPv6
check "allow 8081 from the client's IPv4 and IPv6 addresses, first" \
	quiet A firewall allow 8081/tcp --from "$C4 ${C6%::2}::/64" --position 1
quiet A firewall apply; quiet A firewall confirm
check "8081 passes from the allowed addresses (IPv4 and IPv6)" test "$(fetch "$S4" 8081)$(fetch6 "$S6" 8081)" = 200200
check "the rules' order is the kernel's: the allow before the deny" \
	bash -c "A() { \"$BIN\" --profile test --config \"$T/conf/aapanel.cfg\" --root \"$SRC\" \"\$@\"; }; A firewall list --json | jq -r .kernel.text | grep -n 'dport 8081' | head -1 | grep -q accept"
check "the foreign table survives" foreign_ok

# ---- the block list
check "block the client's IPv4 address" quiet A firewall block "$C4" --comment "abuser"
quiet A firewall apply; quiet A firewall confirm
check "a blocked address gets nothing, over IPv6 it still passes" test "$(fetch "$S4" 8080)$(fetch6 "$S6" 8080)" = 000200
check "the block list is an nftables set in the kernel" bash -c "ip netns exec $SRV nft list set inet aapanel block4 | grep -q '$C4'"
BID=$(list_json | jq -r '.block[0].id')
check "unblock it" quiet A firewall unblock "$BID"
quiet A firewall apply; quiet A firewall confirm
check "unblocked, it passes again" test "$(fetch "$S4" 8080)" = 200

# ---- an unconfirmed change reverts after its deadline
check "deny 8080 from anywhere" quiet A firewall deny 8080/tcp --comment "will revert"
quiet A firewall apply
check "right after apply 8080 is dropped" test "$(fetch "$S4" 8080)" = 000
check "the foreign table survives" foreign_ok
sleep 4.5
check "past its 3 s deadline unconfirmed, the old ruleset is back: 8080 passes again" test "$(fetch "$S4" 8080)" = 200
check "8081's confirmed rules are still there after the revert" test "$(fetch "$S4" 8081)" = 200
check "the page's data says so: nothing pending, stored rules not applied" \
	jqe '.pending == null and .applied == false and ([.rules[] | select(.comment == "will revert")][0].in_kernel == false)' <(list_json)
rc=0; A firewall confirm 2>"$T/err" || rc=$?
check "confirming too late fails (exit 2) saying why" test "$rc" = 2
check "the foreign table survives the revert" foreign_ok
RID=$(list_json | jq -r '[.rules[] | select(.comment == "will revert")][0].id')
quiet A firewall remove "$RID"

# ---- the lock-out guard
quiet A firewall deny 22/tcp --from "10.231.$((N % 200)).0/24" --comment "ssh cut"
before=$(SX nft list table inet aapanel | sha256sum)
rc=0; SSH_CONNECTION="$C4 50000 $S4 22" A firewall apply 2>"$T/err" || rc=$?
check "a ruleset that would cut the SSH session's address off is refused (exit 2)" test "$rc" = 2
check "the refusal explains it: override, the address, SSH and the rule" \
	grep -q "override: this ruleset would lock $C4 out of port 22 (SSH)" "$T/err"
check "and the kernel is unchanged" test "$(SX nft list table inet aapanel | sha256sum)" = "$before"
check "with --override it is applied" bash -c "SSH_CONNECTION='$C4 50000 $S4 22' \"$BIN\" --profile test --config \"$T/conf/aapanel.cfg\" --root \"$SRC\" firewall apply --override >/dev/null"
check "SSH's port is then dropped for the client" test "$(CX curl -s -o /dev/null -m 1 -w '%{http_code}' "telnet://$S4:22" 2>/dev/null; echo)" != ok
quiet A firewall confirm
RID=$(list_json | jq -r '[.rules[] | select(.comment == "ssh cut")][0].id')
quiet A firewall remove "$RID"

# ---- ping, rate limit
check "ping is answered before" echo4 "$S4"
quiet A firewall policy accept --icmp-echo off; quiet A firewall apply; quiet A firewall confirm
no_echo4() { ! echo4 "$1"; }
check "ping off: no echo reply" no_echo4 "$S4"
quiet A firewall policy accept --icmp-echo on; quiet A firewall apply; quiet A firewall confirm
check "ping on: echo replies" echo4 "$S4"
check "a rate limit of 2 new connections a minute on 8082" quiet A firewall allow 8082/tcp --rate 2 --position 1 --comment limited
quiet A firewall apply; quiet A firewall confirm
got=0; for _ in 1 2 3 4 5 6; do [ "$(fetch "$S4" 8082)" = 200 ] && got=$((got + 1)); done
check "of 6 quick connections to 8082 the first 2 pass, the rest are dropped (got $got)" test "$got" = 2
# The limit is per source address: another client address has an allowance of its own.
C4B=${C4%.2}.3
CX ip addr add "$C4B/24" dev "fwb$N"
got=0; for _ in 1 2 3 4; do [ "$(CX curl -s -o /dev/null -m 1 -w '%{http_code}' --interface "$C4B" "http://$S4:8082/" 2>/dev/null)" = 200 ] && got=$((got + 1)); done
check "per source address: from $C4B, 2 of 4 pass while $C4 is still limited (got $got)" \
	bash -c "[ $got = 2 ] && [ \"\$(ip netns exec $CLI curl -s -o /dev/null -m 1 -w '%{http_code}' http://$S4:8082/ 2>/dev/null)\" != 200 ]"
check "the kernel's rule names a meter on the source address" \
	bash -c "SX() { ip netns exec $SRV \"\$@\"; }; SX nft list table inet aapanel | grep -q 'meter rate_[0-9]*_tcp_ip size [0-9]* { ip saddr limit rate over 2/minute'"
check "8080 has no limit" test "$(fetch "$S4" 8080)$(fetch "$S4" 8080)$(fetch "$S4" 8080)" = 200200200

# ---- hostile input: refused naming the field, nothing stored
n=$(count_rules)
bad() { local field=$1; shift; local rc=0; A firewall "$@" >/dev/null 2>"$T/err" || rc=$?; [ "$rc" = 2 ] && grep -q ": $field: " "$T/err"; }
check "ports '80; rm -rf /' refused naming ports" bad ports allow '80; rm -rf /'
check "ports 0 refused" bad ports allow 0/tcp
check "ports 70000 refused" bad ports deny 70000
check "a range backwards refused" bad ports allow 9000-8000
check "proto icmp refused" bad ports allow 80/icmp
check "from with a shell injection refused naming from" bad from allow 80 --from '1.2.3.4;id'
check "from with a bad network refused" bad from allow 80 --from '10.0.0.0/33'
check "from with \$( ) refused" bad from allow 80 --from '$(id)'
check "a comment with a quote refused naming comment" bad comment allow 80 --comment 'a"b'
check "a comment with a newline refused" bad comment allow 80 --comment $'a\nb'
check "rate on a deny refused" bad rate deny 80 --rate 5
check "a block entry that is a name refused naming address" bad address block example.com
check "a block entry with a Cyrillic look-alike refused" bad address block '1.2.3.а'
check "nothing was stored by the refusals" test "$(count_rules)" = "$n"
check "the foreign table survived every apply" foreign_ok

# ---- the helper stops with a change unconfirmed: nobody could confirm it, so it is rolled back
quiet A firewall deny 8080/tcp --comment "helper stops"
quiet A firewall apply
check "an unconfirmed deny of 8080 drops it" test "$(fetch "$S4" 8080)" = 000
kill -TERM "$HELPER_PID"; wait "$HELPER_PID" 2>/dev/null || true; HELPER_PID=""
check "the helper stopped (SIGTERM) before the deadline: 8080 passes again at once" test "$(fetch "$S4" 8080)" = 200
check "the foreign table survives" foreign_ok
it_start_helper "$HS"
RID=$(list_json | jq -r '[.rules[] | select(.comment == "helper stops")][0].id')
quiet A firewall remove "$RID"

# ---- the API and the page (a real pool and nginx)
it_start_pool
it_start_nginx
TOKEN=$(A token create --user admin --scope admin --name t | tail -1)
api() { curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' "$@"; }
api "$(url /api/v1/firewall)" > "$T/fw.json"
check "GET /api/v1/firewall: the target namespace, the rules, the kernel's table read back" \
	jqe --arg ns "/run/netns/$SRV" '.target == "namespace" and .netns == $ns and (.rules | length) >= 3 and .kernel.exists and (.kernel.other_tables | index("ip foreign")) != null' "$T/fw.json"
st=$(api -o "$T/r.json" -w '%{http_code}' -X POST -d '{"action":"allow","ports":"80","from":"10.0.0.1 && reboot"}' "$(url /api/v1/firewall/rules)")
check "POST /api/v1/firewall/rules with a hostile from: 400 naming from" \
	bash -c "[ $st = 400 ] && jq -e '.error.field == \"from\"' '$T/r.json' >/dev/null"
st=$(api -o "$T/r.json" -w '%{http_code}' -X POST -d '{"action":"open","ports":"80"}' "$(url /api/v1/firewall/rules)")
check "an action that is not allow or deny: 400 naming action" bash -c "[ $st = 400 ] && jq -e '.error.field == \"action\"' '$T/r.json' >/dev/null"
check "nothing was stored" test "$(count_rules)" = "$n"
st=$(api -o "$T/r.json" -w '%{http_code}' -X POST -d "{\"action\":\"deny\",\"ports\":\"$PORT\",\"comment\":\"panel cut\"}" "$(url /api/v1/firewall/rules)")
check "a deny of the panel's own port is stored (201)" test "$st" = 201
st=$(api -o "$T/r.json" -w '%{http_code}' -X POST -d '{}' "$(url /api/v1/firewall/apply)")
check "applying it is refused for the requesting address: 409 naming override, with the explanation" \
	bash -c "[ $st = 409 ] && jq -e '.error.field == \"override\" and (.error.reason | test(\"lock 127.0.0.1 out of port $PORT \\\\(the panel\\\\)\"))' '$T/r.json' >/dev/null"
st=$(api -o "$T/r.json" -w '%{http_code}' -X POST -d '{"override":true}' "$(url /api/v1/firewall/apply)")
check "with override: 200, a serial and its deadline" bash -c "[ $st = 200 ] && jq -e '.serial > 0 and (.deadline | test(\"Z$\"))' '$T/r.json' >/dev/null"
JAR="$T/jar"
check "the admin signs in with a browser's form" test "$(it_login "$JAR" admin 'correct horse battery staple')" = 303
curl -s -b "$JAR" "$(url /firewall)" > "$T/page.html"
# A refused form in Arabic: the checks' reason in Arabic at the field, the value kept.
csrf=$(csrf_of "$JAR")
st=$(curl -s -o "$T/ar.html" -w '%{http_code}' -b "$JAR" -b lang=ar -H "Origin: http://127.0.0.1:$PORT" --data-urlencode "csrf=$csrf" -d action=allow -d proto=tcp \
	-d ports=70000 "$(url /firewall/rules)")
check "the rule form in Arabic: a port over 65535 is a 400 with the reason in Arabic, the value kept (got $st)" \
	bash -c "[ $st = 400 ] && grep -q 'يجب أن يكون منفذًا من 1 إلى 65535' '$T/ar.html' && grep -q 'value=\"70000\"' '$T/ar.html'"
st=$(curl -s -o "$T/ar.html" -w '%{http_code}' -b "$JAR" -b lang=ar -H "Origin: http://127.0.0.1:$PORT" --data-urlencode "csrf=$csrf" -d action=allow -d proto=tcp \
	-d ports=80 --data-urlencode "from=10.0.0.300" "$(url /firewall/rules)")
check "... an address that is none: its reason in Arabic with the address" \
	bash -c "[ $st = 400 ] && grep -q '10.0.0.300.* ليس عنوانًا ولا شبكة CIDR' '$T/ar.html'"
# A stored rule the checks refuse (written into the database behind the panel's back): the
# document's check refuses the apply, its reason in Arabic too, and nothing is applied.
sqlite3 "$T/var/aapanel.db" "INSERT INTO firewall_rules (action, proto, port_from, port_to, source, comment, enabled, position, created_at, rate) VALUES ('allow', 'tcp', 70000, 70000, '', 'bad row', 1, 999, 0, 0)"
st=$(curl -s -o "$T/ar.html" -w '%{http_code}' -b "$JAR" -b lang=ar -H "Origin: http://127.0.0.1:$PORT" --data-urlencode "csrf=$csrf" \
	"$(url /firewall/apply)")
check "a stored rule with port 70000: apply refused ($st) with the document check's reason in Arabic, the kernel's table unchanged" \
	bash -c "[ $st -ge 400 ] && grep -q 'يجب أن يكون منفذًا من 1 إلى 65535' '$T/ar.html' && ! ip netns exec $SRV nft list table inet aapanel | grep -q 70000"
sqlite3 "$T/var/aapanel.db" "DELETE FROM firewall_rules WHERE comment = 'bad row'"
check "the page shows the pending change with its confirm button, the namespace, the kernel's rules" \
	bash -c "grep -q 'panel cut' '$T/page.html' && grep -q '/run/netns/$SRV' '$T/page.html' && grep -q 'action=\"/firewall/confirm\"' '$T/page.html' && grep -q 'tcp dport $PORT drop comment' '$T/page.html'"
st=$(api -o "$T/r.json" -w '%{http_code}' -X POST -d '{}' "$(url /api/v1/firewall/confirm)")
check "POST /api/v1/firewall/confirm over a new connection: 200 confirmed" bash -c "[ $st = 200 ] && jq -e '.confirmed' '$T/r.json' >/dev/null"
check "the audit log has the apply with before (the stored ruleset) and after (serial, override)" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT after_json FROM audit_log WHERE action = 'firewall.apply' AND outcome = 'ok' AND via = 'api' AND before_json LIKE '%panel cut%'\" | grep -q '\"override\":true'"
check "the audit log has the refused apply too" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT COUNT(*) FROM audit_log WHERE action = 'firewall.apply' AND outcome = 'failed'\" | grep -qv '^0$'"
check "and the CLI's rule additions with their after" \
	bash -c "sqlite3 '$T/var/aapanel.db' \"SELECT after_json FROM audit_log WHERE action = 'firewall.rule.add' AND via = 'cli'\" | grep -q 'no 8081'"

# ---- the machine's own ruleset was never touched
check "the foreign table survived to the end" foreign_ok
check "the root namespace's ruleset is unchanged" test "$(nft list ruleset 2>&1 | sha256sum)" = "$ROOT_RULES_BEFORE"
it_summary
