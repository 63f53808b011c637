import type { ConfigIssue, MetricsDiscoveryConfig } from "./types.js";

export type LoadResult = { ok: true; config: MetricsDiscoveryConfig } | { ok: false; issues: ConfigIssue[] };

export function parseConfig(_text: string): LoadResult {
  return { ok: false, issues: [{ path: "", message: "config loader being built" }] };
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  const { readFile } = await import("node:fs/promises");
  return parseConfig(await readFile(path, "utf8"));
}
