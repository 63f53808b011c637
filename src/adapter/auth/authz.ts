// Authorization by SubjectAccessReview, as delegated kube servers do: members of
// system:masters skip the review, answers are cached briefly (allowed and denied each for
// 10 s by default), and concurrent identical reviews share one call.
import { TtlCache } from "./cache.js";
import {
  PRIVILEGED_GROUP,
  type AuthorizationResult,
  type Authorizer,
  type RequestAttributes,
  type UserInfo,
} from "./types.js";

export type AccessReviewResult =
  { ok: true; allowed: boolean; denied?: boolean; reason: string } | { ok: false; message: string };

/** Calls the SubjectAccessReview API; implemented over the Kubernetes client, faked in unit tests. */
export type AccessReviewer = (user: UserInfo, attributes: RequestAttributes) => Promise<AccessReviewResult>;

export interface AuthorizerOptions {
  reviewer: AccessReviewer;
  allowTtlMs?: number;
  denyTtlMs?: number;
  onCacheLookup?: (hit: boolean) => void;
  now?: () => number;
}

function cacheKey(user: UserInfo, a: RequestAttributes): string {
  const extra = Object.keys(user.extra).length === 0 ? "" : JSON.stringify(Object.entries(user.extra).sort());
  const who = `${user.name}\u0000${user.uid ?? ""}\u0000${user.groups.join("\u0001")}\u0000${extra}`;
  const what = a.resourceRequest
    ? `r\u0000${a.verb}\u0000${a.group}\u0000${a.version}\u0000${a.resource}\u0000${a.subresource}\u0000${a.namespace}\u0000${a.name}`
    : `n\u0000${a.verb}\u0000${a.path}`;
  return `${who}\u0002${what}`;
}

export class SubjectAccessReviewAuthorizer implements Authorizer {
  private readonly cache: TtlCache<string, AuthorizationResult>;
  private readonly pending = new Map<string, Promise<AuthorizationResult>>();
  private readonly allowTtlMs: number;
  private readonly denyTtlMs: number;

  constructor(private readonly options: AuthorizerOptions) {
    this.allowTtlMs = options.allowTtlMs ?? 10_000;
    this.denyTtlMs = options.denyTtlMs ?? 10_000;
    this.cache = new TtlCache(Math.max(this.allowTtlMs, this.denyTtlMs), 8192, options.now);
  }

  authorize(
    user: UserInfo,
    attributes: RequestAttributes,
  ): AuthorizationResult | Promise<AuthorizationResult> {
    if (user.groups.includes(PRIVILEGED_GROUP)) return { decision: "allow" };
    const key = cacheKey(user, attributes);
    const cached = this.cache.get(key);
    this.options.onCacheLookup?.(cached !== undefined);
    if (cached !== undefined) return cached;
    let inflight = this.pending.get(key);
    if (inflight === undefined) {
      inflight = this.review(key, user, attributes);
      this.pending.set(key, inflight);
      void inflight.finally(() => this.pending.delete(key));
    }
    return inflight;
  }

  private async review(
    key: string,
    user: UserInfo,
    attributes: RequestAttributes,
  ): Promise<AuthorizationResult> {
    let result: AccessReviewResult;
    try {
      result = await this.options.reviewer(user, attributes);
    } catch (err) {
      result = { ok: false, message: err instanceof Error ? err.message : String(err) };
    }
    if (!result.ok) return { decision: "error", message: result.message };
    const decision: AuthorizationResult = result.allowed
      ? { decision: "allow" }
      : { decision: "deny", reason: result.reason };
    this.cache.set(key, decision, result.allowed ? this.allowTtlMs : this.denyTtlMs);
    return decision;
  }
}

/** Allows everything: for --authorization-always-allow (development) and tests. */
export const allowAll: Authorizer = { authorize: () => ({ decision: "allow" }) };
