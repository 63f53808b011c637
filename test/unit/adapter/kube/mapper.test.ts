import { describe, expect, it } from "vitest";
import { buildMappings } from "../../../../src/adapter/kube/mapper.js";

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
