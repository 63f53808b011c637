// Start-up self-check: ask the API server (SelfSubjectAccessReview) about every permission a
// program needs and name each one it lacks, instead of failing later with a bare 403.
import { z } from "zod";
import { KubeClient } from "../kube/client.js";
import type { KubeConfig } from "../kube/config.js";
import { orThrow } from "../kube/errors.js";
import { subjectAccessReviewSchema } from "../kube/objects.js";
import {
  checksOf,
  permissionsFor,
  type AccessCheck,
  type PermissionOptions,
  type ProgramName,
  type ProgramPermissions,
} from "./permissions.js";

/** The answer to one access review. */
export interface ReviewAnswer {
  allowed: boolean;
  /** The authorizer's reason or evaluation error, when it gave one. */
  reason?: string;
}

/** Asks the API server one question; injectable so the logic is testable without a cluster. */
export type AccessReviewer = (check: AccessCheck) => Promise<ReviewAnswer>;

export interface MissingPermission {
  check: AccessCheck;
  /** Why the program needs it (from the requirement). */
  why: string;
  /** The existing role that would grant it, when it is granted by binding one. */
  grantedBy?: string;
  reason?: string;
}

export interface PermissionReviewError {
  check: AccessCheck;
  message: string;
}

export interface PermissionReport {
  program: ProgramName;
  serviceAccount: { namespace: string; name: string };
  /** Who the API server says we are (SelfSubjectReview), when it told us. */
  user?: string;
  /** Number of access reviews asked. */
  checked: number;
  missing: MissingPermission[];
  /** Reviews that could not be asked (API unreachable, review API forbidden…). */
  errors: PermissionReviewError[];
}

export function isFullyPermitted(report: PermissionReport): boolean {
  return report.missing.length === 0 && report.errors.length === 0;
}

/** A reviewer that creates SelfSubjectAccessReviews with the given client. */
export function selfSubjectAccessReviewer(client: KubeClient): AccessReviewer {
  return async (check) => {
    const answer = await client.post(
      "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
      {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: {
          resourceAttributes: {
            verb: check.verb,
            group: check.group,
            resource: check.resource,
            ...(check.subresource !== undefined ? { subresource: check.subresource } : {}),
            ...(check.namespace !== undefined ? { namespace: check.namespace } : {}),
            ...(check.name !== undefined ? { name: check.name } : {}),
          },
        },
      },
      subjectAccessReviewSchema,
    );
    // A review that could not be asked rejects: reviewPermissions reports it per check.
    const status = orThrow(answer).status;
    if (status === undefined) throw new Error("SelfSubjectAccessReview answered without a status");
    const { allowed, reason, evaluationError } = status;
    const why = [reason, evaluationError].filter((s): s is string => s !== undefined && s !== "").join("; ");
    return { allowed, ...(why !== "" ? { reason: why } : {}) };
  };
}

/** A client for the permission check's few requests (closed by the caller). */
export async function permissionCheckClient(kubeConfig: KubeConfig): Promise<KubeClient> {
  return orThrow(
    await KubeClient.fromKubeConfig(kubeConfig, { connections: 8, userAgent: "prom-hpa-permission-check" }),
  );
}

export interface CheckOptions extends PermissionOptions {
  /** Replaces the SelfSubjectAccessReview reviewer (tests). */
  reviewer?: AccessReviewer;
  /** Replaces the SelfSubjectReview "who am I" (tests); undefined when unknown. */
  whoAmI?: () => Promise<string | undefined>;
  /** Reviews in flight at once. */
  concurrency?: number;
}

/**
 * Asks about every permission `program` needs and reports all that are missing. Never throws
 * for a denied or failed review: both land in the report for the caller to act on.
 */
export async function checkPermissions(
  kubeConfig: KubeConfig,
  program: ProgramName,
  options: CheckOptions = {},
): Promise<PermissionReport> {
  return checkGivenPermissions(kubeConfig, permissionsFor(program, options), options);
}

/** checkPermissions over a permission list the caller built (e.g. one a program's flags widened). */
export async function checkGivenPermissions(
  kubeConfig: KubeConfig,
  permissions: ProgramPermissions,
  options: CheckOptions = {},
): Promise<PermissionReport> {
  const client =
    options.reviewer === undefined || options.whoAmI === undefined
      ? await permissionCheckClient(kubeConfig)
      : undefined;
  try {
    const reviewer = options.reviewer ?? selfSubjectAccessReviewer(client as KubeClient);
    const whoAmI = options.whoAmI ?? selfSubjectReview(client as KubeClient);
    const [report, user] = await Promise.all([
      reviewPermissions(permissions, reviewer, options.concurrency),
      whoAmI().catch(() => undefined),
    ]);
    return user === undefined ? report : { ...report, user };
  } finally {
    await client?.close();
  }
}

