// The certificates a production control plane has, made in-process (selfsigned, EC P-256):
// a cluster CA (serving and client certificates), a separate front-proxy CA for the
// aggregation layer, a service-account signing key pair, and a serving CA that tests use
// for their own aggregated API servers.
import { generateKeyPairSync } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { generate } from "selfsigned";

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertFiles {
  certFile: string;
  keyFile: string;
}

const DAY_MS = 24 * 3600 * 1000;

function validity(days: number): { notBeforeDate: Date; notAfterDate: Date } {
  // Back-dated an hour so a slightly skewed clock never sees a "not yet valid" certificate.
  const now = Date.now();
  return { notBeforeDate: new Date(now - 3600 * 1000), notAfterDate: new Date(now + days * DAY_MS) };
}

export async function createCa(commonName: string): Promise<KeyPair> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(3650),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

export interface LeafRequest {
  commonName: string;
  /** Kubernetes reads a client certificate's O entries as the user's groups. */
  organizations?: string[];
  dnsNames?: string[];
  ips?: string[];
  usage: "server" | "client" | "both";
}

export async function issueCert(ca: KeyPair, req: LeafRequest): Promise<KeyPair> {
  const attrs = [{ name: "commonName", value: req.commonName }];
  for (const org of req.organizations ?? []) attrs.push({ name: "organizationName", value: org });
  const altNames = [
    ...(req.dnsNames ?? []).map((value) => ({ type: 2 as const, value })),
    ...(req.ips ?? []).map((ip) => ({ type: 7 as const, ip })),
  ];
  const pems = await generate(attrs, {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(365),
    ca: { key: ca.keyPem, cert: ca.certPem },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: req.usage !== "client", clientAuth: req.usage !== "server" },
      ...(altNames.length > 0 ? [{ name: "subjectAltName" as const, altNames }] : []),
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}

/** The names the aggregator checks a server's certificate against: `<service>.<namespace>.svc`. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, "localhost"];
}

export async function writeKeyPair(dir: string, name: string, pair: KeyPair): Promise<CertFiles> {
  await mkdir(dir, { recursive: true });
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, pair.certPem);
  await writeFile(keyFile, pair.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}

export async function readKeyPair(files: CertFiles): Promise<KeyPair> {
  return { certPem: await readFile(files.certFile, "utf8"), keyPem: await readFile(files.keyFile, "utf8") };
}

/** Every file of the control plane's PKI, as the components' flags name them. */
export interface PkiFiles {
  dir: string;
  ca: CertFiles;
  frontProxyCa: CertFiles;
  frontProxyClient: CertFiles;
  /** Serving CA handed to tests for their own aggregated API servers (see issueServingCert). */
  servingCa: CertFiles;
  apiserver: CertFiles;
  admin: CertFiles;
  controllerManager: CertFiles;
  scheduler: CertFiles;
  kwok: CertFiles;
  /** What kube-apiserver presents to a real kubelet (logs, exec, port-forward). */
  apiserverKubeletClient: CertFiles;
  /** Serving certificate for loopback health/metrics endpoints (controller-manager, scheduler). */
  loopbackServing: CertFiles;
  serviceAccountKeyFile: string;
  serviceAccountPubFile: string;
}

export const FRONT_PROXY_CLIENT_NAME = "front-proxy-client";
export const ADMIN_USER = "kubernetes-admin";

/** The apiserver's in-cluster names plus loopback; the first Service IP of the range. */
export const APISERVER_DNS_NAMES = [
  "localhost",
  "kubernetes",
  "kubernetes.default",
  "kubernetes.default.svc",
  "kubernetes.default.svc.cluster.local",
];

export async function createPki(dir: string, serviceClusterIp: string): Promise<PkiFiles> {
  const [ca, frontProxyCa, servingCa] = await Promise.all([
    createCa("prom-hpa-local-ca"),
    createCa("prom-hpa-local-front-proxy-ca"),
    createCa("prom-hpa-local-serving-ca"),
  ]);
  const [
    frontProxyClient,
    apiserver,
    admin,
    controllerManager,
    scheduler,
    kwok,
    loopbackServing,
    apiserverKubeletClient,
  ] = await Promise.all([
    issueCert(frontProxyCa, { commonName: FRONT_PROXY_CLIENT_NAME, usage: "client" }),
    issueCert(ca, {
      commonName: "kube-apiserver",
      dnsNames: APISERVER_DNS_NAMES,
      ips: ["127.0.0.1", serviceClusterIp],
      usage: "server",
    }),
    issueCert(ca, { commonName: ADMIN_USER, organizations: ["system:masters"], usage: "client" }),
    issueCert(ca, { commonName: "system:kube-controller-manager", usage: "client" }),
    issueCert(ca, { commonName: "system:kube-scheduler", usage: "client" }),
    // kwok writes node and pod status and node leases for many nodes; an admin identity keeps it simple.
    issueCert(ca, { commonName: "kwok", organizations: ["system:masters"], usage: "client" }),
    issueCert(ca, {
      commonName: "localhost",
      dnsNames: ["localhost"],
      ips: ["127.0.0.1"],
      usage: "server",
    }),
    issueCert(ca, {
      commonName: "kube-apiserver-kubelet-client",
      organizations: ["system:masters"],
      usage: "client",
    }),
  ]);
  const sa = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const serviceAccountKeyFile = join(dir, "sa.key");
  const serviceAccountPubFile = join(dir, "sa.pub");
  await mkdir(dir, { recursive: true });
  await writeFile(serviceAccountKeyFile, sa.privateKey.export({ type: "pkcs8", format: "pem" }), {
    mode: 0o600,
  });
  await writeFile(serviceAccountPubFile, sa.publicKey.export({ type: "spki", format: "pem" }));
  return {
    dir,
    ca: await writeKeyPair(dir, "ca", ca),
    frontProxyCa: await writeKeyPair(dir, "front-proxy-ca", frontProxyCa),
    frontProxyClient: await writeKeyPair(dir, "front-proxy-client", frontProxyClient),
    servingCa: await writeKeyPair(dir, "serving-ca", servingCa),
    apiserver: await writeKeyPair(dir, "apiserver", apiserver),
    admin: await writeKeyPair(dir, "admin", admin),
    controllerManager: await writeKeyPair(dir, "controller-manager", controllerManager),
    scheduler: await writeKeyPair(dir, "scheduler", scheduler),
    kwok: await writeKeyPair(dir, "kwok", kwok),
    apiserverKubeletClient: await writeKeyPair(dir, "apiserver-kubelet-client", apiserverKubeletClient),
    loopbackServing: await writeKeyPair(dir, "loopback-serving", loopbackServing),
    serviceAccountKeyFile,
    serviceAccountPubFile,
  };
}

export interface ServingCert extends KeyPair, CertFiles {
  caPem: string;
  caFile: string;
}

/**
 * A serving certificate for an aggregated API server on this machine, valid for
 * `<service>.<namespace>.svc` (what the aggregator verifies), signed by `servingCa`; `caPem`
 * goes into the APIService's caBundle. Files are written under `dir`.
 */
export async function issueServingCert(
  servingCa: CertFiles,
  opts: { service: string; namespace: string; dir: string },
): Promise<ServingCert> {
  const ca = await readKeyPair(servingCa);
  const pair = await issueCert(ca, {
    commonName: `${opts.service}.${opts.namespace}.svc`,
    dnsNames: serviceDnsNames(opts.service, opts.namespace),
    ips: ["127.0.0.1"],
    usage: "server",
  });
  const files = await writeKeyPair(opts.dir, `${opts.namespace}-${opts.service}`, pair);
  return { ...pair, ...files, caPem: ca.certPem, caFile: servingCa.certFile };
}
