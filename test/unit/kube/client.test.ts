import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { KubeClient } from "../../../src/kube/client.js";
import { KubeConfig } from "@kubernetes/client-node";
import {
  isAlreadyExists,
  isConflict,
  isGone,
  isNotFound,
  KubeError,
  orThrow,
  statusError,
} from "../../../src/kube/errors.js";
import { fakeApiServer, json } from "./fake-apiserver.js";

describe("KubeClient requests", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function clientOn(route: Parameters<typeof fakeApiServer>[0], token = "t") {
    const api = await fakeApiServer(route);
    const client = orThrow(await KubeClient.fromKubeConfig(api.kubeConfig({ token })));
    cleanups.push(
      () => api.close(),
      () => client.close(),
    );
    return { api, client };
  }

  it("sends JSON bodies with the patch content type and the bearer token, and answers the parsed JSON", async () => {
    const seen: string[] = [];
    const { client, api } = await clientOn((req, res) => {
      seen.push(`${req.method} ${req.headers["content-type"] ?? "-"}`);
      json(res, 200, { kind: "Thing", spec: { replicas: 3 } });
    });
    const r = await client.request("PATCH", "/apis/x/v1/things/a", {
      body: { a: 1 },
      patchType: "strategic",
      query: { dryRun: "All", fieldManager: undefined },
    });
    expect(r).toEqual({ ok: true, value: { kind: "Thing", spec: { replicas: 3 } } });
    expect(seen).toEqual(["PATCH application/strategic-merge-patch+json"]);
    expect(api.requests).toEqual(["/apis/x/v1/things/a?dryRun=All"]);
    expect(api.authorizations).toEqual(["Bearer t"]);
    const typed = await client.get("/x", z.object({ kind: z.literal("Other") }));
    expect(typed.ok ? undefined : typed.error.kind).toBe("decode");
  });

  it("turns a Status answer into an API error with its status, reason and message", async () => {
    const { client } = await clientOn((_req, res) =>
      json(res, 409, {
        kind: "Status",
        code: 409,
        reason: "AlreadyExists",
        message: 'leases "l" already exists',
      }),
    );
    const r = await client.request("POST", "/apis/coordination.k8s.io/v1/namespaces/n/leases", { body: {} });
    expect(r.ok ? undefined : { ...r.error, message: r.error.message }).toEqual({
      name: "KubeError",
      kind: "api",
      status: 409,
      reason: "AlreadyExists",
      message: 'leases "l" already exists',
    });
    expect(!r.ok && isConflict(r.error) && isAlreadyExists(r.error) && !isNotFound(r.error)).toBe(true);
  });

  it("reports a server that does not answer as a network error without a status", async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "c", server: "http://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
    const client = orThrow(await KubeClient.fromKubeConfig(kc));
    cleanups.push(() => client.close());
    const r = await client.request("GET", "/api/v1");
    expect(
      r.ok ? undefined : [r.error.kind, r.error.status, r.error.message.startsWith("GET /api/v1: ")],
    ).toEqual(["network", 0, true]);
  });

  it("a watch answered with 410 ends with a Gone API error", async () => {
    const { client } = await clientOn((_req, res) =>
      json(res, 410, {
        kind: "Status",
        code: 410,
        reason: "Expired",
        message: "too old resource version: 1 (9)",
      }),
    );
    const end = await client.watch("/api/v1/pods", {
      signal: new AbortController().signal,
      onEvent: () => undefined,
    });
    expect(!end.ok && isGone(end.error) && end.error.message).toBe("too old resource version: 1 (9)");
  });
});

describe("statusError", () => {
  it("uses the Status message when the server sent one, else a client-go-like text naming the request", () => {
    const notFound = statusError(
      "GET",
      "/x",
      404,
      JSON.stringify({ kind: "Status", message: 'deployments.apps "web" not found', reason: "NotFound" }),
    );
    expect([notFound.message, notFound.reason, notFound.status]).toEqual([
      'deployments.apps "web" not found',
      "NotFound",
      404,
    ]);
    expect(statusError("GET", "/apis/x", 503, "").message).toBe(
      "the server is currently unable to handle the request (GET /apis/x)",
    );
    expect(statusError("GET", "/apis/x", 502, "bad gateway\n").message).toBe(
      "HTTP 502: bad gateway (GET /apis/x)",
    );
  });

  it("orThrow throws the error value itself", () => {
    const error = new KubeError("api", "forbidden", 403, "Forbidden");
    expect(() => orThrow({ ok: false, error })).toThrow(error);
  });
});
