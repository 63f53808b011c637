import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ensureKubeBinaries,
  findPrometheus,
  missingBinaries,
  which,
} from "../../../../scripts/cluster/binaries.js";

const empty = mkdtempSync(join(tmpdir(), "bin-test-"));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe("finding the binaries", () => {
  it("which finds an executable on PATH and nothing elsewhere", () => {
    expect(which("sh", "/usr/bin:/bin")).toMatch(/\/sh$/);
    expect(which("sh", empty)).toBeUndefined();
  });

  it("Prometheus missing says how to install it", () => {
    expect(() => findPrometheus({ PATH: empty })).toThrow(
      /Prometheus is not installed: run `bash scripts\/install-deps.sh`/,
    );
    expect(() => findPrometheus({ PROM_HPA_PROMETHEUS: join(empty, "prometheus") })).toThrow(
      /PROM_HPA_PROMETHEUS=.* is not an executable/,
    );
  });

  it("a given bin folder lacking binaries is named with what it lacks", async () => {
    expect(missingBinaries(empty)).toEqual([
      "etcd",
      "kube-apiserver",
      "kube-controller-manager",
      "kube-scheduler",
      "kubectl",
      "kwok",
    ]);
    await expect(ensureKubeBinaries({ PROM_HPA_KUBE_BIN_DIR: empty })).rejects.toThrow(
      /lacks etcd, kube-apiserver/,
    );
  });
});
