// Our adapter in this process, serving on a loopback port with a certificate for
// <service>.<namespace>.svc issued by the harness's serving CA (what the aggregator verifies
// through the APIService's caBundle). Shared by the `adapter-inprocess` addon and the e2e files;
// registering it is scripts/cluster/aggregator.ts.
import type { Logger } from "../../src/log/logger.js";
import { startAdapter, type AdapterOptions, type RunningAdapter } from "../../src/adapter/index.js";
import type { ClusterHandle } from "./handle.js";

export interface LocalAdapterOptions {
  namespace: string;
  service: string;
  prometheus: NonNullable<AdapterOptions["prometheus"]>;
  logger: Logger;
  /** More adapter options (e.g. the delegate client certificate). */
  extra?: Partial<AdapterOptions>;
}

export async function startLocalAdapter(
  cluster: ClusterHandle,
  opts: LocalAdapterOptions,
): Promise<{ adapter: RunningAdapter; caPem: string }> {
  const cert = await cluster.issueServingCert({ service: opts.service, namespace: opts.namespace });
  const adapter = await startAdapter({
    bindAddress: "127.0.0.1",
    securePort: 0,
    tlsCertFile: cert.certFile,
    tlsPrivateKeyFile: cert.keyFile,
    kubeconfig: cluster.kubeconfigPath,
    prometheus: opts.prometheus,
    logger: opts.logger,
    ...opts.extra,
  });
  return { adapter, caPem: cert.caPem };
}
