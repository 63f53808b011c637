import { mkdtemp, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  watchConfigFile,
  type ConfigReloader,
  type ReloadResult,
} from "../../../../src/adapter/config/reload.js";
import type { MetricsDiscoveryConfig } from "../../../../src/adapter/config/types.js";
import { silentLogger } from "../../../../src/log/logger.js";

const rule = (name: string) => `rules:
- seriesQuery: '${name}{namespace!="",pod!=""}'
  resources: {template: "<<.Resource>>"}
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)'
`;

let reloader: ConfigReloader | undefined;
afterEach(() => reloader?.stop());

async function setup(applyError?: () => string | undefined) {
  const dir = await mkdtemp(join(tmpdir(), "reload-"));
  const path = join(dir, "config.yaml");
  await writeFile(path, rule("first"));
  const applied: MetricsDiscoveryConfig[] = [];
  const results: ReloadResult[] = [];
  reloader = watchConfigFile({
    path,
    initialText: rule("first"),
    pollIntervalMs: 60_000,
    logger: silentLogger,
    onResult: (r) => results.push(r),
    apply: (c) => {
      const e = applyError?.();
      if (e === undefined) applied.push(c);
      return Promise.resolve(e);
    },
  });
  return { path, applied, results, reloader };
}

describe("the watched rules file", () => {
  it("applies a valid new version and leaves an unchanged file alone", async () => {
    const { path, applied, results, reloader } = await setup();
    await reloader.check();
    expect(applied).toHaveLength(0);
    await writeFile(path, rule("second"));
    await reloader.check();
    expect(applied.map((c) => c.rules[0]?.seriesQuery)).toEqual(['second{namespace!="",pod!=""}']);
    expect(results).toEqual(["applied"]);
    expect(reloader.warning()).toBeUndefined();
  });

  it("refuses an invalid version once, naming the field, keeps the old rules, and takes the next valid one", async () => {
    const { path, applied, results, reloader } = await setup();
    await writeFile(path, "rules:\n- seriesQuery: up\n  metricsQuery: x\n  name: {matches: '(a'}\n");
    await reloader.check();
    await reloader.check();
    expect(applied).toHaveLength(0);
    expect(results).toEqual(["invalid"]); // counted and logged once per version
    expect(reloader.warning()).toMatch(
      /^rules file refused, previous rules in force: rules\[0\]\.name\.matches/,
    );
    await writeFile(path, rule("third"));
    await reloader.check();
    expect(results).toEqual(["invalid", "applied"]);
    expect(reloader.warning()).toBeUndefined();
  });

  it("follows a ConfigMap-style symlink swap (the file replaced, not written in place)", async () => {
    const { path, applied, reloader } = await setup();
    const next = `${path}.tmp`;
    await writeFile(next, rule("swapped"));
    await rename(next, path);
    await reloader.check();
    expect(applied.map((c) => c.rules[0]?.seriesQuery)).toEqual(['swapped{namespace!="",pod!=""}']);
  });

  it("retries a valid version the backend could not apply yet (Prometheus away), warning meanwhile", async () => {
    let down = true;
    const { path, applied, results, reloader } = await setup(() =>
      down ? "Prometheus unreachable" : undefined,
    );
    await writeFile(path, rule("second"));
    await reloader.check();
    expect(reloader.warning()).toBe(
      "new rules not applied yet, previous rules in force: Prometheus unreachable",
    );
    down = false;
    await reloader.check();
    expect(applied).toHaveLength(1);
    // The directory watch may add checks of its own: each try counts, one applies.
    expect(results.at(-1)).toBe("applied");
    expect(results.filter((r) => r === "applied")).toHaveLength(1);
  });
});
