import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DelegateConfig } from "../../../../src/adapter/config/types.js";
import {
  createDelegateTransport,
  frontProxyHeaders,
  type DelegateAnswer,
  type DelegateTransport,
} from "../../../../src/adapter/delegates/client.js";
import { DelegatingProvider, DISCOVERY_CALLER } from "../../../../src/adapter/delegates/provider.js";
import { compileRoute, routeRequest } from "../../../../src/adapter/delegates/routing.js";
import type {
  Caller,
  CustomMetricsProvider,
  ExternalMetricsProvider,
} from "../../../../src/adapter/provider.js";
import { Quantity } from "../../../../src/kube/quantity.js";
import { createCa, issueCert } from "../../../../scripts/cluster/pki.js";

const delegate = (over: Partial<DelegateConfig>): DelegateConfig => ({
  name: "keda",
  endpoint: { kind: "url", url: "https://127.0.0.1:1" },
  apis: ["external", "custom"],
  ...over,
});

const ALICE: Caller = {
  name: "alice",
  groups: ["dev", "system:authenticated"],
  extra: { "authentication.kubernetes.io/pod-name": ["p-1"], scopes: ["a", "b"] },
};

describe("routing", () => {
  const routes = [
    compileRoute(delegate({ name: "keda", metrics: "s[0-9]+-.*", apis: ["external"] })),
    compileRoute(delegate({ name: "team-a", namespaces: ["team-a"] })),
    compileRoute(delegate({ name: "dd", metrics: "(?i)datadog\\..*", namespaces: ["prod"] })),
  ];
  it("sends a request to the first delegate whose API, anchored regex and namespaces admit it", () => {
    expect(routeRequest(routes, "external", "s0-rabbitmq-queue", "default")?.name).toBe("keda");
    expect(routeRequest(routes, "external", "xs0-rabbitmq", "default")?.name).toBeUndefined();
    expect(routeRequest(routes, "custom", "s0-rabbitmq-queue", "default")?.name).toBeUndefined();
    expect(routeRequest(routes, "custom", "http_requests", "team-a")?.name).toBe("team-a");
    expect(routeRequest(routes, "external", "DataDog.cpu", "prod")?.name).toBe("dd");
    expect(routeRequest(routes, "external", "datadog.cpu", "staging")?.name).toBeUndefined();
    // A cluster-scoped object is in no namespace: a namespace-only route never takes it.
    expect(routeRequest(routes, "custom", "http_requests", undefined)?.name).toBeUndefined();
  });
});

describe("front-proxy headers", () => {
  it("carry the caller's name, each group and each extra value, extra keys escaped", () => {
    expect(frontProxyHeaders(ALICE)).toEqual({
      "x-remote-user": "alice",
      "x-remote-group": ["dev", "system:authenticated"],
      "x-remote-extra-authentication.kubernetes.io%2fpod-name": ["p-1"],
      "x-remote-extra-scopes": ["a", "b"],
    });
    expect(frontProxyHeaders(undefined)).toEqual({});
  });

  describe("over TLS with our client certificate", () => {
    let server: Server;
    let port = 0;
    const seen: { headers: Record<string, string | string[] | undefined>; cn: string; url: string }[] = [];
    let caPem = "";
    let client = { certPem: "", keyPem: "" };
    beforeAll(async () => {
      const ca = await createCa("test-ca");
      const serving = await issueCert(ca, { commonName: "delegate", ips: ["127.0.0.1"], usage: "server" });
      client = await issueCert(ca, { commonName: "front-proxy-client", usage: "client" });
      caPem = ca.certPem;
      server = createServer(
        {
          cert: serving.certPem,
          key: serving.keyPem,
          ca: ca.certPem,
          requestCert: true,
          rejectUnauthorized: true,
        },
        (req, res) => {
          const peer = (req.socket as TLSSocket).getPeerCertificate();
          seen.push({ headers: req.headers, cn: String(peer.subject.CN), url: req.url ?? "" });
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ kind: "ExternalMetricValueList", items: [] }));
        },
      );
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      port = (server.address() as AddressInfo).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it("presents the certificate and sends the caller as X-Remote-* headers, no Authorization", async () => {
      const t = await createDelegateTransport(
        delegate({ endpoint: { kind: "url", url: `https://127.0.0.1:${port}/prefix` }, caBundle: caPem }),
        client,
      );
      const answer = await t.get("/apis/external.metrics.k8s.io/v1beta1/namespaces/a/m", ALICE);
      await t.close();
      expect(answer).toEqual({ ok: true, status: 200, body: { kind: "ExternalMetricValueList", items: [] } });
      expect(seen[0]?.cn).toBe("front-proxy-client");
      expect(seen[0]?.url).toBe("/prefix/apis/external.metrics.k8s.io/v1beta1/namespaces/a/m");
      expect(seen[0]?.headers["x-remote-user"]).toBe("alice");
      expect(seen[0]?.headers["x-remote-group"]).toBe("dev, system:authenticated");
      expect(seen[0]?.headers["x-remote-extra-scopes"]).toBe("a, b");
      expect(seen[0]?.headers.authorization).toBeUndefined();
    });

    it("answers no-answer with the address kept in the cause when the CA does not match", async () => {
      const other = await createCa("other-ca");
      const t = await createDelegateTransport(
        delegate({ endpoint: { kind: "url", url: `https://127.0.0.1:${port}` }, caBundle: other.certPem }),
        client,
      );
      const answer = await t.get("/apis", ALICE);
      await t.close();
      expect(answer.ok).toBe(false);
      expect(!answer.ok && answer.cause).toContain(`https://127.0.0.1:${port}/apis`);
    });
  });
});

