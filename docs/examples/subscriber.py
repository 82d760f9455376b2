#!/usr/bin/env python3
"""A roadside subscriber in a few lines: decode SenML (CBOR or JSON), drop redeliveries, report gaps
and devices going offline. See docs/subscribing.md.

Runs with paho-mqtt 1.6 (Debian 12 / Raspberry Pi OS bookworm) and 2.x:

    sudo apt install python3-paho-mqtt python3-cbor2      (or: pip install paho-mqtt cbor2)
    python3 subscriber.py broker.city.example 1883 [prefix]
"""
import json
import re
import sys

import cbor2
import paho.mqtt.client as mqtt

LABELS = {-2: "bn", -3: "bt", 0: "n", 1: "u", 2: "v", 3: "vs", 4: "vb"}  # RFC 8428 Table 4
META = {"seq", "schema", "window", "observed", "timeq"}
# The cellular profile (publish.profile: cellular, docs/payloads.md "Cellular profile"): one pack per
# window on {prefix}/{device}/window. Short names (upper-case base 36) index NAMES, and their values
# are read rounded to 6 significant digits; bit i of a stream's "_" record = DEFAULTS[i] holds; a
# missing unit is the one in UNITS. These tables are src/publish/compact-tables.ts, append-only.
NAMES = [
    "volume", "flow", "occupancy", "speed.n", "speed.tms", "speed.sms", "speed.p85", "length.mean",
    "class.motorcycle", "class.short", "class.medium", "class.long", "headway.mean", "headway.min",
    "gap.mean", "gap.min", "quality.latencyDiff", "quality.latencySe", "quality.observed", "quality.faults",
    "quality.excluded", "quality.glitches", "quality.dropped", "quality.unpaired", "quality.latencyApplied",
    "wrongway", "speed.est", "occupancy.loop", "samples", "depthMin", "depthMean", "depthMax", "state",
    "spillDuration", "spills", "spillsDay", "sequenceSpills", "coverOpenings", "sampleInterval",
    "actualFillingPercentage", "actualFillingLevel", "containerFull", "containerEmpty",
    "averageFillingSpeed", "forecastFullDate", "pickups", "fillingOperations", "temperature",
    "temperatureMax", "temperatureAlarm", "containerOutOfPosition", "coverOpen", "wifi.devices",
    "wifi.sightings", "wifi.random", "ble.devices", "ble.sightings", "ble.random", "distinct", "rse", "keys",
    "deposits", "users", "errors",
]
DEFAULTS = [
    ("quality.faults", 0), ("quality.glitches", 0), ("quality.dropped", 0), ("quality.unpaired", 0),
    ("quality.excluded", 0), ("quality.latencyApplied", 0), ("wrongway", 0), ("class.motorcycle", 0),
    ("class.short", 0), ("class.medium", 0), ("class.long", 0), ("quality.observed", 1), ("spills", 0),
    ("spillsDay", 0), ("sequenceSpills", 0), ("spillDuration", 0), ("coverOpenings", 0), ("state", "normal"),
    ("pickups", 0), ("fillingOperations", 0), ("containerFull", False), ("containerEmpty", False),
    ("temperatureAlarm", False), ("containerOutOfPosition", False), ("coverOpen", False), ("errors", 0),
    ("distinct", "exact"), ("speed.n", {"same": "volume"}), ("sampleInterval", 60),
]
UNITS = {
    "window": "s", "observed": "s", "volume": "count", "flow": "1/s", "occupancy": "/", "speed.n": "count",
    "speed.tms": "km/h", "speed.sms": "km/h", "speed.p85": "km/h", "speed.est": "km/h", "length.mean": "m",
    "class.motorcycle": "count", "class.short": "count", "class.medium": "count", "class.long": "count",
    "wrongway": "count", "headway.mean": "s", "headway.min": "s", "gap.mean": "s", "gap.min": "s",
    "quality.observed": "/", "quality.faults": "count", "quality.excluded": "s", "quality.glitches": "count",
    "quality.dropped": "count", "quality.unpaired": "count", "quality.latencyDiff": "s",
    "quality.latencySe": "s", "quality.latencyApplied": "s", "samples": "count", "depthMin": "m",
    "depthMean": "m", "depthMax": "m", "spillDuration": "s", "spills": "count", "spillsDay": "count",
    "sequenceSpills": "count", "coverOpenings": "count", "sampleInterval": "s",
    "actualFillingPercentage": "%", "actualFillingLevel": "m", "pickups": "count",
    "fillingOperations": "count", "temperature": "Cel", "temperatureMax": "Cel", "wifi.devices": "count",
    "wifi.sightings": "count", "wifi.random": "/", "ble.devices": "count", "ble.sightings": "count",
    "ble.random": "/", "rse": "/", "deposits": "count", "users": "count", "errors": "count",
}
SHORT = re.compile(r"[0-9A-Z]+")
highest = {}  # device -> highest sequence number seen
missing = {}  # device -> sequence numbers skipped (they may still arrive late)


