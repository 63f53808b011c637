import { createServer, type ServerResponse, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../../src/log/logger.js";
import { InformerObjectLister } from "../../../../src/adapter/cache/lister.js";
import { KubeClient } from "../../../../src/kube/client.js";
import { orThrow } from "../../../../src/kube/errors.js";
import type { ResourceMapper } from "../../../../src/adapter/provider.js";

// A fake API server at the HTTP boundary: pages a pod list, then streams watch events the
// test pushes; a watch from an old resourceVersion gets 410 Gone, as from kube-apiserver.
const pod = (name: string, labels: Record<string, string>, rv: string) => ({
  kind: "PartialObjectMetadata",
  apiVersion: "meta.k8s.io/v1",
  metadata: { name, namespace: "ns", labels, resourceVersion: rv },
});
let pods = [
  pod("web-1", { app: "web" }, "5"),
  pod("web-2", { app: "web" }, "6"),
  pod("db-1", { app: "db" }, "7"),
];
let listRV = "7";
const watchers: ServerResponse[] = [];
const requests: string[] = [];
let server: Server;
let client: KubeClient;

function push(type: string, object: unknown): void {
  for (const w of watchers) w.write(JSON.stringify({ type, object }) + "\n");
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    requests.push(url.pathname + url.search);
    if (url.pathname !== "/api/v1/pods") {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get("watch") === "1") {
      res.writeHead(200, { "Content-Type": "application/json" });
      if (url.searchParams.get("resourceVersion") !== listRV) {
        res.end(
          JSON.stringify({
            type: "ERROR",
            object: { kind: "Status", code: 410, message: "too old resource version" },
          }) + "\n",
        );
        return;
      }
      watchers.push(res);
      req.on("close", () => watchers.splice(watchers.indexOf(res), 1));
      return;
    }
    // Two items per page, with a continue token.
    const start = Number(url.searchParams.get("continue") ?? "0");
    const page = pods.slice(start, start + 2);
    const next = start + 2 < pods.length ? String(start + 2) : undefined;
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        kind: "PartialObjectMetadataList",
        metadata: { resourceVersion: listRV, ...(next ? { continue: next } : {}) },
        items: page,
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      {
        name: "fake",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "fake", cluster: "fake", user: "u" }],
    currentContext: "fake",
  });
  client = orThrow(await KubeClient.fromKubeConfig(kc));
});
afterAll(async () => {
  for (const w of watchers.splice(0)) w.end();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  await client.close();
});

const mapper: ResourceMapper = {
  resolve: (r) =>
    r === "pods" || r === "pod"
      ? { groupResource: { group: "", resource: "pods" }, kind: "Pod", version: "v1", namespaced: true }
      : undefined,
};
const until = async (check: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
};

describe("InformerObjectLister", () => {
  const lister = () =>
    new InformerObjectLister({ client, mapper, logger: silentLogger, syncTimeoutMs: 2_000 });

  it("answers names matching the selector from a paged metadata list, then follows the watch", async () => {
    const l = lister();
    try {
      const pods = { group: "", resource: "pods" };
      expect(await l.listNames({ groupResource: pods, namespace: "ns", selector: "app=web" })).toEqual({
        ok: true,
        value: ["web-1", "web-2"],
      });
      expect(requests.filter((r) => r.startsWith("/api/v1/pods?limit="))).toHaveLength(2);
      await until(async () => watchers.length === 1);
      push("ADDED", pod("web-3", { app: "web" }, "8"));
      push("DELETED", pod("web-1", { app: "web" }, "9"));
      push("MODIFIED", pod("db-1", { app: "web" }, "10"));
      await until(async () => {
        const r = await l.listNames({ groupResource: pods, namespace: "ns", selector: "app=web" });
        return r.ok && r.value.length === 3;
      });
      const r = await l.listNames({ groupResource: pods, namespace: "ns", selector: "app=web" });
      expect(r.ok && [...r.value].sort()).toEqual(["db-1", "web-2", "web-3"]);
      expect(await l.listNames({ groupResource: pods, namespace: "other", selector: "" })).toEqual({
        ok: true,
        value: [],
      });
    } finally {
      l.stop();
    }
  });

  it("relists when the watch answers 410 Gone", async () => {
    const l = lister();
    try {
      const gr = { group: "", resource: "pods" };
      await l.listNames({ groupResource: gr, namespace: "ns", selector: "" });
      await until(async () => watchers.length >= 1);
      // The server moves on: the reflector's resourceVersion is now too old.
      pods = [pod("api-1", { app: "api" }, "20")];
      listRV = "20";
      for (const w of watchers.splice(0)) w.end();
      await until(async () => {
        const r = await l.listNames({ groupResource: gr, namespace: "ns", selector: "" });
        return r.ok && r.value.join() === "api-1";
      });
    } finally {
      l.stop();
    }
  });

  it("refuses a malformed selector and an unknown resource with errors the API can answer", async () => {
    const l = lister();
    expect(
      await l.listNames({ groupResource: { group: "", resource: "pods" }, selector: "app in (" }),
    ).toMatchObject({ ok: false, error: { kind: "BadRequest" } });
    expect(
      await l.listNames({ groupResource: { group: "example.com", resource: "widgets" }, selector: "" }),
    ).toMatchObject({ ok: false, error: { kind: "NotFound" } });
    l.stop();
  });
});
