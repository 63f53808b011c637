import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import {
  parseProcStatCpuSeconds,
  parseProcStatusRssBytes,
  renderCadvisorMetrics,
  sampleProcess,
} from "../../../../scripts/cluster/podrunner/cadvisor.js";
import { RoundRobin, startProxy } from "../../../../scripts/cluster/podrunner/proxy.js";
import { plan, podSchema, wantedTargets, type Pod } from "../../../../scripts/cluster/podrunner/reconcile.js";
import { renderFileSd } from "../../../../scripts/cluster/podrunner/sd.js";

function pod(
  name: string,
  over: { phase?: string; podIP?: string; deleting?: boolean; uid?: string } = {},
): Pod {
  return podSchema.parse({
    metadata: {
      name,
      namespace: "ns",
      uid: over.uid ?? `uid-${name}`,
      ...(over.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
    },
    spec: { nodeName: "kwok-node-0", containers: [{ name: "web", image: "img" }, { name: "sidecar" }] },
    status: { phase: over.phase ?? "Running", podIP: over.podIP ?? "10.244.0.1" },
  });
}

describe("which pods get a process", () => {
  it("only Running pods with an IP that are not being deleted, keyed by uid, using the first container", () => {
    const wanted = wantedTargets([
      pod("a"),
      pod("b", { phase: "Pending" }),
      pod("c", { podIP: "" }),
      pod("d", { deleting: true }),
    ]);
    expect([...wanted.values()]).toEqual([
      {
        key: "ns/a/uid-a",
        namespace: "ns",
        pod: "a",
        uid: "uid-a",
        container: "web",
        image: "img",
        node: "kwok-node-0",
      },
    ]);
  });

  it("starts the new, stops the gone, and treats a pod recreated under the same name as new", () => {
    const wanted = wantedTargets([pod("a"), pod("b", { uid: "new" })]);
    const p = plan(wanted, new Set(["ns/a/uid-a", "ns/b/old", "ns/c/uid-c"]));
    expect(p.start.map((t) => t.key)).toEqual(["ns/b/new"]);
    expect(p.stop.sort()).toEqual(["ns/b/old", "ns/c/uid-c"]);
  });
});

describe("file_sd targets", () => {
  it("one group per target with its labels, in a stable order", () => {
    const text = renderFileSd([
      { address: "127.0.0.1:9002", labels: { pod: "b" } },
      { address: "127.0.0.1:9001", labels: { pod: "a" } },
    ]);
    expect(JSON.parse(text)).toEqual([
      { targets: ["127.0.0.1:9001"], labels: { pod: "a" } },
      { targets: ["127.0.0.1:9002"], labels: { pod: "b" } },
    ]);
  });
});

describe("cAdvisor-named series", () => {
  it("reads CPU seconds from /proc/<pid>/stat even when the command name has spaces and parens", () => {
    const stat =
      "1234 (node (my app)) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 100 1000 500";
    expect(parseProcStatCpuSeconds(stat, 100)).toBe(3);
  });

  it("reads the resident set from /proc/<pid>/status", () => {
    expect(parseProcStatusRssBytes("Name:\tnode\nVmRSS:\t   2048 kB\nThreads: 7\n")).toBe(2048 * 1024);
  });

  it("samples this very process", async () => {
    const s = await sampleProcess(process.pid);
    expect(s?.cpuSeconds).toBeGreaterThan(0);
    expect(s?.workingSetBytes).toBeGreaterThan(1024 * 1024);
    expect(await sampleProcess(2 ** 22 + 12345)).toBeUndefined();
  });

  it("exposes per-container series with namespace, pod, container and node, and node totals with id=/", () => {
    const text = renderCadvisorMetrics([
      {
        namespace: "ns",
        pod: "a",
        uid: "u1",
        container: "web",
        image: "img",
        node: "n0",
        cpuSeconds: 1.5,
        workingSetBytes: 100,
      },
      {
        namespace: "ns",
        pod: "b",
        uid: "u2",
        container: "web",
        image: "img",
        node: "n0",
        cpuSeconds: 0.5,
        workingSetBytes: 50,
      },
    ]);
    expect(text).toContain(
      'container_cpu_usage_seconds_total{namespace="ns",pod="a",container="web",node="n0",image="img",name="web_a_ns",id="/kubepods/podu1/web"} 1.5',
    );
    expect(text).toContain(
      'container_memory_working_set_bytes{namespace="ns",pod="b",container="web",node="n0",image="img",name="web_b_ns",id="/kubepods/podu2/web"} 50',
    );
    expect(text).toContain('container_cpu_usage_seconds_total{id="/",node="n0"} 2');
    expect(text).toContain('container_memory_working_set_bytes{id="/",node="n0"} 150');
    expect(text).toContain('node_cpu_usage_seconds_total{node="n0"} 2');
    expect(text).toContain("# TYPE container_cpu_usage_seconds_total counter");
  });
});

describe("the round-robin address", () => {
  it("picks each item in turn and copes with the list changing", () => {
    const rr = new RoundRobin();
    expect([rr.pick(["a", "b"]), rr.pick(["a", "b"]), rr.pick(["a", "b"])]).toEqual(["a", "b", "a"]);
    expect(rr.pick([])).toBeUndefined();
  });

  it("spreads requests over the live backends and answers 503 with none", async () => {
    const servers: Server[] = [];
    const backend = async (name: string) => {
      const s = createServer((_req, res) => res.end(name));
      servers.push(s);
      await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
      return { name, port: (s.address() as AddressInfo).port };
    };
    let live = [await backend("a"), await backend("b")];
    const proxy = await startProxy(() => live);
    try {
      const bodies: string[] = [];
      for (let i = 0; i < 4; i++) bodies.push(await (await fetch(proxy.url)).text());
      expect(bodies.sort()).toEqual(["a", "a", "b", "b"]);
      live = [];
      const res = await fetch(proxy.url);
      expect(res.status).toBe(503);
      await res.text();
    } finally {
      await proxy.close();
      for (const s of servers) s.close();
    }
  });
});
