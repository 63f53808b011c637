// The install namespace (prom-hpa) on the shared e2e cluster: created when missing and left in
// place, since several test files install into it (deleting it races with the next file).
import { z } from "zod";
import { KubectlError, type ClusterHandle } from "../../../scripts/cluster/handle.js";
import { INSTALL } from "../../../src/rbac/permissions.js";
import { waitFor } from "./wait.js";

const namespaceSchema = z.object({ status: z.object({ phase: z.string().optional() }).optional() });

export async function ensureInstallNamespace(
  cluster: ClusterHandle,
  name: string = INSTALL.namespace,
): Promise<void> {
  const phase = async (): Promise<string | undefined> => {
    try {
      const ns = namespaceSchema.parse(
        JSON.parse(await cluster.kubectl(["get", "namespace", name, "-o", "json"])),
      );
      return ns.status?.phase ?? "Active";
    } catch (err: unknown) {
      if (err instanceof KubectlError && /NotFound/.test(err.stderr)) return undefined;
      throw err;
    }
  };
  if ((await phase()) === "Terminating") {
    await waitFor(
      `namespace ${name} to finish terminating`,
      async () => ((await phase()) === undefined ? true : undefined),
      {
        timeoutMs: 60_000,
      },
    );
  }
  if ((await phase()) === undefined) {
    try {
      await cluster.kubectl(["create", "namespace", name]);
    } catch (err: unknown) {
      if (!(err instanceof KubectlError && /AlreadyExists/.test(err.stderr))) throw err;
    }
  }
}
