// Feeds conformance vector files to the algorithm and the quantity code. A vector of an
// unknown kind, or a file that does not parse, counts as a failure, never a skip.
import { readFile } from "node:fs/promises";
import { vectorFileSchema, type KindRunner, type Vector, type VectorOutcome } from "./vector.js";
import { runReplicaCalc } from "./kinds/replica-calc.js";
import { runNormalize } from "./kinds/normalize.js";
import { runSync } from "./kinds/sync.js";
import { runLegacyDelay } from "./kinds/legacy-delay.js";
import { runQuantity } from "./kinds/quantity.js";

export const kindRunners: Readonly<Record<string, KindRunner>> = {
  replicaCalc: runReplicaCalc,
  normalize: runNormalize,
  sync: runSync,
  legacyDelay: runLegacyDelay,
  quantity: runQuantity,
};

export interface Failure {
  file: string;
  name: string;
  expected: string;
  got: string;
}
export interface RunSummary {
  passed: number;
  failed: number;
  failures: Failure[];
  /** passed/failed per kind, for closing notes and the CLI's summary */
  byKind: Record<string, { passed: number; failed: number }>;
}

export function runVector(vector: Vector): VectorOutcome {
  const runner = kindRunners[vector.kind];
  if (!runner)
    return {
      ok: false,
      expected: `a known kind (${Object.keys(kindRunners).join(", ")})`,
      got: `kind ${JSON.stringify(vector.kind)}`,
    };
  try {
    return runner(vector);
  } catch (err) {
    return {
      ok: false,
      expected: "a result",
      got: `threw: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

export function runVectors(file: string, content: unknown, summary: RunSummary): void {
  const parsed = vectorFileSchema.safeParse(content);
  if (!parsed.success) {
    summary.failed++;
    summary.failures.push({
      file,
      name: "(file)",
      expected: "a conformance file { source, vectors: [...] }",
      got: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
    });
    return;
  }
  for (const vector of parsed.data.vectors) {
    const outcome = runVector(vector);
    const tally = (summary.byKind[vector.kind] ??= { passed: 0, failed: 0 });
    if (outcome.ok) {
      summary.passed++;
      tally.passed++;
    } else {
      summary.failed++;
      tally.failed++;
      summary.failures.push({ file, name: vector.name, expected: outcome.expected, got: outcome.got });
    }
  }
}

export async function runFiles(files: readonly string[]): Promise<RunSummary> {
  const summary: RunSummary = { passed: 0, failed: 0, failures: [], byKind: {} };
  for (const file of files) {
    let content: unknown;
    try {
      content = JSON.parse(await readFile(file, "utf8"));
    } catch (err) {
      summary.failed++;
      summary.failures.push({
        file,
        name: "(file)",
        expected: "a readable JSON file",
        got: err instanceof Error ? err.message : String(err),
      });
      continue;
    }
    runVectors(file, content, summary);
  }
  return summary;
}
