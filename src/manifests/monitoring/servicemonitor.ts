// prometheus-operator scrape targets: a ServiceMonitor per program, selecting the install's
// Service labels, and the Service the autoscaler's /metrics needs (the install has none: nothing
// else calls the autoscaler).
import { AUTOSCALER } from "../install.js";
import { INSTALL } from "../../rbac/permissions.js";
import { labelsFor, objectMeta } from "../../kube/rendered-object.js";
import { JOBS } from "./targets.js";

const METRICS_PORT = "metrics";

/** A Service in front of the autoscaler replicas' health/metrics port; its name is the scrape job. */
export function autoscalerMetricsService(): unknown {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: objectMeta(JOBS.autoscaler, "autoscaler", INSTALL.namespace),
    spec: {
      selector: labelsFor("autoscaler"),
      ports: [{ name: METRICS_PORT, port: AUTOSCALER.healthPort, targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function serviceMonitors(): unknown[] {
  const monitor = (component: "adapter" | "autoscaler", endpoint: Record<string, unknown>) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: objectMeta(`prom-hpa-${component}`, "monitoring", INSTALL.namespace),
    spec: {
      selector: { matchLabels: labelsFor(component) },
      namespaceSelector: { matchNames: [INSTALL.namespace] },
      endpoints: [{ path: "/metrics", interval: "30s", ...endpoint }],
    },
  });
  return [
    monitor("adapter", {
      port: "https",
      scheme: "https",
      // /metrics is authenticated and authorized like kube-apiserver's: Prometheus sends its
      // service account token and needs `get` on the nonResourceURL /metrics.
      bearerTokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token",
      // The serving certificate is issued for the Service name, not the pod address scraped.
      tlsConfig: { insecureSkipVerify: true },
    }),
    monitor("autoscaler", {
      port: METRICS_PORT,
      scheme: "http",
      // The autoscaler's per-HPA series carry the HPA's `namespace`; keep it rather than
      // renaming it exported_namespace.
      honorLabels: true,
    }),
  ];
}
