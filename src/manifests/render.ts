// Renders everything under manifests/ from code (`npm run manifests`), and compares what is
// on disk with what the code renders (`--check`, and the unit test).
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { stringify } from "yaml";
import type { KubeObject } from "../kube/rendered-object.js";
import { adapterPermissions, autoscalerPermissions, INSTALL } from "../rbac/permissions.js";
import { metricsReaderRbac, rolesForProgram } from "../rbac/roles.js";
import { customMetricsHpa, helloWorldDeployment, helloWorldService, resourceMetricsHpa } from "./examples.js";
import {
  ADAPTER,
  adapterConfigMap,
  adapterDeployment,
  adapterPdb,
  adapterService,
  apiServices,
  autoscalerDeployment,
  autoscalerPdb,
  IMAGE,
  IMAGE_TAG,
  namespaceObject,
  serviceAccounts,
} from "./install.js";
import { MANIFESTS_README } from "./readme.js";

const HEADER =
  "# Rendered by `npm run manifests` from src/manifests/ and src/rbac/: edit the code, not this file.\n";

/** YAML documents of one file, with the generated-file header. */
export function toYaml(objects: unknown[], header: string = HEADER): string {
  return (
    header +
    objects
      .map((o) => stringify(o, { lineWidth: 0, indentSeq: true, aliasDuplicateObjects: false }))
      .join("---\n")
  );
}

const certManagerIssuer = "prom-hpa-selfsigned";

function certManagerObjects(): unknown[] {
  const dns = `${ADAPTER.name}.${INSTALL.namespace}.svc`;
  return [
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Issuer",
      metadata: { name: certManagerIssuer, namespace: INSTALL.namespace },
      spec: { selfSigned: {} },
    },
    {
      apiVersion: "cert-manager.io/v1",
      kind: "Certificate",
      metadata: { name: ADAPTER.name, namespace: INSTALL.namespace },
      spec: {
        secretName: ADAPTER.tlsSecret,
        dnsNames: [dns, `${dns}.cluster.local`],
        issuerRef: { kind: "Issuer", name: certManagerIssuer },
        privateKey: { rotationPolicy: "Always" },
      },
    },
  ];
}

/** Every file under manifests/, by path relative to it. */
export function renderManifests(): Map<string, string> {
  const files = new Map<string, string>();
  const base: Array<[string, unknown[]]> = [
    ["namespace.yaml", [namespaceObject()]],
    ["service-accounts.yaml", serviceAccounts()],
    ["rbac/adapter.yaml", rolesForProgram(adapterPermissions())],
    ["rbac/autoscaler.yaml", rolesForProgram(autoscalerPermissions())],
    ["rbac/metrics-readers.yaml", metricsReaderRbac()],
    ["adapter/config.yaml", [adapterConfigMap()]],
    ["adapter/deployment.yaml", [adapterDeployment()]],
    ["adapter/pdb.yaml", [adapterPdb()]],
    ["adapter/service.yaml", [adapterService()]],
    ["adapter/apiservices.yaml", apiServices()],
    ["autoscaler/deployment.yaml", [autoscalerDeployment()]],
    ["autoscaler/pdb.yaml", [autoscalerPdb()]],
  ];
  for (const [path, objects] of base) files.set(path, toYaml(objects));
  files.set(
    "kustomization.yaml",
    toYaml([
      {
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: base.map(([path]) => path),
        images: [{ name: IMAGE, newName: IMAGE, newTag: IMAGE_TAG }],
      },
    ]),
  );

  files.set("components/cert-manager/certificate.yaml", toYaml(certManagerObjects()));
  files.set(
    "components/cert-manager/kustomization.yaml",
    toYaml([
      {
        apiVersion: "kustomize.config.k8s.io/v1alpha1",
        kind: "Component",
        resources: ["certificate.yaml"],
        patches: [
          {
            target: { group: "apiregistration.k8s.io", kind: "APIService" },
            patch: stringify(
              [
                {
                  op: "add",
                  path: "/metadata/annotations",
                  value: { "cert-manager.io/inject-ca-from": `${INSTALL.namespace}/${ADAPTER.name}` },
                },
              ],
              { lineWidth: 0 },
            ),
          },
        ],
      },
    ]),
  );

  const examples: Array<[string, KubeObject[]]> = [
    ["examples/hello-world.yaml", [helloWorldDeployment(), helloWorldService()]],
    ["examples/hpa-resource-metrics.yaml", [resourceMetricsHpa()]],
    ["examples/hpa-custom-metrics.yaml", [customMetricsHpa()]],
  ];
  for (const [path, objects] of examples) files.set(path, toYaml(objects));
  files.set(
    "examples/kustomization.yaml",
    toYaml([
      {
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        // The seed's custom-metrics HPA; use hpa-resource-metrics.yaml instead for resource metrics only.
        resources: ["hello-world.yaml", "hpa-custom-metrics.yaml"],
      },
    ]),
  );
  files.set("README.md", MANIFESTS_README);
  return new Map([...files.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

export interface ManifestDifference {
  path: string;
  problem: "differs" | "missing" | "not rendered by the code";
}

/** Files under `dir` that are not what the code renders (changed, missing, or extra). */
export async function diffManifests(
  dir: string,
  rendered = renderManifests(),
): Promise<ManifestDifference[]> {
  const onDisk = new Set(await listFiles(dir));
  const out: ManifestDifference[] = [];
  for (const [path, content] of rendered) {
    if (!onDisk.has(path)) {
      out.push({ path, problem: "missing" });
      continue;
    }
    const actual = await readFile(join(dir, path), "utf8");
    if (actual !== content) out.push({ path, problem: "differs" });
  }
  // monitoring/ has a renderer and drift check of its own (src/manifests/monitoring/).
  for (const path of onDisk)
    if (!rendered.has(path) && !path.startsWith("monitoring/"))
      out.push({ path, problem: "not rendered by the code" });
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Writes every rendered file into `dir`; returns the paths written. */
export async function writeManifests(dir: string, rendered = renderManifests()): Promise<string[]> {
  for (const [path, content] of rendered) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  return [...rendered.keys()];
}

async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true });
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"));
}