/** A delegate in memory: answers by path, records what it was asked and as whom. */
function fakeTransport(answers: Record<string, unknown>): DelegateTransport & {
  calls: { path: string; caller?: Caller }[];
  down: boolean;
} {
  const t = {
    calls: [] as { path: string; caller?: Caller }[],
    down: false,
    get(path: string, caller?: Caller): Promise<DelegateAnswer> {
      t.calls.push({ path, caller });
      if (t.down) return Promise.resolve({ ok: false, cause: "connect ECONNREFUSED 10.0.0.7:443" });
      const body = answers[path.split("?")[0]!];
      return Promise.resolve(
        body === undefined
          ? {
              ok: true,
              status: 404,
              body: {
                kind: "Status",
                code: 404,
                message: "the server could not find the requested resource",
              },
            }
          : { ok: true, status: 200, body },
      );
    },
    close: () => Promise.resolve(),
  };
  return t;
}

const resourceList = (groupVersion: string, names: [string, boolean][]) => ({
  kind: "APIResourceList",
  groupVersion,
  resources: names.map(([name, namespaced]) => ({ name, namespaced, kind: "X", verbs: ["get"] })),
});

function ours(): CustomMetricsProvider & ExternalMetricsProvider & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    listExternalMetrics: () => [{ metric: "queue_depth" }, { metric: "s1-claimed-by-keda" }],
    listCustomMetrics: () => [
      { groupResource: { group: "", resource: "pods" }, metric: "http_requests", namespaced: true },
    ],
    getExternalMetric: (req) => {
      asked.push(req.metric);
      return Promise.resolve({
        ok: true,
        value: [
          { metricName: req.metric, metricLabels: {}, timestamp: new Date(0), value: Quantity.fromNumber(1) },
        ],
      });
    },
    getMetricByName: () => Promise.resolve({ ok: false, error: { kind: "NotFound", message: "ours" } }),
    getMetricBySelector: () => Promise.resolve({ ok: true, value: [] }),
  };
}

