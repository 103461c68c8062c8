#!/usr/bin/env python3
"""Writes the seed corpus of the `parse_packet` target into seeds/parse_packet/.

Seeds are the real Linux packets of crates/mptcp-proto/src/wire/tests/captures.rs (raw IP,
one file each, named after their constant) plus, for the direct modes of the target (see
fuzz_targets/parse_packet.rs), each packet's TCP options area (mode 2), its segment without
IP header (mode 3) and each MPTCP option in it (mode 0). Run from anywhere; it rewrites the
directory, so the result only depends on captures.rs.
"""

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CAPTURES = HERE.parent / "crates/mptcp-proto/src/wire/tests/captures.rs"
OUT = HERE / "seeds/parse_packet"

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


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    seeds = {}
    for name, packet in packets():
        seeds[f"ip_{name}"] = packet
        tcp, v6 = segment(packet)
        area = tcp[20 : (tcp[12] >> 4) * 4]
        seeds[f"segment_{name}"] = bytes([SEGMENT_V6 if v6 else SEGMENT_V4]) + tcp
        seeds[f"options_{name}"] = bytes([TCP_OPTIONS]) + area
        for option in mptcp_options(area):
            seeds[f"mptcp_{option.hex()}"] = bytes([MPTCP_RAW]) + option
    for name, data in sorted(seeds.items()):
        (OUT / name).write_bytes(data)
    print(f"{len(seeds)} seeds in {OUT}")


if __name__ == "__main__":
    main()
