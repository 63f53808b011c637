// The start-up gate both programs pass through: run the self-check, log its outcome once, and
// refuse to start (with an error the CLI prints as is) when a permission is missing or the
// check cannot be asked at all, rather than failing later with a bare 403.
import type { KubeConfig } from "../kube/config.js";
import type { Logger } from "../log/logger.js";
import {
  checkGivenPermissions,
  checkPermissions,
  describeCheck,
  isFullyPermitted,
  MissingPermissionsError,
  type CheckOptions,
  type PermissionReport,
} from "./check.js";
import type { ProgramName, ProgramPermissions } from "./permissions.js";

/** The self-check could not be asked (API server unreachable, no answer in time). */
export class PermissionCheckError extends Error {
  constructor(
    readonly program: ProgramName,
    readonly server: string | undefined,
    readonly reason: string,
  ) {
    super(
      `prom-hpa ${program} cannot check its permissions: the API server${server !== undefined ? ` at ${server}` : ""} did not answer (${reason}). ` +
        "Check the kubeconfig and that the API server is reachable, or pass --skip-permission-check to start without the check.",
    );
    this.name = "PermissionCheckError";
  }
}

/** What a caller may tune about the start-up check (tests inject the reviewer and identity). */
export interface PermissionCheckSettings {
  reviewer?: CheckOptions["reviewer"];
  whoAmI?: CheckOptions["whoAmI"];
  /** Give up on the whole check after this long; default 30 s. */
  timeoutMs?: number;
}

export interface StartupCheckOptions extends CheckOptions, PermissionCheckSettings {
  logger: Logger;
  /**
   * Ask about exactly these requirements instead of the program's full list (a program that
   * knows some are moot under its flags, e.g. the adapter with --authorization-always-allow).
   */
  permissions?: ProgramPermissions;
}

export const DEFAULT_PERMISSION_CHECK_TIMEOUT_MS = 30_000;

/**
 * Runs the self-check for `program` and returns the report when every permission is granted.
 * Otherwise logs one structured error and throws MissingPermissionsError (naming every missing
 * permission and the identity) or PermissionCheckError (the check could not run).
 */
export async function ensurePermissions(
  kubeConfig: KubeConfig,
  program: ProgramName,
  options: StartupCheckOptions,
): Promise<PermissionReport> {
  const { logger, timeoutMs = DEFAULT_PERMISSION_CHECK_TIMEOUT_MS, permissions, ...checkOptions } = options;
  const server = kubeConfig.getCurrentCluster()?.server;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new PermissionCheckError(program, server, `no answer within ${timeoutMs / 1000}s`)),
      timeoutMs,
    );
    timer.unref();
  });
  let report: PermissionReport;
  try {
    const asked =
      permissions === undefined
        ? checkPermissions(kubeConfig, program, checkOptions)
        : checkGivenPermissions(kubeConfig, permissions, checkOptions);
    report = await Promise.race([asked, timedOut]);
  } catch (err: unknown) {
    const failure =
      err instanceof PermissionCheckError
        ? err
        : new PermissionCheckError(program, server, err instanceof Error ? err.message : String(err));
    logger.error({ program, server, err: failure.reason }, "cannot check permissions");
    throw failure;
  } finally {
    clearTimeout(timer);
  }
  return enforcePermissionReport(report, { logger, server });
}

/**
 * Acts on a finished report: logs and returns it when complete, else logs one error and throws.
 * A report in which no review could be asked means the check did not run at all.
 */
export function enforcePermissionReport(
  report: PermissionReport,
  context: { logger: Logger; server?: string },
): PermissionReport {
  const { logger, server } = context;
  const fields = {
    program: report.program,
    user: report.user,
    serviceAccount: `${report.serviceAccount.namespace}/${report.serviceAccount.name}`,
    checked: report.checked,
  };
  if (isFullyPermitted(report)) {
    logger.info(fields, "permission check passed");
    return report;
  }
  const firstError = report.errors[0];
  if (report.checked > 0 && report.errors.length === report.checked && firstError !== undefined) {
    const failure = new PermissionCheckError(report.program, server, firstError.message);
    logger.error({ ...fields, server, err: failure.reason }, "cannot check permissions");
    throw failure;
  }
  const error = new MissingPermissionsError(report);
  logger.error(
    {
      ...fields,
      missing: report.missing.map((m) => describeCheck(m.check)),
      ...(report.errors.length > 0
        ? { unchecked: report.errors.map((e) => `${describeCheck(e.check)}: ${e.message}`) }
        : {}),
    },
    `missing ${report.missing.length} permission${report.missing.length === 1 ? "" : "s"}; not starting`,
  );
  throw error;
}