const selfSubjectReviewSchema = z.object({
  status: z.object({ userInfo: z.object({ username: z.string().optional() }).optional() }).optional(),
});

/** The user name the API server authenticates us as (authentication.k8s.io/v1 SelfSubjectReview). */
export function selfSubjectReview(client: KubeClient): () => Promise<string | undefined> {
  return async () => {
    const answer = await client.post(
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      selfSubjectReviewSchema,
    );
    const username = orThrow(answer).status?.userInfo?.username;
    return username === "" ? undefined : username;
  };
}

/** The core of checkPermissions over any permission list and reviewer. */
export async function reviewPermissions(
  permissions: ProgramPermissions,
  reviewer: AccessReviewer,
  concurrency = 8,
): Promise<PermissionReport> {
  const questions = dedupe(
    permissions.requirements.flatMap((req) =>
      checksOf(req).map((check) => ({
        check,
        why: req.why,
        ...(req.grantedBy ? { grantedBy: describeRole(req.grantedBy) } : {}),
      })),
    ),
  );
  const answers = await mapLimit(questions, concurrency, async (q) => {
    try {
      return { q, answer: await reviewer(q.check) };
    } catch (err: unknown) {
      return { q, error: err instanceof Error ? err.message : String(err) };
    }
  });
  const missing: MissingPermission[] = [];
  const errors: PermissionReviewError[] = [];
  for (const a of answers) {
    if ("error" in a) {
      errors.push({ check: a.q.check, message: a.error ?? "unknown error" });
    } else if (!a.answer.allowed) {
      missing.push({ ...a.q, ...(a.answer.reason !== undefined ? { reason: a.answer.reason } : {}) });
    }
  }
  return {
    program: permissions.program,
    serviceAccount: permissions.serviceAccount,
    checked: questions.length,
    missing,
    errors,
  };
}

/** `update deployments/scale (apps) in all namespaces` — how one access check reads in messages. */
export function describeCheck(check: AccessCheck): string {
  const resource =
    check.subresource !== undefined ? `${check.resource}/${check.subresource}` : check.resource;
  const group = check.group === "" ? "core" : check.group;
  const named = check.name !== undefined ? ` "${check.name}"` : "";
  const where = check.namespace !== undefined ? `in namespace ${check.namespace}` : "cluster-wide";
  return `${check.verb} ${resource}${named} (${group}) ${where}`;
}

/**
 * One message naming every missing permission (and every review that failed), or `undefined`
 * when nothing is missing.
 */
export function formatPermissionReport(report: PermissionReport): string | undefined {
  if (isFullyPermitted(report)) return undefined;
  const sa = `${report.serviceAccount.namespace}/${report.serviceAccount.name}`;
  const lines: string[] = [];
  const n = report.missing.length;
  if (n > 0) {
    lines.push(
      `prom-hpa ${report.program} lacks ${n} of the ${report.checked} permission${report.checked === 1 ? "" : "s"} it needs:`,
    );
    for (const m of report.missing) {
      const via = m.grantedBy !== undefined ? `; granted by binding ${m.grantedBy}` : "";
      lines.push(`  - ${describeCheck(m.check)} — to ${m.why}${via}`);
    }
  }
  if (report.errors.length > 0) {
    lines.push(
      `prom-hpa ${report.program} could not check ${report.errors.length} permission${report.errors.length === 1 ? "" : "s"}:`,
    );
    for (const e of report.errors) lines.push(`  - ${describeCheck(e.check)}: ${e.message}`);
  }
  const who =
    report.user !== undefined ? `${report.user} (the identity it runs as)` : "the identity it runs as";
  lines.push(
    `Grant them to ${who}; in-cluster that is ServiceAccount ${sa}, which \`kubectl apply -k manifests/\` sets up with RBAC rendered from the same list.`,
  );
  return lines.join("\n");
}

function describeRole(role: { kind: string; name: string; namespace?: string }): string {
  return role.namespace !== undefined
    ? `${role.kind} ${role.namespace}/${role.name}`
    : `${role.kind} ${role.name}`;
}

function checkKey(c: AccessCheck): string {
  return [c.verb, c.group, c.resource, c.subresource ?? "", c.namespace ?? "", c.name ?? ""].join("|");
}

function dedupe<T extends { check: AccessCheck }>(items: T[]): T[] {
  const seen = new Set<string>();
  return items.filter((i) => {
    const k = checkKey(i.check);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}

/** Thrown by callers that refuse to start without every permission; carries the report. */
export class MissingPermissionsError extends Error {
  constructor(readonly report: PermissionReport) {
    super(formatPermissionReport(report) ?? `prom-hpa ${report.program} has every permission it needs`);
    this.name = "MissingPermissionsError";
  }
}
