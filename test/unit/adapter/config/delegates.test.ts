import { describe, expect, it } from "vitest";
import { formatIssue, parseConfig } from "../../../../src/adapter/config/load.js";

const issues = (yaml: string): string[] => {
  const r = parseConfig(yaml);
  return r.ok ? [] : r.issues.map(formatIssue);
};

const PEM = "-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n";

describe("delegates: and backends: sections", () => {
  it("reads a delegate by Service with a CA bundle, defaulting port 443 and both APIs", () => {
    const r = parseConfig(`
delegates:
- name: keda
  service: {namespace: keda, name: keda-operator-metrics-apiserver}
  caBundle: "${PEM}"
  metrics: "s[0-9]+-.*"
`);
    expect(r.ok && r.config.delegates).toEqual([
      {
        name: "keda",
        endpoint: { kind: "service", namespace: "keda", name: "keda-operator-metrics-apiserver", port: 443 },
        caBundle: PEM.replace(/\\n/g, "\n"),
        apis: ["external", "custom"],
        metrics: "s[0-9]+-.*",
      },
    ]);
  });

  it("names the field of each mistake in a delegate", () => {
    expect(
      issues(`
delegates:
- name: keda
  service: {name: x}
  caFile: /ca.pem
  metrics: "(?<=a)b"
  apis: [external, resource]
`),
    ).toEqual([
      "delegates[0].service.namespace: required",
      'delegates[0].apis[1]: Invalid option: expected one of "external"|"custom"',
    ]);
    expect(
      issues(`delegates: [{name: keda, url: "https://k:6443", caFile: /ca, metrics: "(?<=a)b"}]`),
    ).toEqual([expect.stringMatching(/^delegates\[0\]\.metrics: invalid regex "\(\?<=a\)b": /)]);
    expect(issues(`delegates: [{name: keda, url: "http://k:6443", caFile: /ca, namespaces: [a]}]`)).toEqual([
      "delegates[0].url: must be https://",
    ]);
    expect(issues(`delegates: [{name: keda, url: "https://k", namespaces: [a]}]`)).toEqual([
      "delegates[0].caBundle: required (or caFile) to verify the delegate's serving certificate",
    ]);
    expect(issues(`delegates: [{name: keda, url: "https://k", caFile: /ca}]`)).toEqual([
      "delegates[0].metrics: required (or namespaces): which requests go to this delegate",
    ]);
    expect(
      issues(`delegates: [{name: Keda, caFile: /ca, namespaces: [a], url: "https://k", bogus: 1}]`),
    ).toEqual([
      "delegates[0].name: must be a DNS label (lower case letters, digits, '-')",
      "delegates[0].bogus: unknown field",
    ]);
    expect(
      issues(
        `delegates: [{name: a, url: "https://k", caFile: /ca, namespaces: [x]}, {name: a, url: "https://j", caFile: /ca, namespaces: [y]}]`,
      ),
    ).toEqual(['delegates[1].name: "a" is used twice']);
  });

  it("reads backends and points rules at them; an unknown backend is refused naming the rule", () => {
    const yaml = (backend: string) => `
backends:
- name: tenant-b
  url: http://mimir:8080/prometheus
  headers: {X-Scope-OrgID: team-b}
  bearerTokenFile: /var/run/token
externalRules:
- seriesQuery: '{__name__="queue_depth"}'
  metricsQuery: 'sum(<<.Series>>{<<.LabelMatchers>>})'
  backend: ${backend}
`;
    const r = parseConfig(yaml("tenant-b"));
    expect(r.ok && r.config.backends).toEqual([
      {
        name: "tenant-b",
        url: "http://mimir:8080/prometheus",
        headers: { "X-Scope-OrgID": "team-b" },
        bearerTokenFile: "/var/run/token",
      },
    ]);
    expect(r.ok && r.config.externalRules[0]?.backend).toBe("tenant-b");
    expect(issues(yaml("tenant-c"))).toEqual([
      'externalRules[0].backend: no backend named "tenant-c" in backends (declared: tenant-b)',
    ]);
    expect(issues(`backends: [{name: b, url: "mimir:8080"}]`)).toEqual([
      "backends[0].url: must be http:// or https://",
    ]);
    expect(issues(`backends: [{name: b}]`)).toEqual(["backends[0].url: required"]);
  });

  it("leaves a file without the sections as it was: no delegates or backends keys", () => {
    const r = parseConfig(`rules: []`);
    expect(r).toEqual({ ok: true, config: { rules: [], externalRules: [] } });
  });
});
