import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import type { Interface } from "node:readline";

/**
 * Questions with defaults, one answer per line. Works on a terminal and on piped input alike:
 * lines are queued as they arrive (readline's `question` drops lines that arrive before it is
 * called, which is every line of a pipe), and the end of input takes the defaults.
 */
export class Prompter {
  private readonly rl: Interface;
  private readonly queue: string[] = [];
  private waiting: ((line: string | undefined) => void) | undefined;
  private ended = false;

  constructor(
    input: Readable,
    private readonly write: (text: string) => void,
    /** Echo each answer (piped input is not echoed by a terminal, so a log would run together). */
    private readonly echo = false,
  ) {
    this.rl = createInterface({ input, terminal: false });
    this.rl.on("line", (line) => {
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      } else this.queue.push(line);
    });
    this.rl.on("close", () => {
      this.ended = true;
      this.waiting?.(undefined);
      this.waiting = undefined;
    });
  }

  private next(): Promise<string | undefined> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  /** Ask; Enter (or the end of input) takes `def`. */
  async ask(question: string, def = ""): Promise<string> {
    this.write(`${question}${def ? ` [${def}]` : ""}: `);
    const line = await this.next();
    if (line === undefined || this.echo) this.write(`${line ?? ""}\n`);
    const a = (line ?? "").trim();
    return a === "" ? def : a;
  }

  /**
   * Ask until `check` accepts the answer (it returns an error message or undefined); after three
   * bad answers, or at the end of input, the last answer stands and validation reports it.
   */
  async askValid(question: string, def: string, check: (answer: string) => string | undefined): Promise<string> {
    for (let tries = 0; ; tries++) {
      const a = await this.ask(question, def);
      const err = check(a);
      if (!err || tries >= 2 || this.ended) return a;
      this.write(`  ${err}\n`);
    }
  }

  async yesNo(question: string, def: boolean): Promise<boolean> {
    const a = (await this.ask(`${question} (y/n)`, def ? "y" : "n")).toLowerCase();
    return a.startsWith("y");
  }

  close(): void {
    this.rl.close();
  }
}
