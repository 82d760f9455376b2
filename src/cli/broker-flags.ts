import type { IClientOptions } from "mqtt";
import { AuthFileError, brokerOptions } from "../watch/connect.js";
import { UsageError } from "./args.js";

/** The broker flags `watch` and `ingest` share (docs/subscribing.md "Credentials"). */
export interface BrokerAuthFlags {
  ca?: string | undefined;
  cert?: string | undefined;
  key?: string | undefined;
  username?: string | undefined;
  "password-file"?: string | undefined;
}

/** mqtt.js options from the broker flags; an unreadable or too open file is a usage error naming it. */
export function brokerAuthFromFlags(values: BrokerAuthFlags): Partial<IClientOptions> {
  try {
    return brokerOptions({
      ca: values.ca,
      cert: values.cert,
      key: values.key,
      username: values.username,
      passwordFile: values["password-file"],
    });
  } catch (err) {
    if (err instanceof AuthFileError) throw new UsageError(err.message);
    throw err;
  }
}
