// A namespace per test (or per file), deleted afterwards, ready for pods (its default
// ServiceAccount exists).
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import type { ClusterHandle } from "../../../scripts/cluster/handle.js";
import { waitFor } from "./wait.js";

export interface TestNamespace {
  name: string;
  delete(): Promise<void>;
}

export async function createNamespace(cluster: ClusterHandle, prefix: string): Promise<TestNamespace> {
  const name = `e2e-${prefix}-${randomBytes(3).toString("hex")}`.toLowerCase().slice(0, 63);
  await cluster.kubectl(["create", "namespace", name]);
  await waitFor(
    `ServiceAccount ${name}/default`,
    () =>
      cluster
        .kubectl(["get", "serviceaccount", "default", "-o", "name"], { namespace: name })
        .then(() => true),
    { timeoutMs: 30_000 },
  );
  return {
    name,
    // Not waiting for the namespace to be gone keeps teardown quick; names never repeat.
    delete: () =>
      cluster
        .kubectl(["delete", "namespace", name, "--wait=false", "--ignore-not-found"])
        .then(() => undefined),
  };
}

/** Registers beforeAll/afterAll for a namespace shared by the tests of one file or describe. */
export function useNamespace(cluster: () => ClusterHandle, prefix: string): { readonly name: string } {
  let ns: TestNamespace | undefined;
  beforeAll(async () => {
    ns = await createNamespace(cluster(), prefix);
  });
  afterAll(async () => {
    await ns?.delete();
  });
  return {
    get name() {
      if (!ns) throw new Error("namespace is created in beforeAll; use it inside a test");
      return ns.name;
    },
  };
}
