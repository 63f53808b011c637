// The one error of the Kubernetes client layer. Calls answer values (KubeResult), never throw:
// the adapter turns most failures into an HTTP answer of its own and the autoscaler into a
// condition or a retry, so each caller must see the failure where it happens and decide. The
// error is a class (not a plain object) so that the autoscaler's ports, whose contract is to
// reject, can throw this same value unchanged (`orThrow`) and keep its fields and stack.

/**
 * - "network": no answer (connection refused/reset, TLS, timeout, aborted);
 * - "api": the server answered with a non-2xx status (`status`, and the Status `reason` when sent);
 * - "decode": a 2xx answer that is not the JSON the caller expected;
 * - "config": the client could not be set up (kubeconfig, credentials).
 */
export type KubeErrorKind = "network" | "api" | "decode" | "config";

export class KubeError extends Error {
  override readonly name = "KubeError";
  constructor(
    readonly kind: KubeErrorKind,
    message: string,
    /** the HTTP status; 0 when the server did not answer */
    readonly status = 0,
    /** metav1.Status reason ("NotFound", "Conflict", "AlreadyExists", "Expired", …) when the server sent one */
    readonly reason?: string,
  ) {
    super(message);
  }
}

export type KubeResult<T> = { ok: true; value: T } | { ok: false; error: KubeError };

export function ok<T>(value: T): KubeResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(error: KubeError): KubeResult<T> {
  return { ok: false, error };
}

/** The value, or the error thrown — for callers whose own contract is a rejected promise. */
export function orThrow<T>(r: KubeResult<T>): T {
  if (!r.ok) throw r.error;
  return r.value;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof KubeError && err.status === 404;
}
export function isConflict(err: unknown): boolean {
  return err instanceof KubeError && err.status === 409;
}
export function isAlreadyExists(err: unknown): boolean {
  return isConflict(err) && (err as KubeError).reason === "AlreadyExists";
}
/** The resourceVersion asked for is older than the server keeps: list again. */
export function isGone(err: unknown): boolean {
  return (
    err instanceof KubeError && (err.status === 410 || err.reason === "Expired" || err.reason === "Gone")
  );
}

const GENERIC_MESSAGES: Record<number, string> = {
  401: "Unauthorized",
  403: "Forbidden",
  404: "the server could not find the requested resource",
  409: "the object has been modified",
  410: "the resource version is too old",
  429: "the server has received too many requests",
  500: "an error on the server has prevented the request from succeeding",
  503: "the server is currently unable to handle the request",
};

/**
 * The error a non-2xx answer becomes: the Status message when the server sent a Status (as
 * client-go reports it), otherwise a generic text with the start of the body and the request.
 */
export function statusError(method: string, path: string, status: number, text: string): KubeError {
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (typeof json === "object" && json !== null && "kind" in json && json.kind === "Status") {
    const message = "message" in json && typeof json.message === "string" ? json.message : "";
    const reason = "reason" in json && typeof json.reason === "string" ? json.reason : undefined;
    return new KubeError(
      "api",
      message !== "" ? message : `${method} ${path}: HTTP ${status}`,
      status,
      reason,
    );
  }
  const snippet = text.trim().slice(0, 200);
  const generic = GENERIC_MESSAGES[status] ?? `HTTP ${status}`;
  return new KubeError(
    "api",
    `${generic}${snippet !== "" ? `: ${snippet}` : ""} (${method} ${path})`,
    status,
    undefined,
  );
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
