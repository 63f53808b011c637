// `prom-hpa manifests tls`: a CA and a serving pair for the adapter, and a kustomize overlay
// that installs them: the Secret the adapter mounts and the caBundle of every APIService.
import { mkdir, writeFile } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { generate } from "selfsigned";
import { stringify } from "yaml";
import { INSTALL } from "../rbac/permissions.js";
import { ADAPTER } from "./install.js";
import { toYaml } from "./render.js";

export interface ServingPair {
  caCert: string;
  cert: string;
  key: string;
}

export interface TlsOptions {
  /** The Service the aggregator dials; the certificate names `<service>.<namespace>.svc`. */
  serviceName?: string;
  namespace?: string;
  validDays?: number;
  /** Certificate validity starts here (tests pass a fixed date). */
  now?: Date;
}

/** DNS names the serving certificate must carry for the aggregator to accept it. */
export function servingDnsNames(serviceName: string, namespace: string): string[] {
  const svc = `${serviceName}.${namespace}.svc`;
  return [svc, `${svc}.cluster.local`, serviceName, `${serviceName}.${namespace}`];
}

/** A fresh CA and a serving certificate it signed, for the adapter's Service. */
export async function generateServingPair(options: TlsOptions = {}): Promise<ServingPair> {
  const serviceName = options.serviceName ?? ADAPTER.name;
  const namespace = options.namespace ?? INSTALL.namespace;
  const notBeforeDate = options.now ?? new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + (options.validDays ?? 365) * 86_400_000);
  const ca = await generate([{ name: "commonName", value: "prom-hpa adapter CA" }], {
    // selfsigned defaults to sha1, which OpenSSL 3 (the image's Node.js) refuses: "ca md too weak".
    algorithm: "sha256",
    keyType: "ec",
    curve: "P-256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const names = servingDnsNames(serviceName, namespace);
  const serving = await generate([{ name: "commonName", value: names[0] }], {
    algorithm: "sha256",
    keyType: "ec",
    curve: "P-256",
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames: names.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return { caCert: ca.cert, cert: serving.cert, key: serving.private };
}

/** The overlay's kustomization: base + Secret + caBundle on every APIService. */
export function tlsOverlayKustomization(
  basePath: string,
  caCert: string,
  namespace: string = INSTALL.namespace,
): string {
  const caBundle = Buffer.from(caCert).toString("base64");
  return toYaml(
    [
      {
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: [basePath],
        generatorOptions: { disableNameSuffixHash: true },
        secretGenerator: [
          {
            name: ADAPTER.tlsSecret,
            namespace,
            type: "kubernetes.io/tls",
            files: ["tls.crt", "tls.key", "ca.crt"],
          },
        ],
        patches: [
          {
            target: { group: "apiregistration.k8s.io", kind: "APIService" },
            patch: stringify([{ op: "add", path: "/spec/caBundle", value: caBundle }], { lineWidth: 0 }),
          },
        ],
      },
    ],
    "# Written by `prom-hpa manifests tls`: holds the adapter's serving pair; keep this folder out of git.\n",
  );
}

/**
 * Writes the overlay into `outDir`: tls.crt, tls.key (mode 0600), ca.crt and a
 * kustomization.yaml whose base is `baseDir` (relative to the overlay).
 */
export async function writeTlsOverlay(
  outDir: string,
  baseDir: string,
  options: TlsOptions = {},
): Promise<string[]> {
  const pair = await generateServingPair(options);
  await mkdir(outDir, { recursive: true });
  const base = relative(resolve(outDir), resolve(baseDir)).split(sep).join("/") || ".";
  const files: Array<[string, string, number]> = [
    ["tls.crt", pair.cert, 0o644],
    ["tls.key", pair.key, 0o600],
    ["ca.crt", pair.caCert, 0o644],
    ["kustomization.yaml", tlsOverlayKustomization(base, pair.caCert, options.namespace), 0o644],
  ];
  for (const [name, content, mode] of files) await writeFile(join(outDir, name), content, { mode });
  return files.map(([name]) => join(outDir, name));
}
