// How to reach Prometheus (or anything speaking its HTTP API: Thanos, Mimir, Cortex,
// VictoriaMetrics). Mirrors prometheus-adapter's --prometheus-* flags.

export interface PrometheusAuth {
  /** Sent as `Authorization: Bearer <token>` (--prometheus-token-file reads it from a file). */
  bearerToken?: string;
  /** Re-read on every call so a rotated token file is picked up (--prometheus-token-file). */
  bearerTokenFile?: string;
  basic?: { username: string; password: string };
}

export interface PrometheusTls {
  /** PEM CA bundle used to verify Prometheus' certificate (--prometheus-ca-file). */
  caFile?: string;
  /** PEM CA bundle given inline (from --prometheus-auth-config's certificate-authority-data). */
  caData?: string;
  /** Client certificate and key (--prometheus-client-cert / --prometheus-client-key). */
  certFile?: string;
  keyFile?: string;
  certData?: string;
  keyData?: string;
  /** Skip verification of Prometheus' certificate (insecure-skip-tls-verify). */
  insecureSkipVerify?: boolean;
}

export interface PrometheusOptions {
  /** Base URL, e.g. "http://prometheus.monitoring.svc:9090" or "https://thanos/prefix". */
  url: string;
  /** Deadline for each HTTP call to Prometheus. Default 10 000 ms. */
  timeoutMs?: number;
  auth?: PrometheusAuth;
  tls?: PrometheusTls;
  /** Extra headers on every call (--prometheus-header), e.g. X-Scope-OrgID for Mimir/Cortex. */
  headers?: Record<string, string>;
  /** Keep-alive connections per origin. Default 64. */
  connections?: number;
}
