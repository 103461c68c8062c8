#!/usr/bin/env bash
# Regenerates the packet captures in this directory: real Linux kernel MPTCP
# traffic between two network namespaces, recorded with tcpdump.
#
#   sudo bash captures/make-captures.sh            # all scenarios
#   sudo bash captures/make-captures.sh mp_prio    # only the named ones
#
# Needs root, iproute2 (ip netns, ip mptcp), tcpdump, tshark, editcap, ethtool,
# and cargo (or KERNEL_PEER=/path/to/kernel-peer to skip the build).
#
# Every scenario builds its own pair of namespaces (client and server) joined by
# veth pairs, with addresses 10.0.N.0/24 and fd00:N::/64 that exist only inside
# those namespaces. Nothing is configured in the root namespace. A trap removes
# the namespaces and stops every process started here, on success or failure.
#
# After each capture, tshark checks that the MPTCP options the scenario is about
# are really in the file; the script fails if one is missing, so a regeneration
# checks itself.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT_DIR:-$ROOT/captures}
PORT=40000
TAG="mpcap$$"
TIME_BUDGET=${TIME_BUDGET:-300} # seconds for the whole run
PEER_DEADLINE_MS=20000

WORK=""
NAMESPACES=()
SERVER_PID=""
CLIENT_PID=""
CAPTURE_PID=""
CAPTURE_LOG=""
SCENARIO=""
CURRENT_FILE=""

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }

