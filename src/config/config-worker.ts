// The config loader's thread (src/config/load-off-thread.ts): zod, yaml and the config schemas are
// ~8 MB of live heap that an ES module keeps for the life of the process once imported; loaded here,
// they go away with the thread when the config is read (issue 15).
import { parentPort, workerData } from "node:worker_threads";
import { demoConfig } from "./defaults.js";
import { loadConfigFile, validateConfig } from "./load.js";
import type { ConfigRequest } from "./load-off-thread.js";

const req = workerData as ConfigRequest;
parentPort?.postMessage(req.kind === "file" ? loadConfigFile(req.path) : validateConfig(demoConfig()));
