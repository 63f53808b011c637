import { describe, expect, it } from "vitest";
import type { KubeApi } from "../../../src/kube/client.js";
import { KubeError } from "../../../src/kube/errors.js";
import { buildMappings, RESTMapper } from "../../../src/kube/mapper.js";
import { silentLogger } from "../../../src/log/logger.js";

const lists = [
  {
    groupVersion: "v1",
    resources: [
      { name: "pods", singularName: "pod", namespaced: true, kind: "Pod" },
      { name: "pods/status", singularName: "", namespaced: true, kind: "Pod" },
      { name: "events", singularName: "event", namespaced: true, kind: "Event" },
      { name: "namespaces", singularName: "namespace", namespaced: false, kind: "Namespace" },
    ],
  },
  {
    groupVersion: "apps/v1",
    resources: [{ name: "deployments", singularName: "deployment", namespaced: true, kind: "Deployment" }],
  },
  {
    groupVersion: "events.k8s.io/v1",
    resources: [{ name: "events", singularName: "event", namespaced: true, kind: "Event" }],
  },
];

describe("buildMappings", () => {
  const table = buildMappings(lists);

  it("resolves plural, singular and kind, bare or with the group", () => {
    const deployment = {
      groupResource: { group: "apps", resource: "deployments" },
      kind: "Deployment",
      version: "v1",
      namespaced: true,
    };
    for (const name of ["deployments", "deployment", "deployments.apps", "deployment.apps"])
      expect(table.get(name)).toEqual(deployment);
    expect(table.get("namespace")).toEqual({
      groupResource: { group: "", resource: "namespaces" },
      kind: "Namespace",
      version: "v1",
      namespaced: false,
    });
  });

  it("gives a bare name claimed by two groups to the first (core) and keeps the other reachable by group", () => {
    expect(table.get("events")?.groupResource).toEqual({ group: "", resource: "events" });
    expect(table.get("events.events.k8s.io")?.groupResource).toEqual({
      group: "events.k8s.io",
      resource: "events",
    });
  });

  it("skips subresources", () => {
    expect([...table.keys()].some((k) => k.includes("/"))).toBe(false);
  });
});

describe("RESTMapper", () => {
  const answers: Record<string, unknown> = {
    "/api/v1": lists[0],
    "/apis": {
      groups: [
        {
          name: "apps",
          preferredVersion: { groupVersion: "apps/v1", version: "v1" },
          versions: [{ groupVersion: "apps/v1", version: "v1" }],
        },
      ],
    },
    "/apis/apps/v1": {
      groupVersion: "apps/v1",
      resources: [
        { name: "deployments", singularName: "deployment", namespaced: true, kind: "Deployment" },
        { name: "deployments/scale", singularName: "", namespaced: true, kind: "Scale" },
      ],
    },
  };
  const fakeClient = (calls: string[]): KubeApi => ({
    request: async (_method, path) => {
      calls.push(path);
      const body = answers[path];
      return body === undefined
        ? { ok: false, error: new KubeError("api", "not found", 404, "NotFound") }
        : { ok: true, value: body };
    },
  });

  it("answers names after a full run and kinds from the same cached lists, without asking again", async () => {
    const calls: string[] = [];
    const mapper = new RESTMapper({ client: fakeClient(calls), logger: silentLogger });
    expect(await mapper.refresh()).toBe(true);
    expect(mapper.resolve("deployment.apps")?.groupResource).toEqual({
      group: "apps",
      resource: "deployments",
    });
    expect(await mapper.restMapping("apps/v1", "Deployment")).toEqual({
      ok: true,
      value: {
        group: "apps",
        version: "v1",
        resource: "deployments",
        kind: "Deployment",
        namespaced: true,
        hasScale: true,
      },
    });
    expect(await mapper.restMapping("v1", "Pod")).toMatchObject({
      ok: true,
      value: { resource: "pods", hasScale: false },
    });
    expect(calls).toEqual(["/api/v1", "/apis", "/apis/apps/v1"]);
  });

  it("an unknown kind is a NotFound error naming kind and group", async () => {
    let now = 0;
    const calls: string[] = [];
    const mapper = new RESTMapper({ client: fakeClient(calls), logger: silentLogger, now: () => now });
    const r = await mapper.restMapping("apps/v1", "Nope");
    expect(r.ok ? undefined : r.error.message).toBe('no matches for kind "Nope" in group "apps"');
    // Asked again soon, the cached list answers; after the miss interval it is fetched again.
    await mapper.restMapping("apps/v1", "Nope");
    expect(calls.filter((c) => c === "/apis/apps/v1")).toHaveLength(1);
    now += 10_001;
    await mapper.restMapping("apps/v1", "Nope");
    expect(calls.filter((c) => c === "/apis/apps/v1")).toHaveLength(2);
  });
});
