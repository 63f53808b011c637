// The install objects (namespace, service accounts, adapter and autoscaler Deployments,
// Service, APIServices, rules ConfigMap), built as plain data and rendered by render.ts.
import { ALL_APIS, apiServiceObjects } from "../adapter/apiservices.js";
import { labelsFor, objectMeta, type KubeObject } from "../kube/rendered-object.js";
import { INSTALL } from "../rbac/permissions.js";
import { adapterRulesConfig } from "./adapter-config.js";

/** The image both programs run; kustomization.yaml's `images:` retags it. */
export const IMAGE = "prom-hpa";
export const IMAGE_TAG = "0.1.0";

export const ADAPTER = {
  name: "prom-hpa-adapter",
  configMap: "prom-hpa-adapter-config",
  /** kubernetes.io/tls Secret with tls.crt, tls.key (and ca.crt); see manifests/README.md. */
  tlsSecret: "prom-hpa-adapter-tls",
  securePort: 6443,
  certDir: "/var/run/serving-cert",
  configDir: "/etc/prom-hpa",
  /** Where the adapter finds Prometheus by default; patch it for your cluster. */
  prometheusUrl: "http://prometheus-k8s.monitoring.svc:9090/",
} as const;

export const AUTOSCALER = {
  name: "prom-hpa-autoscaler",
  healthPort: 8080,
} as const;

/**
 * The adapter's command line: prometheus-adapter's flag names, so an operator's existing
 * Deployment args carry over.
 */
export function adapterArgs(): string[] {
  return [
    "adapter",
    `--secure-port=${ADAPTER.securePort}`,
    `--tls-cert-file=${ADAPTER.certDir}/tls.crt`,
    `--tls-private-key-file=${ADAPTER.certDir}/tls.key`,
    `--config=${ADAPTER.configDir}/config.yaml`,
    `--prometheus-url=${ADAPTER.prometheusUrl}`,
    "--metrics-relist-interval=1m",
  ];
}

/** The autoscaler's command line: leader election on a Lease, the seed's sync period and delays. */
export function autoscalerArgs(): string[] {
  return [
    "autoscaler",
    "--leader-elect",
    `--leader-elect-lease-name=${INSTALL.leaseName}`,
    "--leader-elect-lease-namespace=$(POD_NAMESPACE)",
    "--leader-elect-identity=$(POD_NAME)",
    "--sync-period=30s",
    "--upscale-delay=3m",
    "--downscale-delay=5m",
    `--metrics-bind-address=:${AUTOSCALER.healthPort}`,
  ];
}

const namespace = INSTALL.namespace;

function meta(name: string, component: string, withNamespace = true): KubeObject["metadata"] {
  return objectMeta(name, component, withNamespace ? namespace : undefined);
}

export function namespaceObject(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: namespace,
      labels: {
        "app.kubernetes.io/name": "prom-hpa",
        // Both programs run under the restricted Pod Security Standard.
        "pod-security.kubernetes.io/enforce": "restricted",
      },
    },
  };
}

export function serviceAccounts(): KubeObject[] {
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(INSTALL.adapterServiceAccount, "adapter") },
    {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: meta(INSTALL.autoscalerServiceAccount, "autoscaler"),
    },
  ];
}

const podSecurityContext = {
  runAsNonRoot: true,
  // The image's `node` user (node:20-slim).
  runAsUser: 1000,
  runAsGroup: 1000,
  seccompProfile: { type: "RuntimeDefault" },
};

const containerSecurityContext = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ["ALL"] },
};

/** Spread the replicas over nodes so one node going away leaves one running. */
function spreadOverNodes(component: string): Record<string, unknown> {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: "kubernetes.io/hostname",
            labelSelector: { matchLabels: labelsFor(component) },
          },
        },
      ],
    },
  };
}

const podEnv = [
  { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
];

export function adapterDeployment(): KubeObject {
  const labels = labelsFor("adapter");
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(ADAPTER.name, "adapter"),
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: INSTALL.adapterServiceAccount,
          securityContext: podSecurityContext,
          affinity: spreadOverNodes("adapter"),
          containers: [
            {
              name: "adapter",
              image: IMAGE,
              args: adapterArgs(),
              env: podEnv,
              ports: [{ name: "https", containerPort: ADAPTER.securePort, protocol: "TCP" }],
              // The kubelet probes without credentials: the adapter serves its health paths to
              // anyone, as kube-apiserver does.
              livenessProbe: {
                httpGet: { path: "/livez", port: "https", scheme: "HTTPS" },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: "/readyz", port: "https", scheme: "HTTPS" },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              // Deleting a pod and dropping it from the EndpointSlices the aggregator routes by
              // race: it keeps serving a few seconds before SIGTERM so no request meets a closed port.
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
              securityContext: containerSecurityContext,
              volumeMounts: [
                { name: "serving-cert", mountPath: ADAPTER.certDir, readOnly: true },
                { name: "config", mountPath: ADAPTER.configDir, readOnly: true },
                { name: "tmp", mountPath: "/tmp" },
              ],
            },
          ],
          volumes: [
            { name: "serving-cert", secret: { secretName: ADAPTER.tlsSecret } },
            { name: "config", configMap: { name: ADAPTER.configMap } },
            { name: "tmp", emptyDir: {} },
          ],
        },
      },
    },
  };
}

export function adapterService(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(ADAPTER.name, "adapter"),
    spec: {
      selector: labelsFor("adapter"),
      ports: [{ name: "https", port: 443, targetPort: "https", protocol: "TCP" }],
    },
  };
}

function pdb(name: string, component: string): KubeObject {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: meta(name, component),
    spec: { minAvailable: 1, selector: { matchLabels: labelsFor(component) } },
  };
}

export const adapterPdb = (): KubeObject => pdb(ADAPTER.name, "adapter");
export const autoscalerPdb = (): KubeObject => pdb(AUTOSCALER.name, "autoscaler");

export function adapterConfigMap(): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(ADAPTER.configMap, "adapter"),
    data: { "config.yaml": adapterRulesConfig() },
  };
}

/**
 * The APIServices. No caBundle here and never insecureSkipTLSVerify: the CA is added by an
 * overlay (`prom-hpa manifests tls`) or by cert-manager's CA injector (components/cert-manager).
 */
export function apiServices(): KubeObject[] {
  return apiServiceObjects(ALL_APIS, { namespace, service: ADAPTER.name, port: 443 });
}

export function autoscalerDeployment(): KubeObject {
  const labels = labelsFor("autoscaler");
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: meta(AUTOSCALER.name, "autoscaler"),
    spec: {
      // One leads (Lease); the other stands by and takes over within the lease duration.
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: INSTALL.autoscalerServiceAccount,
          securityContext: podSecurityContext,
          affinity: spreadOverNodes("autoscaler"),
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: "autoscaler",
              image: IMAGE,
              args: autoscalerArgs(),
              env: podEnv,
              ports: [{ name: "http", containerPort: AUTOSCALER.healthPort, protocol: "TCP" }],
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 10,
                failureThreshold: 3,
              },
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 5,
                failureThreshold: 3,
              },
              resources: { requests: { cpu: "50m", memory: "96Mi" }, limits: { memory: "256Mi" } },
              securityContext: containerSecurityContext,
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [{ name: "tmp", emptyDir: {} }],
        },
      },
    },
  };
}
