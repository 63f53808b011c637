// Kubernetes `Status` objects: every failure the adapter answers is one of these, so kubectl,
// the aggregator and the HPA controller read a reason and code they understand.
import type { ProviderError } from "../provider.js";

export type StatusReason =
  | "BadRequest"
  | "Unauthorized"
  | "Forbidden"
  | "NotFound"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "RequestHeaderFieldsTooLarge"
  | "InternalError"
  | "ServiceUnavailable";

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  RequestHeaderFieldsTooLarge: 431,
  InternalError: 500,
  ServiceUnavailable: 503,
};

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: { reason?: string; message: string; field?: string }[];
}

export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure";
  message: string;
  reason: StatusReason;
  details?: StatusDetails;
  code: number;
}

export function failure(reason: StatusReason, message: string, details?: StatusDetails): Status {
  const status: Status = {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Failure",
    message,
    reason,
    code: CODES[reason],
  };
  if (details !== undefined) status.details = details;
  return status;
}

const PROVIDER_REASONS: Record<ProviderError["kind"], StatusReason> = {
  NotFound: "NotFound",
  BadRequest: "BadRequest",
  Forbidden: "Forbidden",
  Unavailable: "ServiceUnavailable",
  Internal: "InternalError",
};

/** The Status a provider's error becomes; `details` names what was asked for. */
export function statusFromProviderError(error: ProviderError, details?: StatusDetails): Status {
  return failure(PROVIDER_REASONS[error.kind], error.message, details);
}
