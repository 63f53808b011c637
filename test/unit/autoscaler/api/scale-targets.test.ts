import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ScaleTargetCache } from "../../../../src/autoscaler/api/scale-targets.js";
import type { CurrentScale, ScaleClient } from "../../../../src/autoscaler/controller/ports.js";
import { KubeClient } from "../../../../src/kube/client.js";
import { orThrow } from "../../../../src/kube/errors.js";
import type { CrossVersionObjectReference } from "../../../../src/kube/objects.js";
import { silentLogger } from "../../../../src/log/logger.js";
import { fakeApiServer, json, watchEvent, type FakeApiServer } from "../../kube/fake-apiserver.js";

const deployment = (name: string, replicas: number, rv: string) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: "ns", resourceVersion: rv },
  spec: {
    replicas,
    selector: {
      matchLabels: { app: name },
      matchExpressions: [{ key: "tier", operator: "In", values: ["b", "a"] }],
    },
  },
});

/** The GET/PUT of the subresource, recording what it was asked. */
class RecordingScales implements ScaleClient {
  readonly calls: string[] = [];
  async getScale(namespace: string, target: CrossVersionObjectReference): Promise<CurrentScale> {
    this.calls.push(`get ${target.kind} ${namespace}/${target.name}`);
    return { replicas: 7, selector: "from=get", handle: target.name };
  }
  async updateScale(current: CurrentScale, replicas: number): Promise<void> {
    this.calls.push(`put ${String(current.handle)} ${replicas}`);
  }
}

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
};

const web: CrossVersionObjectReference = { apiVersion: "apps/v1", kind: "Deployment", name: "web" };

describe("scale targets from watches", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(opts: { forbidStatefulSets?: boolean } = {}) {
    const watches = new Map<string, ServerResponse>();
    const api: FakeApiServer = await fakeApiServer((_req, res, url) => {
      const resource = url.pathname.split("/").pop() ?? "";
      if (opts.forbidStatefulSets && resource === "statefulsets")
        return json(res, 403, { kind: "Status", code: 403, reason: "Forbidden", message: "forbidden" });
      if (url.searchParams.get("watch") === "1") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        watches.set(resource, res);
        return;
      }
      const items = resource === "deployments" ? [deployment("web", 3, "10")] : [];
      json(res, 200, { kind: "List", metadata: { resourceVersion: "10" }, items });
    });
    const client = orThrow(await KubeClient.fromKubeConfig(api.kubeConfig()));
    const fallback = new RecordingScales();
    const cache = new ScaleTargetCache({ client, namespaces: ["ns"], fallback, log: silentLogger });
    cache.start();
    cleanups.push(async () => {
      await cache.stop();
      await client.close();
      await api.close();
    });
    return { cache, fallback, watches };
  }

  it("answers a Deployment's replicas and selector as the scale subresource would, without a GET", async () => {
    const { cache, fallback } = await start();
    await cache.waitForSync(5000);
    const s = await cache.getScale("ns", web);
    expect([s.replicas, s.selector]).toEqual([3, "app=web,tier in (a,b)"]);
    expect(fallback.calls).toEqual([]);
  });

  it("reads other kinds, other API versions and objects it has not seen with the GET", async () => {
    const { cache, fallback } = await start();
    await cache.waitForSync(5000);
    await cache.getScale("ns", { apiVersion: "example.com/v1", kind: "Worker", name: "w" });
    await cache.getScale("ns", { apiVersion: "apps/v1beta2", kind: "Deployment", name: "web" });
    await cache.getScale("ns", { apiVersion: "apps/v1", kind: "Deployment", name: "gone" });
    expect(fallback.calls).toEqual(["get Worker ns/w", "get Deployment ns/web", "get Deployment ns/gone"]);
  });

  it("writes through a fresh GET and the PUT, and reads with the GET until the watch shows the new replicas", async () => {
    const { cache, fallback, watches } = await start();
    await cache.waitForSync(5000);
    await cache.updateScale(await cache.getScale("ns", web), 5);
    expect(fallback.calls).toEqual(["get Deployment ns/web", "put web 5"]);
    expect((await cache.getScale("ns", web)).replicas).toBe(7); // the GET's answer
    await until(() => watches.has("deployments"));
    watchEvent(watches.get("deployments") as ServerResponse, "MODIFIED", deployment("web", 5, "11"));
    for (let i = 0; i < 100; i++) {
      const s = await cache.getScale("ns", web);
      if (s.replicas === 5) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const calls = fallback.calls.length;
    expect((await cache.getScale("ns", web)).replicas).toBe(5);
    expect(fallback.calls.length).toBe(calls);
  });

  it("keeps the GET for a kind it may not list", async () => {
    const { cache, fallback } = await start({ forbidStatefulSets: true });
    await cache.waitForSync(300);
    await cache.getScale("ns", { apiVersion: "apps/v1", kind: "StatefulSet", name: "db" });
    expect(fallback.calls).toEqual(["get StatefulSet ns/db"]);
    expect((await cache.getScale("ns", web)).replicas).toBe(3);
  });
});