describe("DelegatingProvider", () => {
  const kedaAnswers = {
    "/apis/external.metrics.k8s.io/v1beta1": resourceList("external.metrics.k8s.io/v1beta1", [
      ["s0-rabbitmq-jobs", true],
      ["not-routed-to-keda", true],
    ]),
    "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/s0-rabbitmq-jobs": {
      kind: "ExternalMetricValueList",
      apiVersion: "external.metrics.k8s.io/v1beta1",
      metadata: {},
      items: [
        {
          metricName: "s0-rabbitmq-jobs",
          metricLabels: null,
          timestamp: "2026-01-02T03:04:05Z",
          value: "1500m",
        },
      ],
    },
  };
  const teamAnswers = {
    "/apis/external.metrics.k8s.io/v1beta1": resourceList("external.metrics.k8s.io/v1beta1", []),
    // Serves v1beta1 only: requests go to it in v1beta1.
    "/apis/custom.metrics.k8s.io/v1beta1": resourceList("custom.metrics.k8s.io/v1beta1", [
      ["deployments.apps/rps", true],
      ["namespaces/cost", false],
    ]),
    "/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/deployments.apps/web/rps": {
      kind: "MetricValueList",
      items: [
        {
          describedObject: { kind: "Deployment", namespace: "team-a", name: "web", apiVersion: "apps/v1" },
          metricName: "rps",
          timestamp: "2026-01-02T03:04:05Z",
          window: "1m0s",
          value: "42",
        },
      ],
    },
  };

  const build = () => {
    const keda = fakeTransport(kedaAnswers);
    const team = fakeTransport(teamAnswers);
    const mine = ours();
    const provider = new DelegatingProvider({
      ours: { custom: mine, external: mine },
      delegates: [
        {
          route: compileRoute(delegate({ name: "keda", metrics: "s[0-9]+-.*", apis: ["external"] })),
          transport: keda,
        },
        { route: compileRoute(delegate({ name: "team-a", namespaces: ["team-a"] })), transport: team },
      ],
    });
    return { keda, team, mine, provider };
  };

  it("merges the delegates' discovery lists with ours, each delegate's cut to what routes to it", async () => {
    const { provider, keda } = build();
    await provider.refresh();
    expect(provider.listExternalMetrics().map((i) => i.metric)).toEqual(["queue_depth", "s0-rabbitmq-jobs"]);
    expect(provider.listCustomMetrics()).toEqual([
      { groupResource: { group: "", resource: "pods" }, metric: "http_requests", namespaced: true },
      { groupResource: { group: "apps", resource: "deployments" }, metric: "rps", namespaced: true },
      { groupResource: { group: "", resource: "namespaces" }, metric: "cost", namespaced: false },
    ]);
    // Discovery asks as an unprivileged authenticated user, not as any caller.
    expect(keda.calls[0]?.caller).toEqual(DISCOVERY_CALLER);
    expect(provider.warnings()).toEqual([]);
  });

  it("forwards a routed request with the caller and reads the delegate's answer; others stay ours", async () => {
    const { provider, keda, mine } = build();
    await provider.refresh();
    const r = await provider.getExternalMetric({
      namespace: "default",
      metric: "s0-rabbitmq-jobs",
      metricSelector: "queue=jobs",
      caller: ALICE,
    });
    expect(r.ok && r.value.map((v) => [v.metricName, v.value.toString(), v.timestamp.toISOString()])).toEqual(
      [["s0-rabbitmq-jobs", "1500m", "2026-01-02T03:04:05.000Z"]],
    );
    expect(keda.calls.at(-1)).toEqual({
      path: "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/s0-rabbitmq-jobs?labelSelector=queue%3Djobs",
      caller: ALICE,
    });
    const local = await provider.getExternalMetric({
      namespace: "default",
      metric: "queue_depth",
      metricSelector: "",
    });
    expect(local.ok).toBe(true);
    expect(mine.asked).toEqual(["queue_depth"]);
  });

  it("forwards custom requests in the version the delegate serves, by namespace", async () => {
    const { provider, team } = build();
    await provider.refresh();
    const r = await provider.getMetricByName({
      namespace: "team-a",
      groupResource: { group: "apps", resource: "deployments" },
      name: "web",
      metric: "rps",
      metricSelector: "",
      caller: ALICE,
    });
    expect(r.ok && { ...r.value, value: r.value.value.toString() }).toEqual({
      describedObject: { kind: "Deployment", namespace: "team-a", name: "web", apiVersion: "apps/v1" },
      metric: { name: "rps" },
      timestamp: new Date("2026-01-02T03:04:05Z"),
      windowSeconds: 60,
      value: "42",
    });
    expect(team.calls.at(-1)?.path).toBe(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/deployments.apps/web/rps",
    );
    await provider.getMetricBySelector({
      namespace: "team-a",
      groupResource: { group: "", resource: "pods" },
      selector: "app=web",
      metric: "rps",
      metricSelector: "verb=GET",
      caller: ALICE,
    });
    expect(team.calls.at(-1)?.path).toBe(
      "/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/pods/*/rps?labelSelector=app%3Dweb&metricLabelSelector=verb%3DGET",
    );
  });

  it("answers 503 naming a delegate that is down, for its metrics only, keeping its last list", async () => {
    const { provider, keda } = build();
    await provider.refresh();
    keda.down = true;
    await provider.refresh();
    expect(provider.listExternalMetrics().map((i) => i.metric)).toContain("s0-rabbitmq-jobs");
    expect(provider.warnings()).toEqual(["delegate keda: unreachable"]);
    const r = await provider.getExternalMetric({
      namespace: "default",
      metric: "s0-rabbitmq-jobs",
      metricSelector: "",
    });
    expect(r).toEqual({
      ok: false,
      error: {
        kind: "Unavailable",
        message: "delegate keda unreachable",
        cause: "connect ECONNREFUSED 10.0.0.7:443",
      },
    });
    const ok = await provider.getExternalMetric({
      namespace: "default",
      metric: "queue_depth",
      metricSelector: "",
    });
    expect(ok.ok).toBe(true);
  });

  it("passes a delegate's refusal on with its code and message", async () => {
    const { provider } = build();
    const r = await provider.getExternalMetric({
      namespace: "default",
      metric: "s9-unknown",
      metricSelector: "",
    });
    expect(r).toEqual({
      ok: false,
      error: { kind: "NotFound", message: "delegate keda: the server could not find the requested resource" },
    });
  });
});
