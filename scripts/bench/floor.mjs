// The floor of issue 15: a plain Node.js process with mqtt.js holding one connection and publishing
// the same messages as a roadside device: it takes each message the device publishes under
// PREFIX/ and publishes it again, same payload, QoS and retain flag, under floor/.
//   node scripts/bench/floor.mjs mqtt://127.0.0.1:1883 roadside/bench-site
import mqtt from "mqtt";

const [url, prefix] = process.argv.slice(2);
const client = mqtt.connect(url, { clientId: `floor-${process.pid}`, protocolVersion: 5 });
client.on("connect", () => client.subscribe(`${prefix}/#`, { qos: 1 }));
client.on("message", (topic, payload, packet) => {
  client.publish(`floor/${topic}`, payload, { qos: 1, retain: packet.retain });
});
process.on("SIGTERM", () => client.end(false, {}, () => process.exit(0)));
