/** A GPIO line as a technician names it: `GPIO17`, `17` (BCM number) or a header pin `pin:11`. */
export type LineRef = { line: string | number } | { pin: number };

export function parseLineRef(text: string): LineRef | undefined {
  const t = text.trim();
  let m = /^(?:pin|p)[:=]?(\d{1,2})$/i.exec(t);
  if (m) return { pin: Number(m[1]) };
  m = /^gpio[_-]?(\d{1,3})$/i.exec(t);
  if (m) return { line: `GPIO${Number(m[1])}` };
  if (/^\d{1,3}$/.test(t)) return { line: Number(t) };
  return undefined;
}

export function showLineRef(ref: LineRef): string {
  return "pin" in ref ? `pin ${ref.pin}` : typeof ref.line === "number" ? `GPIO${ref.line}` : ref.line;
}
