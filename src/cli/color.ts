/**
 * Colour on a terminal unless the user asked for none: https://no-color.org says a non-empty
 * NO_COLOR turns off ANSI colour in every program that reads it (cursor movement is not colour).
 */
export function useColor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const no = env["NO_COLOR"];
  return isTTY && (no === undefined || no === "");
}
