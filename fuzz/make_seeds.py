#!/usr/bin/env python3
"""Writes the seed corpora of the `parse_packet` and `stack_api` targets into seeds/<target>/.

`parse_packet`: the real Linux packets of crates/mptcp-proto/src/wire/tests/captures.rs (raw IP,
one file each, named after their constant) plus, for the direct modes of the target (see
fuzz_targets/parse_packet.rs), each packet's TCP options area (mode 2), its segment without
IP header (mode 3) and each MPTCP option in it (mode 0).

`stack_api`: a few scripts of steps (see fuzz_targets/stack_api.rs for what each reads),
written below with one helper per step.

Run from anywhere; it rewrites both directories, so the result only depends on this script
and captures.rs.
"""

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPTURES = HERE.parent / "crates/mptcp-proto/src/wire/tests/captures.rs"
SEEDS = HERE / "seeds"

# Mode selectors: (first byte >> 4) % 4, avoiding the IP version nibbles 4 and 6.
MPTCP_RAW, TCP_OPTIONS, SEGMENT_V4, SEGMENT_V6 = 0x00, 0x20, 0x30, 0x31


def packets():
    text = CAPTURES.read_text()
    for name, body in re.findall(r"const (\w+): &\[&str\] = &\[(.*?)\];", text, re.S):
        yield name.lower(), bytes.fromhex("".join(re.findall(r'"([0-9a-f]+)"', body)))


def segment(packet):
    """The TCP segment of a raw IPv4 or IPv6 packet without extension headers."""
    if packet[0] >> 4 == 4:
        return packet[(packet[0] & 0x0F) * 4 : int.from_bytes(packet[2:4], "big")], False
    return packet[40 : 40 + int.from_bytes(packet[4:6], "big")], True


def mptcp_options(area):
    at = 0
    while at < len(area) and area[at] != 0:
        if area[at] == 1:
            at += 1
            continue
        kind, length = area[at], area[at + 1]
        if kind == 30:
            yield area[at : at + length]
        at += length


def parse_packet_seeds():
    seeds = {}
    for name, packet in packets():
        seeds[f"ip_{name}"] = packet
        tcp, v6 = segment(packet)
        area = tcp[20 : (tcp[12] >> 4) * 4]
        seeds[f"segment_{name}"] = bytes([SEGMENT_V6 if v6 else SEGMENT_V4]) + tcp
        seeds[f"options_{name}"] = bytes([TCP_OPTIONS]) + area
        for option in mptcp_options(area):
            seeds[f"mptcp_{option.hex()}"] = bytes([MPTCP_RAW]) + option
    return seeds


# stack_api steps: the op byte of each (the `match` in World::step).
(DELIVER, DROP, DUPLICATE, RUN, ADVANCE, INJECT, LISTEN, CONNECT, ACCEPT, CLOSE_LISTENER,
 SEND, RECV, SHUTDOWN, CLOSE, ABORT, OPEN_SUBFLOW, CLOSE_SUBFLOW, SET_BACKUP, REMOVE_ADDRESS,
 QUERY) = range(20)

# Settings bits (the input's first byte).
TCP_ONLY_0, CHECKSUMS, PASSIVE_PM, NO_PACING, SMALL_BUFFERS, NODELAY, KEEPALIVE = (
    0x01, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80)

# In these seeds host 1 listens and host 0 connects.
CLIENT, SERVER = 0, 1


def conn(host, index=0):
    return host | index << 1


def listen(host=SERVER, port=0, addr=0, backlog=3):
    return [LISTEN, host | port << 1 | addr << 2 | backlog << 4]


def connect(host=CLIENT, remote=0, port=0, local=0):
    return [CONNECT, host | remote << 1 | port << 2 | local << 3]


def accept(host=SERVER, index=0):
    return [ACCEPT, host | index << 1]


def send(c, size):
    """size² bytes."""
    return [SEND, c, size]


def recv(c, size=255):
    """Up to size·64 + 1 bytes."""
    return [RECV, c, size]


def run(rounds=31):
    return [RUN, rounds]


def inject(kind, body, index=0):
    return [INJECT, index, kind, len(body), *body]


SYN, ACK = 0x02, 0x10


def hostile_segment(flags):
    """The fields of a hostile segment near the live numbers, without options or payload."""
    return [0] * 10 + [flags >> 8, flags & 0xFF]


def handshake(settings):
    """Settings, a listener, a connection and its acceptance."""
    return [settings, *listen(), *connect(), *run(), *accept()]


def stack_api_seeds():
    client, server = conn(CLIENT), conn(SERVER)
    seeds = {
        # Both ways, then a graceful close; the "simple" path manager joins the second
        # addresses.
        "transfer": handshake(0) + send(client, 100) + run() + recv(server) * 2
        + send(server, 50) + run() + recv(client) + [SHUTDOWN, client] + run()
        + recv(server) + [CLOSE, server, CLOSE, client] + run(),
        # The application steers the subflows itself.
        "subflows": handshake(PASSIVE_PM) + send(client, 20) + run()
        + [OPEN_SUBFLOW, client, 0b011] + run() + send(client, 60) + [SET_BACKUP, client, 0b11] + run(3)
        + [CLOSE_SUBFLOW, client, 0] + run() + recv(server)
        + [REMOVE_ADDRESS, client, 1, QUERY, client, QUERY, server] + run() + recv(server),
        # Plain TCP on one side, a wire that loses, duplicates and reorders, timeouts.
        "tcp_lossy_wire": handshake(TCP_ONLY_0 | NO_PACING) + send(client, 80)
        + [DELIVER, 3, DROP, 0, DUPLICATE, 1, DELIVER, 5] + run(3) + [ADVANCE, 40]
        + run() + recv(server) + [ABORT, client] + run() + recv(server),
        # Hostile packets that keep the data check on: a DATA_ACK, an MP_JOIN SYN with the
        # real token, a bare ACK near the live numbers; then the listener closes.
        "hostile": handshake(0) + send(client, 30)
        + inject(3, [0, 0x02] + [0] * 22 + hostile_segment(ACK))
        + inject(4, [2, 0x02] + [0] * 22 + hostile_segment(SYN))
        + inject(1, hostile_segment(ACK))
        + run() + recv(server) + [CLOSE_LISTENER, SERVER, ADVANCE, 200] + run(),
        # Small buffers: sends that do not fit, two connections, keep-alives.
        "small_buffers": [SMALL_BUFFERS | NODELAY | KEEPALIVE, *listen(port=0),
                          *listen(port=1), *connect(), *connect(port=1), *run(),
                          *accept(), *accept(index=1)]
        + send(client, 255) + send(client, 255) + send(conn(CLIENT, 1), 200) + run()
        + recv(server) + recv(conn(SERVER, 1)) + run() + [ADVANCE, 255] + run(),
    }
    return {name: bytes(steps) for name, steps in seeds.items()}


def write(target, seeds):
    out = SEEDS / target
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    for name, data in sorted(seeds.items()):
        (out / name).write_bytes(data)
    print(f"{len(seeds)} seeds in {out}")


def main():
    write("parse_packet", parse_packet_seeds())
    write("stack_api", stack_api_seeds())


if __name__ == "__main__":
    main()
