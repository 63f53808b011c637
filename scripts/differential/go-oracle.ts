// The Go oracle as one long-running child: JSON cases in on stdin, one JSON answer per line out.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { execFileSync } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { outcomeSchema, type Outcome } from "./calculator.js";

const answerSchema = outcomeSchema.extend({ id: z.number().int() });

/** Builds the oracle when needed (scripts/kube/build-oracle.sh) and returns its path. */
export function buildOracle(): string {
  const script = fileURLToPath(new URL("../kube/build-oracle.sh", import.meta.url));
  return execFileSync("bash", [script], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
}

export class GoOracle {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting = new Map<number, (o: Outcome) => void>();
  private failure: Error | undefined;

  constructor(binary: string) {
    this.child = spawn(binary, [], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stderr.on("data", (d: Buffer) => process.stderr.write(d));
    this.child.on("exit", (code) => {
      this.failure = new Error(`hpa-oracle exited with ${code}`);
      for (const reject of this.waiting.values()) reject({ error: `harness: ${this.failure.message}` });
      this.waiting.clear();
    });
    createInterface({ input: this.child.stdout }).on("line", (line) => {
      const { id, ...outcome } = answerSchema.parse(JSON.parse(line));
      this.waiting.get(id)?.(outcome);
      this.waiting.delete(id);
    });
  }

  /** Sends a batch of cases and resolves with the answers in the same order. */
  async ask(cases: readonly { id: number; input: unknown }[]): Promise<Outcome[]> {
    if (this.failure) throw this.failure;
    const answers = cases.map(({ id }) => new Promise<Outcome>((resolve) => this.waiting.set(id, resolve)));
    const text = cases.map((c) => JSON.stringify(c)).join("\n") + "\n";
    if (!this.child.stdin.write(text))
      await new Promise((resolve) => this.child.stdin.once("drain", resolve));
    return Promise.all(answers);
  }

  close(): void {
    this.child.stdin.end();
  }
}
