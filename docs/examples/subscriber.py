#!/usr/bin/env python3
"""A roadside subscriber in a few lines: decode SenML (CBOR or JSON), drop redeliveries, report gaps
and devices going offline. See docs/subscribing.md.

Runs with paho-mqtt 1.6 (Debian 12 / Raspberry Pi OS bookworm) and 2.x:

    sudo apt install python3-paho-mqtt python3-cbor2      (or: pip install paho-mqtt cbor2)
    python3 subscriber.py broker.city.example 1883 [prefix]
"""
import json
import sys

import cbor2
import paho.mqtt.client as mqtt

LABELS = {-2: "bn", -3: "bt", 0: "n", 1: "u", 2: "v", 3: "vs", 4: "vb"}  # RFC 8428 Table 4
META = {"seq", "schema", "window", "observed", "timeq"}
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


def on_message(client, userdata, msg):
    parts = msg.topic.split("/")
    if parts[-1] == "status":
        print(f"{parts[-2]} is {msg.payload.decode('utf-8', 'replace')}")
        return
    if parts[-1] in ("manifest", "health", "doctor") or "cmd" in parts:
        return
    try:
        device, kind, stream, seq, start, values = decode(msg.payload)
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
