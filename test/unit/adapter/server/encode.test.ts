import { describe, expect, it } from "vitest";
import { goDuration, kubeTime } from "../../../../src/adapter/server/encode.js";
import { canonicalSelector, toLabelSelector } from "../../../../src/adapter/server/selectors.js";
import { runHealth } from "../../../../src/adapter/server/health.js";

describe("wire formats", () => {
  it("prints metav1.Duration as Go does", () => {
    expect([0, 1.5, 30, 60, 90, 300, 3600, 5400].map(goDuration)).toEqual([
      "0s",
      "1.5s",
      "30s",
      "1m0s",
      "1m30s",
      "5m0s",
      "1h0m0s",
      "1h30m0s",
    ]);
  });

  it("prints metav1.Time in whole UTC seconds", () => {
    expect(kubeTime(new Date("2026-11-25T08:00:00.999Z"))).toBe("2026-11-25T08:00:00Z");
  });
});

describe("selectors from the query string", () => {
  it("are canonicalised so identical selectors compare equal", () => {
    expect(canonicalSelector("tier in (b,a), app=web", "labelSelector")).toEqual({
      ok: true,
      selector: "app=web,tier in (a,b)",
    });
    expect(canonicalSelector(undefined, "labelSelector")).toEqual({ ok: true, selector: "" });
  });

  it("are refused with the parameter's name when malformed", () => {
    const r = canonicalSelector("app in (web", "metricLabelSelector");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message.startsWith("metricLabelSelector: ")).toBe(true);
  });

  it("become metav1.LabelSelector objects for MetricValue.selector", () => {
    expect(toLabelSelector("app=web,env notin (dev),!canary,tier in (a,b),zone!=x")).toEqual({
      matchLabels: { app: "web" },
      matchExpressions: [
        { key: "canary", operator: "DoesNotExist" },
        { key: "env", operator: "NotIn", values: ["dev"] },
        { key: "tier", operator: "In", values: ["a", "b"] },
        { key: "zone", operator: "NotIn", values: ["x"] },
      ],
    });
    expect(toLabelSelector("")).toBeNull();
  });
});

describe("health", () => {
  const checks = {
    livez: [{ name: "ping", check: () => undefined }],
    readyz: [
      { name: "ping", check: () => undefined },
      { name: "informer-sync", check: () => "not synced" },
    ],
  };

  it("answers one check by name and 404s an unknown one", () => {
    expect(runHealth(checks, "readyz", "ping", undefined)).toEqual({ code: 200, body: "ok" });
    expect(runHealth(checks, "readyz", "informer-sync", undefined)).toEqual({
      code: 500,
      body: "internal server error: not synced\n",
    });
    expect(runHealth(checks, "readyz", "nope", undefined)).toBeUndefined();
  });

  it("can exclude a failing check", () => {
    expect(runHealth(checks, "readyz", undefined, new URLSearchParams("exclude=informer-sync"))).toEqual({
      code: 200,
      body: "ok",
    });
  });
});

describe("OpenAPI v2", () => {
  // kube-apiserver refuses to serve its merged /openapi/v2 (and kubectl validation fails) when an
  // aggregated server's schema uses a keyword Swagger 2.0 does not have, such as `nullable`.
  const SWAGGER2_SCHEMA_KEYS = new Set([
    "type",
    "format",
    "description",
    "properties",
    "additionalProperties",
    "items",
    "required",
    "$ref",
    "enum",
  ]);

  function badKeys(schema: unknown, path: string, out: string[]): void {
    if (typeof schema !== "object" || schema === null) return;
    for (const [key, value] of Object.entries(schema)) {
      if (key.startsWith("x-")) continue;
      if (!SWAGGER2_SCHEMA_KEYS.has(key)) out.push(`${path}.${key}`);
      if (key === "properties")
        for (const [name, sub] of Object.entries(value as object))
          badKeys(sub, `${path}.properties.${name}`, out);
      if (key === "items" || key === "additionalProperties") badKeys(value, `${path}.${key}`, out);
    }
  }

  it("uses only Swagger 2.0 schema keywords in its definitions", async () => {
    const { buildOpenAPIDocuments } = await import("../../../../src/adapter/server/openapi.js");
    const doc = JSON.parse(
      buildOpenAPIDocuments({ custom: true, external: true, resource: true }, "v0").v2.body,
    ) as { definitions: Record<string, unknown> };
    const out: string[] = [];
    for (const [name, schema] of Object.entries(doc.definitions)) badKeys(schema, name, out);
    expect(out).toEqual([]);
  });
});
