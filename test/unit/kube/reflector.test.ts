import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient } from "../../../src/kube/client.js";
import { orThrow } from "../../../src/kube/errors.js";
import { Reflector, type RawObject } from "../../../src/kube/reflector.js";
import { silentLogger } from "../../../src/log/logger.js";
import { fakeApiServer, json, watchEvent, type FakeApiServer } from "./fake-apiserver.js";

const pod = (name: string, rv: string) => ({ metadata: { name, namespace: "ns", resourceVersion: rv } });

const until = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("condition not reached");
};

/** A pod collection served in pages of `limit`; watches are handed to the test. */
function podsServer(state: { pods: ReturnType<typeof pod>[]; rv: string }, watches: ServerResponse[]) {
  return fakeApiServer((_req, res, url) => {
    if (url.searchParams.get("watch") === "1") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      watches.push(res);
      return;
    }
    const limit = Number(url.searchParams.get("limit") ?? "500");
    const start = Number(url.searchParams.get("continue") ?? "0");
    const next = start + limit < state.pods.length ? String(start + limit) : undefined;
    json(res, 200, {
      kind: "PodList",
      metadata: { resourceVersion: state.rv, ...(next ? { continue: next } : {}) },
      items: state.pods.slice(start, start + limit),
    });
  });
}

describe("Reflector", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function start(api: FakeApiServer) {
    const client = orThrow(await KubeClient.fromKubeConfig(api.kubeConfig()));
    const seen: string[] = [];
    const names = new Set<string>();
    const reflector = new Reflector({
      client,
      path: "/api/v1/pods",
      labelSelector: "app=web",
      pageSize: 2,
      logger: silentLogger,
      initialBackoffMs: 10,
      handlers: {
        add: (o: RawObject) => (seen.push(`add ${o.metadata.name}`), names.add(o.metadata.name)),
        update: (o: RawObject) => seen.push(`update ${o.metadata.name}`),
        delete: (o: RawObject) => (seen.push(`delete ${o.metadata.name}`), names.delete(o.metadata.name)),
      },
    });
    cleanups.push(async () => {
      await reflector.stop();
      await client.close();
    });
    reflector.start();
    return { reflector, seen, names };
  }

  it("lists in pages with limit/continue and the label selector, then watches from the list's resourceVersion", async () => {
    const state = { pods: [pod("a", "1"), pod("b", "2"), pod("c", "3")], rv: "3" };
    const watches: ServerResponse[] = [];
    const api = await podsServer(state, watches);
    cleanups.push(() => api.close());
    const { reflector, seen } = await start(api);
    expect(await reflector.waitForSync(2_000)).toBe(true);
    expect(seen).toEqual(["add a", "add b", "add c"]);
    expect(api.requests.slice(0, 2)).toEqual([
      "/api/v1/pods?limit=2&labelSelector=app%3Dweb",
      "/api/v1/pods?limit=2&continue=2&labelSelector=app%3Dweb",
    ]);
    await until(() => watches.length === 1);
    const watch = new URL(api.requests[2] ?? "", "http://x").searchParams;
    expect(Object.fromEntries(watch)).toEqual({
      watch: "1",
      allowWatchBookmarks: "true",
      timeoutSeconds: "300",
      resourceVersion: "3",
      labelSelector: "app=web",
    });
  });

  it("follows watch events and resumes the next watch from the last bookmark's resourceVersion", async () => {
    const state = { pods: [pod("a", "1")], rv: "1" };
    const watches: ServerResponse[] = [];
    const api = await podsServer(state, watches);
    cleanups.push(() => api.close());
    const { seen, names } = await start(api);
    await until(() => watches.length === 1);
    const w = watches[0] as ServerResponse;
    watchEvent(w, "ADDED", pod("b", "4"));
    watchEvent(w, "MODIFIED", pod("a", "5"));
    watchEvent(w, "DELETED", pod("b", "6"));
    watchEvent(w, "BOOKMARK", { metadata: { name: "", resourceVersion: "9" } });
    await until(() => seen.length === 4);
    w.end(); // the server's watch timeout
    await until(() => watches.length === 2);
    expect(seen).toEqual(["add a", "add b", "update a", "delete b"]);
    expect([...names]).toEqual(["a"]);
    expect(new URL(api.requests.at(-1) ?? "", "http://x").searchParams.get("resourceVersion")).toBe("9");
    expect(api.requests.filter((r) => !r.includes("watch=1"))).toHaveLength(1); // no relist
  });

  it("lists again on 410 Gone (as an ERROR event or as the watch's answer) and reports what changed meanwhile", async () => {
    const state = { pods: [pod("a", "1"), pod("b", "2")], rv: "2" };
    const watches: ServerResponse[] = [];
    let answerGone = false;
    const api = await fakeApiServer((req, res, url) => {
      if (url.searchParams.get("watch") === "1" && answerGone) {
        json(res, 410, { kind: "Status", code: 410, reason: "Expired", message: "too old resource version" });
        answerGone = false;
        return;
      }
      void podsServerRoute(state, watches)(req, res, url);
    });
    cleanups.push(() => api.close());
    const { seen } = await start(api);
    await until(() => watches.length === 1);
    // The server moves on; the watch says the resourceVersion is gone.
    state.pods = [pod("b", "2"), pod("c", "30")];
    state.rv = "30";
    watchEvent(watches[0] as ServerResponse, "ERROR", {
      kind: "Status",
      code: 410,
      reason: "Expired",
      message: "too old resource version: 2 (30)",
    });
    await until(() => seen.includes("add c"));
    expect(seen).toEqual(["add a", "add b", "delete a", "add c"]);
    await until(() => watches.length === 2);
    expect(new URL(api.requests.at(-1) ?? "", "http://x").searchParams.get("resourceVersion")).toBe("30");
    // A watch refused with 410 at the start is answered the same way.
    answerGone = true;
    state.pods = [pod("d", "40")];
    state.rv = "40";
    (watches[1] as ServerResponse).end();
    await until(() => seen.includes("add d"));
    expect(seen.slice(4)).toEqual(["delete b", "delete c", "add d"]);
  });

  it("backs off and retries a failing list, keeping the error for readiness reports", async () => {
    let failures = 2;
    const watches: ServerResponse[] = [];
    const state = { pods: [pod("a", "1")], rv: "1" };
    const api = await fakeApiServer((req, res, url) => {
      if (url.searchParams.get("watch") !== "1" && failures-- > 0) {
        json(res, 403, {
          kind: "Status",
          code: 403,
          reason: "Forbidden",
          message: 'pods is forbidden: User "x"',
        });
        return;
      }
      podsServerRoute(state, watches)(req, res, url);
    });
    cleanups.push(() => api.close());
    const { reflector } = await start(api);
    await until(() => reflector.lastError !== undefined);
    expect(reflector.lastError).toMatchObject({ kind: "api", status: 403, reason: "Forbidden" });
    expect(await reflector.waitForSync(2_000)).toBe(true);
    expect(reflector.lastError).toBeUndefined();
    expect(api.requests.filter((r) => !r.includes("watch=1"))).toHaveLength(3);
  });
});

function podsServerRoute(state: { pods: ReturnType<typeof pod>[]; rv: string }, watches: ServerResponse[]) {
  return (_req: unknown, res: ServerResponse, url: URL): void => {
    if (url.searchParams.get("watch") === "1") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      watches.push(res);
      return;
    }
    json(res, 200, { kind: "PodList", metadata: { resourceVersion: state.rv }, items: state.pods });
  };
}