def decode(payload):
    """A roadside SenML pack -> (device, kind, stream, seq, window start s, {measure: (value, unit)})."""
    if payload[:1] == b"[":
        pack = json.loads(payload)
    else:
        pack = [{LABELS.get(k, k): v for k, v in rec.items()} for rec in cbor2.loads(payload)]
    device, kind, stream = pack[0]["bn"].split(":")[:3]
    recs = {r["n"]: r for r in pack}
    values = {n: (r.get("v", r.get("vs", r.get("vb"))), r.get("u")) for n, r in recs.items() if n not in META}
    return device, kind, stream, int(recs["seq"]["v"]), pack[0]["bt"], values


def decode_window(payload):
    """A cellular-profile pack -> [(device, kind, stream, seq, window start s, {measure: (value, unit)})], one per stream."""
    if payload[:1] == b"[":
        pack = json.loads(payload)
    else:
        pack = [{LABELS.get(k, k): v for k, v in rec.items()} for rec in cbor2.loads(payload)]
    device, kind = pack[0]["bn"].split(":")[:2]
    if kind != "window":
        raise ValueError("not a cellular-profile pack")
    seq, streams, values = None, [], None
    for i, r in enumerate(pack):
        n = r.get("n")
        if i > 0 and "bn" in r:
            values = {}
            streams.append((*r["bn"].split(":")[:2], values))
        if values is None:
            seq = int(r["v"]) if n == "seq" else seq
        elif n == "_":
            bits = int(r["v"])
            values.update({d: (v, UNITS.get(d)) for j, (d, v) in enumerate(DEFAULTS) if bits >> j & 1})
        else:
            value = r.get("v", r.get("vs", r.get("vb")))
            if SHORT.fullmatch(n):
                n = NAMES[int(n, 36)]
                if isinstance(value, float) and not value.is_integer():
                    value = float(f"{value:.6g}")  # float32 on the wire
            values[n] = (value, r.get("u", UNITS.get(n)))
    for _, _, values in streams:  # a default that repeats another measure of the stream
        for d, v in list(values.items()):
            if isinstance(v[0], dict):
                values[d] = (values[v[0]["same"]][0], UNITS.get(d))
    return [(device, k, s, seq, pack[0]["bt"], v) for k, s, v in streams]


def on_message(client, userdata, msg):
    parts = msg.topic.split("/")
    if parts[-1] == "status":
        print(f"{parts[-2]} is {msg.payload.decode('utf-8', 'replace')}")
        return
    if parts[-1] in ("manifest", "health", "doctor") or "cmd" in parts:
        return
    try:
        streams = decode_window(msg.payload) if parts[-1] == "window" else [decode(msg.payload)]
        device, seq = streams[0][0], streams[0][3]
    except Exception as err:  # anyone may publish under the prefix: skip what is not a roadside pack
        print(f"{msg.topic}: ignored, not a roadside SenML pack ({type(err).__name__}: {err})", file=sys.stderr)
        return
    gaps = missing.setdefault(device, set())
    prev = highest.get(device)
    if prev is not None and seq <= prev:
        if seq not in gaps:
            return  # a redelivery (at-least-once): already stored
        gaps.discard(seq)  # a late message filling a gap
    elif prev is not None and seq > prev + 1:
        gaps.update(range(prev + 1, seq))
        print(f"{device}: gap, seq {prev + 1}..{seq - 1} missing")
    highest[device] = max(seq, prev or seq)
    for device, kind, stream, seq, start, values in streams:
        print(device, f"{kind}/{stream}", seq, start, values, flush=True)  # store it here


def on_connect(client, userdata, flags, reason_code, properties=None):
    # paho 1.x calls this with 4 arguments and rc 0 for success; 2.x with 5 and a ReasonCode
    if reason_code != 0:
        print(f"broker refused the connection: {reason_code}", file=sys.stderr)
        return
    client.subscribe(f"{userdata}/+/#", qos=1)  # again on every reconnect


def make_client(prefix):
    if hasattr(mqtt, "CallbackAPIVersion"):  # paho-mqtt 2.x
        return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, userdata=prefix)
    return mqtt.Client(userdata=prefix)  # paho-mqtt 1.x


if __name__ == "__main__":
    host, port = sys.argv[1], int(sys.argv[2])
    client = make_client(sys.argv[3] if len(sys.argv) > 3 else "roadside")
    client.on_connect, client.on_message = on_connect, on_message
    client.connect(host, port)
    client.loop_forever()
