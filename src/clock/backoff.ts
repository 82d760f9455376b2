/**
 * The one retry delay of the device (the MQTT reconnect, a serial port that is missing or went away,
 * a gpiomon that exited): exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter", 2015): the wait is uniform in [0, min(max, min·2^attempt)). When a city's
 * broker restarts under a thousand devices, they all lose the link in the same instant; full jitter
 * spreads their first reconnects evenly over `minMs` instead of landing them together, and each
 * failed round spreads them over twice as long.
 *
 * The same holds for sensors behind one USB hub that lost power, or a fleet after a power cut.
 *
 * `attempt` counts failed attempts since the last success (0 for the first retry).
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}