show_logs() {
	local f
	for f in "$WORK"/*.out "$WORK"/*.err "$WORK"/*.log; do
		[ -s "$f" ] || continue
		printf -- '--- %s\n' "$(basename "$f")" >&2
		tail -n 20 "$f" >&2
	done
}

die() {
	log "ERROR${SCENARIO:+ in $SCENARIO}: $*"
	[ -n "$WORK" ] && [ -d "$WORK" ] && show_logs
	exit 1
}

stop_pid() { # stop_pid PID [SIGNAL]: end one process we started, then reap it
	local pid=$1 sig=${2:-TERM}
	[ -n "$pid" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	stop_pid "$CAPTURE_PID" INT
	stop_pid "$CLIENT_PID"
	stop_pid "$SERVER_PID"
	CAPTURE_PID="" CLIENT_PID="" SERVER_PID=""
	local ns
	for ns in "${NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	NAMESPACES=()
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$rc"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# ---------------------------------------------------------------- prerequisites

[ "$(id -u)" -eq 0 ] || die "run as root (sudo bash captures/make-captures.sh)"
for tool in ip tcpdump tshark editcap capinfos ethtool; do
	command -v "$tool" >/dev/null || die "$tool is not installed"
done
[ -e /proc/sys/net/mptcp/enabled ] || die "this kernel has no MPTCP"

if [ -n "${KERNEL_PEER:-}" ]; then
	PEER=$KERNEL_PEER
else
	command -v cargo >/dev/null || die "cargo not found: set KERNEL_PEER=/path/to/kernel-peer"
	log "building kernel-peer"
	(cd "$ROOT" && cargo build --quiet --release -p mptcp-interop --bin kernel-peer)
	PEER="${CARGO_TARGET_DIR:-$ROOT/target}/release/kernel-peer"
fi
[ -x "$PEER" ] || die "no kernel-peer binary at $PEER"

WORK=$(mktemp -d /tmp/mptcp-captures.XXXXXX)
mkdir -p "$OUT"

# --------------------------------------------------------------------- topology

# setup_pair NAME PATHS: namespaces $C (client) and $S (server) joined by PATHS
# veth pairs cN <-> sN; path N has 10.0.N.2/24 + fd00:N::2/64 on the client and
# 10.0.N.1/24 + fd00:N::1/64 on the server.
setup_pair() {
	local name=$1 paths=$2 ns i
	C="$TAG-$name-c"
	S="$TAG-$name-s"
	for ns in "$C" "$S"; do
		ip netns add "$ns"
		NAMESPACES+=("$ns")
		ip -n "$ns" link set lo up
		ip netns exec "$ns" sysctl -q -w net.mptcp.enabled=1
		ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.accept_dad=0
		ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.accept_ra=0
		ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.router_solicitations=0
	done
	for i in $(seq 1 "$paths"); do
		ip -n "$C" link add "c$i" type veth peer name "s$i" netns "$S"
		ip -n "$C" addr add "10.0.$i.2/24" dev "c$i"
		ip -n "$C" addr add "fd00:$i::2/64" dev "c$i" nodad
		ip -n "$S" addr add "10.0.$i.1/24" dev "s$i"
		ip -n "$S" addr add "fd00:$i::1/64" dev "s$i" nodad
		# No TSO/GSO/GRO: every captured segment is at most one MTU. No transmit
		# checksum offload: otherwise veth carries (and tcpdump records) TCP
		# checksums that were never filled in.
		ip netns exec "$C" ethtool -K "c$i" tso off gso off gro off tx off >/dev/null
		ip netns exec "$S" ethtool -K "s$i" tso off gso off gro off tx off >/dev/null
		ip -n "$C" link set "c$i" up
		ip -n "$S" link set "s$i" up
		if [ "$i" -gt 1 ]; then
			# Traffic from the client's path-N addresses leaves through cN, even
			# towards the server's path-1 addresses (the server accepts them
			# there: Linux hosts are weak hosts).
			ip -n "$C" rule add from "10.0.$i.2" table "10$i"
			ip -n "$C" route add default via "10.0.$i.1" dev "c$i" table "10$i"
			ip -n "$C" -6 rule add from "fd00:$i::2" table "10$i"
			ip -n "$C" -6 route add default via "fd00:$i::1" dev "c$i" table "10$i"
		fi
	done
	# Permanent neighbour entries: a neighbour solicitation sent while a fresh
	# veth is still coming up can go unanswered, delaying the first SYN by 1 s.
	local cmac smac
	for i in $(seq 1 "$paths"); do
		cmac=$(mac_of "$C" "c$i")
		smac=$(mac_of "$S" "s$i")
		ip -n "$C" neigh replace "10.0.$i.1" lladdr "$smac" dev "c$i" nud permanent
		ip -n "$C" neigh replace "fd00:$i::1" lladdr "$smac" dev "c$i" nud permanent
		ip -n "$S" neigh replace "10.0.$i.2" lladdr "$cmac" dev "s$i" nud permanent
		ip -n "$S" neigh replace "fd00:$i::2" lladdr "$cmac" dev "s$i" nud permanent
	done
	# Wait until every veth reports carrier (state UP) on both sides.
	local tries
	for tries in $(seq 1 50); do
		if ! ip -n "$C" -o link show type veth | grep -qv 'state UP' &&
			! ip -n "$S" -o link show type veth | grep -qv 'state UP'; then
			return 0
		fi
		sleep 0.1
	done
	die "veth links did not come up"
}

# mac_of NS DEV: the device's Ethernet address.
mac_of() {
	ip -n "$1" -o link show dev "$2" | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p'
}

teardown_pair() {
	ip netns del "$C"
	ip netns del "$S"
	NAMESPACES=()
}

# limits NS SUBFLOWS ADD_ADDR_ACCEPTED
limits() {
	ip -n "$1" mptcp limits set subflows "$2" add_addr_accepted "$3"
}

# -------------------------------------------------------------------- capturing

# await_listening LOG PID NAME DELAY: wait (100 polls of DELAY s) until LOG says
# "listening on"; fail if PID exits first or it never does.
await_listening() {
	local log=$1 pid=$2 name=$3 delay=$4 i
	for i in $(seq 1 100); do
		grep -q 'listening on' "$log" && return 0
		kill -0 "$pid" 2>/dev/null || die "$name exited early"
		sleep "$delay"
	done
	die "$name did not start listening"
}

# capture_start NS IFACE [SNAPLEN]: record TCP in NS on IFACE ("any" gives Linux
# cooked v2 headers, a veth gives Ethernet) into $WORK/capture.pcap, whole
# packets unless SNAPLEN bytes of each.
capture_start() {
	local ns=$1 iface=$2 snaplen=${3:-0}
	CAPTURE_LOG="$WORK/tcpdump.log"
	# -B: in immediate mode every ring slot is snaplen (256 KiB) long, so the
	# default 2 MiB buffer holds 7 packets and a burst on two paths overflows it.
	ip netns exec "$ns" tcpdump --immediate-mode -B 65536 -U -n -s "$snaplen" -i "$iface" \
		-w "$WORK/capture.pcap" ${CAPTURE_FILTER-tcp} 2>"$CAPTURE_LOG" &
	CAPTURE_PID=$!
	await_listening "$CAPTURE_LOG" "$CAPTURE_PID" tcpdump 0.1
}

# capture_stop FILE [pcapng]: stop tcpdump and store the capture as FILE.
capture_stop() {
	local file=$1 format=${2:-pcap}
	sleep 0.3 # the last ACKs
	kill -INT "$CAPTURE_PID"
	wait "$CAPTURE_PID" || die "tcpdump failed"
	CAPTURE_PID=""
	grep -q '^0 packets dropped by kernel' "$CAPTURE_LOG" ||
		die "tcpdump lost packets: $(tr '\n' ' ' <"$CAPTURE_LOG")"
	if [ "$format" = pcapng ]; then
		editcap -F pcapng "$WORK/capture.pcap" "$OUT/$file"
	else
		cp "$WORK/capture.pcap" "$OUT/$file"
	fi
	rm -f "$WORK/capture.pcap"
	CURRENT_FILE="$OUT/$file"
}

# ------------------------------------------------------------------------ peers

# server NS ARGS...: start kernel-peer server in NS, wait until it listens.
server() {
	local ns=$1
	shift
	: >"$WORK/server.err"
	ip netns exec "$ns" "$PEER" server --deadline-ms "$PEER_DEADLINE_MS" "$@" \
		>"$WORK/server.out" 2>"$WORK/server.err" &
	SERVER_PID=$!
	await_listening "$WORK/server.err" "$SERVER_PID" "kernel-peer server" 0.05
}

# client NS ARGS...: start kernel-peer client in NS, in the background.
client() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PEER" client --deadline-ms "$PEER_DEADLINE_MS" "$@" \
		>"$WORK/client.out" 2>"$WORK/client.err" &
	CLIENT_PID=$!
}

# wait_peers: both sides must exit 0 (transfer intact); log their summaries.
wait_peers() {
	local rc=0
	wait "$CLIENT_PID" || rc=$?
	CLIENT_PID=""
	[ "$rc" -eq 0 ] || die "client failed (exit $rc)"
	wait "$SERVER_PID" || rc=$?
	SERVER_PID=""
	[ "$rc" -eq 0 ] || die "server failed (exit $rc)"
	log "  $(cat "$WORK/client.out")"
	log "  $(cat "$WORK/server.out")"
}

# ----------------------------------------------------------------- verification

# count FILTER: packets of the current capture matching a display filter.
count() {
	local lines
	lines=$(tshark -n -r "$CURRENT_FILE" -Y "$1" -T fields -e frame.number 2>"$WORK/tshark.err") ||
		die "tshark failed on filter '$1': $(cat "$WORK/tshark.err")"
	grep -c . <<<"$lines" || true
}

# first_frame FILTER: number of the first packet matching FILTER (0 if none).
first_frame() {
	local first
	first=$(tshark -n -r "$CURRENT_FILE" -Y "$1" -T fields -e frame.number 2>/dev/null | head -n 1)
	echo "${first:-0}"
}

# expect MIN DESCRIPTION FILTER: at least MIN packets match FILTER.
expect() {
	local min=$1 what=$2 filter=$3 n
	n=$(count "$filter")
	[ "$n" -ge "$min" ] || die "$(basename "$CURRENT_FILE"): expected >= $min packet(s) with $what [$filter], found $n"
	log "  ok: $n x $what"
}

# expect_none DESCRIPTION FILTER: no packet matches FILTER.
expect_none() {
	local what=$1 filter=$2 n
	n=$(count "$filter")
	[ "$n" -eq 0 ] || die "$(basename "$CURRENT_FILE"): expected no packet with $what [$filter], found $n"
	log "  ok: no $what"
}

# checksums_not STATUS WHAT: no packet has tcp.checksum.status STATUS (0 bad,
# 1 good, 2 not verified), as tshark finds when it checks TCP checksums.
checksums_not() {
	local n
	n=$(tshark -n -o tcp.check_checksum:TRUE -r "$CURRENT_FILE" -Y "tcp.checksum.status $1" \
		-T fields -e frame.number 2>/dev/null | grep -c . || true)
	[ "$n" -eq 0 ] || die "$(basename "$CURRENT_FILE"): $n packet(s) $2 (checksum offload on?)"
}

# Checks every capture gets: nothing malformed, no segment larger than the MTU.
expect_sound() {
	expect_none "malformed packet" '_ws.malformed'
	local big
	big=$(count 'tcp.len > 1460')
	[ "$big" -eq 0 ] || die "$(basename "$CURRENT_FILE"): $big segment(s) larger than the MTU (offloads on?)"
}

# Checks every capture of whole packets gets.
expect_common() {
	expect_sound
	expect_none "truncated packet" 'frame.cap_len < frame.len'
	checksums_not '!= 1' "without a valid TCP checksum"
	log "  ok: every TCP checksum is valid"
}

# expect_snapped SNAPLEN: checks a capture of the first SNAPLEN bytes of each
# packet gets.
expect_snapped() {
	expect_sound
	expect 20 "packets cut by the snap length" 'frame.cap_len < frame.len'
	expect_none "packet longer than the snap length" "frame.cap_len > $1"
	expect_none "header cut by the snap length" '_ws.short'
	checksums_not '== 0' "with a bad TCP checksum"
	log "  ok: no bad TCP checksum"
}

# Display-filter fragments.
SYN='tcp.flags.syn == 1 && tcp.flags.ack == 0'
SYNACK='tcp.flags.syn == 1 && tcp.flags.ack == 1'
ACKONLY='tcp.flags.syn == 0 && tcp.flags.ack == 1'
MPC='tcp.options.mptcp.subtype == 0'
MPJ='tcp.options.mptcp.subtype == 1'
DSS='tcp.options.mptcp.subtype == 2'
ADD_ADDR='tcp.options.mptcp.subtype == 3'
RM_ADDR='tcp.options.mptcp.subtype == 4'
MP_PRIO='tcp.options.mptcp.subtype == 5'
MP_FASTCLOSE='tcp.options.mptcp.subtype == 7'
MP_TCPRST='tcp.options.mptcp.subtype == 8'
DATAFIN='tcp.options.mptcp.datafin.flag == 1'

# Chunked, paced transfer used when the script changes endpoints mid-connection:
# 24 KiB each way in 2 KiB chunks every 150 ms, so both sides keep sending (and
# the connection stays ESTABLISHED at both ends) for about 1.7 s.
PACED=(--send 24576 --expect 24576 --chunk 2048 --pause-ms 150)

# -------------------------------------------------------------------- scenarios

# MP_CAPABLE handshake, data both ways, DATA_FIN both ways. Ethernet, pcap.
scenario_mp_capable_data() {
	setup_pair mpcd 1
	capture_start "$C" c1
	# The server waits before answering, so that the client's first data
	# segment still carries MP_CAPABLE (the client has seen no DATA_ACK yet).
	server "$S" --listen "0.0.0.0:$PORT" --send 20000 --expect 20000 --start-delay-ms 200
	client "$C" --connect "10.0.1.1:$PORT" --send 20000 --expect 20000
	wait_peers
	capture_stop mp_capable_data.pcap
	teardown_pair
	expect 1 "SYN with MP_CAPABLE" "$SYN && $MPC"
	expect 1 "SYN/ACK with MP_CAPABLE" "$SYNACK && $MPC"
	expect 1 "third ACK with MP_CAPABLE (both keys)" "$ACKONLY && $MPC && tcp.len == 0 && tcp.options.mptcp.recvkey"
	expect 1 "first data with MP_CAPABLE (length 22)" "$MPC && tcp.len > 0"
	expect 20 "DSS" "$DSS"
	expect 1 "DATA_FIN from the client" "ip.src == 10.0.1.2 && $DATAFIN"
	expect 1 "DATA_FIN from the server" "ip.src == 10.0.1.1 && $DATAFIN"
	expect_none "data without an MPTCP mapping" "tcp.len > 0 && !tcp.options.mptcp.subtype"
	expect_common
}

# Client opens a second subflow from a 'subflow' endpoint. Linux cooked v2.
scenario_mp_join_client() {
	setup_pair mpjc 2
	limits "$C" 2 0
	limits "$S" 2 0
	ip -n "$C" mptcp endpoint add 10.0.2.2 dev c2 subflow
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop mp_join_client.pcap
	teardown_pair
	expect 1 "MP_CAPABLE SYN" "$SYN && $MPC"
	expect 1 "MP_JOIN SYN from the client's second address" "$SYN && $MPJ && ip.src == 10.0.2.2 && tcp.options.mptcp.recvtok"
	expect 1 "MP_JOIN SYN/ACK (truncated HMAC)" "$SYNACK && $MPJ && ip.dst == 10.0.2.2 && tcp.options.mptcp.sendtrunchmac"
	expect 1 "MP_JOIN third ACK (full HMAC)" "$ACKONLY && $MPJ && ip.src == 10.0.2.2 && tcp.options.mptcp.sendhmac"
	expect 1 "DSS on the joined subflow" "ip.addr == 10.0.2.2 && $DSS"
	expect_common
}

# The client announces an address with a port (the kernel then listens there)
# and the server opens the subflow to it. Linux cooked v2.
scenario_mp_join_server() {
	setup_pair mpjs 2
	limits "$C" 2 0
	limits "$S" 2 1
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	sleep 0.4
	ip -n "$C" mptcp endpoint add 10.0.2.2 dev c2 port 41000 signal
	wait_peers
	capture_stop mp_join_server.pcap
	teardown_pair
	expect 1 "ADD_ADDR from the client (10.0.2.2 port 41000)" "ip.src == 10.0.1.2 && $ADD_ADDR && tcp.options.mptcp.echo == 0 && tcp.options.mptcp.ipv4 == 10.0.2.2 && tcp.options.mptcp.port == 41000"
	expect 1 "ADD_ADDR echo from the server" "ip.src == 10.0.1.1 && $ADD_ADDR && tcp.options.mptcp.echo == 1"
	expect 1 "MP_JOIN SYN from the server" "$SYN && $MPJ && ip.src == 10.0.2.1 && ip.dst == 10.0.2.2 && tcp.dstport == 41000"
	expect 1 "MP_JOIN SYN/ACK from the client" "$SYNACK && $MPJ && ip.src == 10.0.2.2 && tcp.srcport == 41000"
	expect 1 "MP_JOIN third ACK from the server" "$ACKONLY && $MPJ && ip.src == 10.0.2.1"
	expect_common
}

# The server announces a second IPv4 address; the client echoes it and joins.
scenario_add_addr_v4() {
	setup_pair aav4 2
	limits "$C" 2 1
	limits "$S" 2 0
	ip -n "$S" mptcp endpoint add 10.0.2.1 dev s2 signal
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop add_addr_v4.pcap
	teardown_pair
	expect 1 "ADD_ADDR 10.0.2.1 with HMAC" "ip.src == 10.0.1.1 && $ADD_ADDR && tcp.options.mptcp.echo == 0 && tcp.options.mptcp.ipv4 == 10.0.2.1 && tcp.options.mptcp.addaddrtrunchmac"
	expect 1 "ADD_ADDR echo from the client" "ip.src == 10.0.1.2 && $ADD_ADDR && tcp.options.mptcp.echo == 1 && tcp.options.mptcp.ipv4 == 10.0.2.1"
	expect 1 "MP_JOIN SYN to the announced address" "$SYN && $MPJ && ip.dst == 10.0.2.1"
	expect 1 "MP_JOIN SYN/ACK from the announced address" "$SYNACK && $MPJ && ip.src == 10.0.2.1"
	expect 1 "MP_JOIN third ACK" "$ACKONLY && $MPJ && ip.dst == 10.0.2.1"
	expect_common
}

# Same over IPv6: connection to [fd00:1::1], the server announces fd00:2::1.
scenario_add_addr_v6() {
	setup_pair aav6 2
	limits "$C" 2 1
	limits "$S" 2 0
	ip -n "$S" mptcp endpoint add fd00:2::1 dev s2 signal
	capture_start "$C" any
	server "$S" --listen "[::]:$PORT" "${PACED[@]}"
	client "$C" --connect "[fd00:1::1]:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop add_addr_v6.pcap
	teardown_pair
	expect 1 "IPv6 ADD_ADDR fd00:2::1 with HMAC" "ipv6.src == fd00:1::1 && $ADD_ADDR && tcp.options.mptcp.echo == 0 && tcp.options.mptcp.ipv6 == fd00:2::1 && tcp.options.mptcp.addaddrtrunchmac"
	expect 1 "IPv6 ADD_ADDR echo" "ipv6.src == fd00:1::2 && $ADD_ADDR && tcp.options.mptcp.echo == 1"
	expect 1 "MP_JOIN SYN to fd00:2::1" "$SYN && $MPJ && ipv6.dst == fd00:2::1"
	expect 1 "MP_JOIN SYN/ACK from fd00:2::1" "$SYNACK && $MPJ && ipv6.src == fd00:2::1"
	expect 1 "MP_JOIN third ACK to fd00:2::1" "$ACKONLY && $MPJ && ipv6.dst == fd00:2::1"
	expect_common
}

# The server announces an address with a port: ADD_ADDR carries the port and
# the client joins to that port (where the kernel listens for the endpoint).
scenario_add_addr_port() {
	setup_pair aapt 2
	limits "$C" 2 1
	limits "$S" 2 0
	ip -n "$S" mptcp endpoint add 10.0.2.1 dev s2 port 41000 signal
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop add_addr_port.pcap
	teardown_pair
	expect 1 "ADD_ADDR 10.0.2.1 port 41000" "ip.src == 10.0.1.1 && $ADD_ADDR && tcp.options.mptcp.echo == 0 && tcp.options.mptcp.ipv4 == 10.0.2.1 && tcp.options.mptcp.port == 41000"
	expect 1 "ADD_ADDR echo with the port" "ip.src == 10.0.1.2 && $ADD_ADDR && tcp.options.mptcp.echo == 1 && tcp.options.mptcp.port == 41000"
	expect 1 "MP_JOIN SYN to port 41000" "$SYN && $MPJ && ip.dst == 10.0.2.1 && tcp.dstport == 41000"
	expect 1 "MP_JOIN SYN/ACK from port 41000" "$SYNACK && $MPJ && ip.src == 10.0.2.1 && tcp.srcport == 41000"
	expect_common
}

# The server announces an address, the client joins it, then the server's
# endpoint is deleted mid-connection: REMOVE_ADDR, and that subflow closes.
scenario_remove_addr() {
	setup_pair rmad 2
	limits "$C" 2 1
	limits "$S" 2 0
	ip -n "$S" mptcp endpoint add 10.0.2.1 dev s2 id 7 signal
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	sleep 0.7
	ip -n "$S" mptcp endpoint del id 7
	wait_peers
	capture_stop remove_addr.pcap
	teardown_pair
	expect 1 "ADD_ADDR id 7" "$ADD_ADDR && tcp.options.mptcp.echo == 0 && tcp.options.mptcp.addrid == 7"
	expect 1 "MP_JOIN SYN to 10.0.2.1" "$SYN && $MPJ && ip.dst == 10.0.2.1"
	expect 1 "MP_JOIN SYN/ACK from 10.0.2.1" "$SYNACK && $MPJ && ip.src == 10.0.2.1"
	expect 1 "REMOVE_ADDR id 7 from the server" "ip.src == 10.0.1.1 && $RM_ADDR && tcp.options.mptcp.addrid == 7"
	expect 1 "FIN or RST closing the removed subflow" "ip.addr == 10.0.2.1 && (tcp.flags.fin == 1 || tcp.flags.reset == 1)"
	expect 1 "data on the first subflow after the removal" "ip.addr == 10.0.1.1 && tcp.len > 0 && frame.number > $(first_frame "ip.src == 10.0.1.1 && $RM_ADDR")"
	expect_common
}

# MP_PRIO: the client's subflow endpoint is switched to backup, then back.
scenario_mp_prio() {
	setup_pair prio 2
	limits "$C" 2 0
	limits "$S" 2 0
	ip -n "$C" mptcp endpoint add 10.0.2.2 dev c2 id 5 subflow
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	sleep 0.5
	ip -n "$C" mptcp endpoint change id 5 backup
	sleep 0.5
	ip -n "$C" mptcp endpoint change id 5 nobackup
	wait_peers
	capture_stop mp_prio.pcap
	teardown_pair
	expect 1 "MP_JOIN SYN from 10.0.2.2" "$SYN && $MPJ && ip.src == 10.0.2.2"
	expect 1 "MP_PRIO backup=1" "ip.src == 10.0.2.2 && $MP_PRIO && tcp.options.mptcp.backup.flag == 1"
	expect 1 "MP_PRIO backup=0" "ip.src == 10.0.2.2 && $MP_PRIO && tcp.options.mptcp.backup.flag == 0"
	expect_common
}

# DSS checksums: net.mptcp.checksum_enabled=1 on both hosts. Ethernet, pcap.
scenario_dss_checksum() {
	setup_pair csum 1
	ip netns exec "$C" sysctl -q -w net.mptcp.checksum_enabled=1
	ip netns exec "$S" sysctl -q -w net.mptcp.checksum_enabled=1
	capture_start "$C" c1
	# The server waits before answering, so that the client's first data
	# segment still carries MP_CAPABLE (the client has seen no DATA_ACK yet).
	server "$S" --listen "0.0.0.0:$PORT" --send 20000 --expect 20000 --start-delay-ms 200
	client "$C" --connect "10.0.1.1:$PORT" --send 20000 --expect 20000
	wait_peers
	grep -q 'csum=1' "$WORK/client.out" || die "client did not negotiate checksums"
	capture_stop dss_checksum.pcap
	teardown_pair
	expect 1 "SYN with MP_CAPABLE flag A (checksum required)" "$SYN && $MPC && tcp.options.mptcp.checksumreq.flags == 1"
	expect 1 "SYN/ACK with MP_CAPABLE flag A" "$SYNACK && $MPC && tcp.options.mptcp.checksumreq.flags == 1"
	expect 1 "first data with MP_CAPABLE and checksum (length 24)" "$MPC && tcp.len > 0 && tcp.options.mptcp.checksum"
	# tshark 4.0 does not decode the DSS checksum field: a mapping with a
	# checksum is 24 bytes long (32-bit DATA_ACK) or 28 (64-bit DATA_ACK),
	# without one 22 or 26.
	expect 20 "DSS mapping with checksum (length 24/28)" "$DSS && tcp.options.mptcp.dseqnpresent.flag == 1 && (tcp.option_len == 24 || tcp.option_len == 28)"
	expect_none "DSS mapping without checksum" "$DSS && tcp.options.mptcp.dseqnpresent.flag == 1 && (tcp.option_len == 22 || tcp.option_len == 26)"
	expect 1 "DATA_FIN from the client" "ip.src == 10.0.1.2 && $DATAFIN"
	expect 1 "DATA_FIN from the server" "ip.src == 10.0.1.1 && $DATAFIN"
	expect_common
}

# MP_FASTCLOSE: the client closes with SO_LINGER 0. Ethernet, pcapng.
scenario_mp_fastclose() {
	setup_pair fcls 1
	capture_start "$C" c1
	server "$S" --listen "0.0.0.0:$PORT" --send 8192 --expect 8192 --hold-ms 1500 --allow-reset
	client "$C" --connect "10.0.1.1:$PORT" --send 8192 --expect 8192 --linger0
	wait_peers
	capture_stop mp_fastclose.pcapng pcapng
	teardown_pair
	expect 1 "RST with MP_FASTCLOSE from the client" "ip.src == 10.0.1.2 && tcp.flags.reset == 1 && $MP_FASTCLOSE && tcp.options.mptcp.recvkey"
	expect_none "DATA_FIN" "$DATAFIN"
	expect_common
}

# MP_TCPRST: the server allows no extra subflow (limits subflows 0), so the
# client's MP_JOIN is refused with a reset carrying MP_TCPRST.
scenario_mp_tcprst() {
	setup_pair mrst 2
	limits "$C" 2 0
	limits "$S" 0 0
	ip -n "$C" mptcp endpoint add 10.0.2.2 dev c2 subflow
	capture_start "$C" any
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop mp_tcprst.pcap
	teardown_pair
	expect 1 "MP_JOIN SYN from 10.0.2.2" "$SYN && $MPJ && ip.src == 10.0.2.2"
	expect 1 "RST with MP_TCPRST from the server" "ip.src == 10.0.1.1 && tcp.flags.reset == 1 && $MP_TCPRST"
	expect 1 "MP_TCPRST reason 3 (administratively prohibited)" "$MP_TCPRST && tcp.options.mptcp.rst_reason == 3"
	expect_common
}

# Fallback: an MPTCP client to a plain TCP listener (port 40000), then a plain
# TCP client to an MPTCP listener (port 40001). Ethernet, pcap.
scenario_fallback_tcp() {
	setup_pair fbck 1
	capture_start "$C" c1
	server "$S" --listen "0.0.0.0:$PORT" --tcp --send 8192 --expect 8192
	client "$C" --connect "10.0.1.1:$PORT" --send 8192 --expect 8192
	wait_peers
	grep -q 'proto=mptcp-fallback' "$WORK/client.out" || die "the MPTCP client did not fall back"
	server "$S" --listen "0.0.0.0:$((PORT + 1))" --send 8192 --expect 8192
	client "$C" --connect "10.0.1.1:$((PORT + 1))" --tcp --send 8192 --expect 8192
	wait_peers
	grep -q 'proto=mptcp-fallback' "$WORK/server.out" || die "the MPTCP server did not fall back"
	capture_stop fallback_tcp.pcap
	teardown_pair
	expect 1 "MPTCP client's SYN with MP_CAPABLE" "tcp.port == $PORT && $SYN && $MPC"
	expect 1 "plain SYN/ACK" "tcp.port == $PORT && $SYNACK && !tcp.options.mptcp.subtype"
	local n
	n=$(count "tcp.options.mptcp.subtype")
	[ "$n" -eq 1 ] || die "fallback_tcp.pcap: expected MPTCP options on the one SYN only, found $n packets"
	log "  ok: MPTCP options only on the first SYN"
	expect 10 "plain TCP data" "tcp.len > 0"
	expect_common
}

# IPv6 connection with a client-initiated join. Linux cooked v2, pcapng.
scenario_ipv6_join() {
	setup_pair ipv6 2
	limits "$C" 2 0
	limits "$S" 2 0
	ip -n "$C" mptcp endpoint add fd00:2::2 dev c2 subflow
	capture_start "$C" any
	server "$S" --listen "[::]:$PORT" "${PACED[@]}"
	client "$C" --connect "[fd00:1::1]:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop ipv6_join.pcapng pcapng
	teardown_pair
	expect 1 "IPv6 SYN with MP_CAPABLE" "ipv6 && $SYN && $MPC"
	expect 1 "IPv6 MP_JOIN SYN from fd00:2::2" "$SYN && $MPJ && ipv6.src == fd00:2::2"
	expect 1 "IPv6 MP_JOIN SYN/ACK" "$SYNACK && $MPJ && ipv6.dst == fd00:2::2"
	expect 1 "IPv6 MP_JOIN third ACK" "$ACKONLY && $MPJ && ipv6.src == fd00:2::2"
	expect 1 "DATA_FIN" "$DATAFIN"
	expect_common
}

# A snap length: the first 160 bytes of each packet (tcpdump -s 160), which
# hold every header and option but not the whole payload. Two subflows, an
# ADD_ADDR with HMAC and DSS checksums, so that the decoder shows what it still
# verifies (tokens, HMACs) and what it cannot (TCP and DSS checksums). Linux
# cooked v2, pcap.
scenario_snaplen_160() {
	setup_pair snap 2
	limits "$C" 2 1
	limits "$S" 2 0
	ip netns exec "$C" sysctl -q -w net.mptcp.checksum_enabled=1
	ip netns exec "$S" sysctl -q -w net.mptcp.checksum_enabled=1
	ip -n "$S" mptcp endpoint add 10.0.2.1 dev s2 signal
	capture_start "$C" any 160
	server "$S" --listen "0.0.0.0:$PORT" "${PACED[@]}"
	client "$C" --connect "10.0.1.1:$PORT" "${PACED[@]}"
	wait_peers
	capture_stop snaplen_160.pcap
	teardown_pair
	expect 1 "SYN with MP_CAPABLE flag A" "$SYN && $MPC && tcp.options.mptcp.checksumreq.flags == 1"
	expect 1 "ADD_ADDR 10.0.2.1 with HMAC" "ip.src == 10.0.1.1 && $ADD_ADDR && tcp.options.mptcp.echo == 0 && tcp.options.mptcp.addaddrtrunchmac"
	expect 1 "MP_JOIN SYN/ACK (truncated HMAC)" "$SYNACK && $MPJ && tcp.options.mptcp.sendtrunchmac"
	expect 1 "MP_JOIN third ACK (full HMAC)" "$ACKONLY && $MPJ && tcp.options.mptcp.sendhmac"
	expect 20 "DSS mapping with checksum (length 24/28) on a cut packet" "$DSS && (tcp.option_len == 24 || tcp.option_len == 28) && frame.cap_len < frame.len"
	expect_snapped 160
}

ALL_SCENARIOS=(
	mp_capable_data
	mp_join_client
	mp_join_server
	add_addr_v4
	add_addr_v6
	add_addr_port
	remove_addr
	mp_prio
	dss_checksum
	mp_fastclose
	mp_tcprst
	fallback_tcp
	ipv6_join
	snaplen_160
)

# ------------------------------------------------------------------------- main

if [ $# -gt 0 ]; then
	SELECTED=("$@")
else
	SELECTED=("${ALL_SCENARIOS[@]}")
fi

for name in "${SELECTED[@]}"; do
	declare -F "scenario_$name" >/dev/null || die "unknown scenario: $name"
done

log "kernel $(uname -r), $(tcpdump --version 2>&1 | head -n 1), $(tshark --version | head -n 1)"
for name in "${SELECTED[@]}"; do
	[ "$SECONDS" -lt "$TIME_BUDGET" ] || die "time budget of $TIME_BUDGET s exceeded"
	SCENARIO=$name
	log "scenario $name"
	"scenario_$name"
	rm -f "$WORK"/*.out "$WORK"/*.err "$WORK"/*.log
done
SCENARIO=""
CURRENT_FILE=""

# Summary: file, size, packets, link type and MPTCP option subtypes (count of
# options of each subtype, as tshark decodes them).
log "summary"
summary() {
	local f=$1 size packets encap subtypes
	size=$(stat -c %s "$f")
	packets=$(capinfos -M -c "$f" | awk -F': *' '/Number of packets/ {print $2}')
	encap=$(capinfos -E "$f" | awk -F': *' '/encapsulation/ {print $2}')
	subtypes=$(tshark -n -r "$f" -T fields -e tcp.options.mptcp.subtype 2>/dev/null |
		tr ',' '\n' | grep . | sort -n | uniq -c | awk '{printf "%s%s:%s", sep, $2, $1; sep=" "}')
	printf '%-24s %8s bytes %5s packets  %-36s subtype:count %s\n' \
		"$(basename "$f")" "$size" "$packets" "$encap" "${subtypes:-none}"
}
{
	echo "# Generated by make-captures.sh on Linux $(uname -r); $(tshark --version | head -n 1)"
	echo "# file, size, packets, link type, MPTCP option subtypes (subtype:options)"
	for f in "$OUT"/*.pcap "$OUT"/*.pcapng; do
		[ -e "$f" ] && summary "$f"
	done
} | tee "$OUT/manifest.txt"
log "done in ${SECONDS}s"
