import type { PrometheusOptions } from "./options.js";

/** prometheus-adapter's Prometheus flags, as the CLI parsed them (all optional but url). */
export interface PrometheusFlags {
  url: string; // --prometheus-url
  timeoutMs?: number;
  authConfigFile?: string; // --prometheus-auth-config (kubeconfig-format file)
  tokenFile?: string; // --prometheus-token-file
  caFile?: string; // --prometheus-ca-file
  clientCertFile?: string; // --prometheus-client-cert
  clientKeyFile?: string; // --prometheus-client-key
  insecureSkipTlsVerify?: boolean;
  headers?: string[]; // --prometheus-header "Name=Value" (repeatable)
}

export async function prometheusOptionsFromFlags(
  flags: PrometheusFlags,
): Promise<{ ok: true; options: PrometheusOptions } | { ok: false; message: string }> {
  return { ok: true, options: { url: flags.url, timeoutMs: flags.timeoutMs } };
}
