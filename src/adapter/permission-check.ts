// The adapter's start-up permission check: which requirements apply under its flags, which
// resources its rules name, and which kubeconfig each question is asked with.
import type { Logger } from "../log/logger.js";
import type { KubeClient } from "../kube/client.js";
import { loadKubeConfig } from "../kube/config.js";
import { orThrow } from "../kube/errors.js";
import {
  permissionCheckClient,
  selfSubjectAccessReviewer,
  selfSubjectReview,
  type AccessReviewer,
} from "../rbac/check.js";
import { adapterPermissions, type GroupResource, type ProgramPermissions } from "../rbac/permissions.js";
import { ensurePermissions, type PermissionCheckSettings } from "../rbac/startup.js";
import type { MetricsDiscoveryConfig } from "./config/types.js";
import type { ResourceMapper } from "./provider.js";
import { resolveResource } from "./rules/resources.js";

/**
 * The resources the rules' overrides name, as the cluster serves them (plural, with group).
 * Label templates can name any resource a series happens to carry, so only overrides are known
 * before the first query; a name the cluster does not serve is left out (nothing to ask about).
 */
export function resourcesNamedByRules(
  config: MetricsDiscoveryConfig,
  mapper: ResourceMapper,
): GroupResource[] {
  const mappings = [
    ...config.rules.map((r) => r.resources),
    ...config.externalRules.map((r) => r.resources),
    ...(config.resourceRules
      ? [config.resourceRules.cpu.resources, config.resourceRules.memory.resources]
      : []),
  ];
  const found = new Map<string, GroupResource>();
  for (const m of mappings) {
    for (const gr of Object.values(m.overrides)) {
      const resolved = resolveResource(mapper, gr);
      if (resolved)
        found.set(
          `${resolved.groupResource.group}/${resolved.groupResource.resource}`,
          resolved.groupResource,
        );
    }
  }
  return [...found.values()];
}

export interface AdapterPermissionCheckInput {
  kubeconfig?: string;
  listerKubeconfig?: string;
  authenticationKubeconfig?: string;
  authorizationKubeconfig?: string;
  authenticationSkipLookup?: boolean;
  authorizationAlwaysAllow?: boolean;
  /** Resources the rules name (resourcesNamedByRules). */
  extraResources: GroupResource[];
  settings: PermissionCheckSettings;
  logger: Logger;
}

/**
 * Asks about what the adapter will do under these flags, each question with the kubeconfig
 * that will make those calls; throws (after logging once) when anything is missing.
 */
export async function checkAdapterPermissions(input: AdapterPermissionCheckInput): Promise<void> {
  const listerPath = input.listerKubeconfig ?? input.kubeconfig;
  const authnPath = input.authenticationKubeconfig ?? input.kubeconfig;
  const authzPath = input.authorizationKubeconfig ?? input.authenticationKubeconfig ?? input.kubeconfig;
  const full = adapterPermissions({ extraResources: input.extraResources });
  const permissions: ProgramPermissions = {
    ...full,
    requirements: full.requirements.filter((r) => {
      if (r.rule.resources.includes("subjectaccessreviews")) return input.authorizationAlwaysAllow !== true;
      if (r.rule.resources.includes("configmaps")) return input.authenticationSkipLookup !== true;
      return true;
    }),
  };
  const listerKc = orThrow(await loadKubeConfig(listerPath));
  // One client per kubeconfig asked with, opened on first use and closed when the check ends.
  const clients = new Map<string, Promise<KubeClient>>();
  const clientFor = (path: string | undefined): Promise<KubeClient> => {
    const key = path ?? "";
    let c = clients.get(key);
    if (c === undefined) {
      c = (async () =>
        permissionCheckClient(key === (listerPath ?? "") ? listerKc : orThrow(await loadKubeConfig(path))))();
      clients.set(key, c);
    }
    return c;
  };
  const reviewerFor =
    (path: string | undefined): AccessReviewer =>
    async (check) =>
      selfSubjectAccessReviewer(await clientFor(path))(check);
  // TokenReviews and the authentication ConfigMap go through the authentication kubeconfig,
  // SubjectAccessReviews through the authorization one, everything else through the lister's.
  const routed: AccessReviewer = (check) => {
    if (
      check.group === "authentication.k8s.io" ||
      (check.resource === "configmaps" && check.namespace === "kube-system")
    )
      return reviewerFor(authnPath)(check);
    if (check.group === "authorization.k8s.io") return reviewerFor(authzPath)(check);
    return reviewerFor(listerPath)(check);
  };
  try {
    await ensurePermissions(listerKc, "adapter", {
      ...input.settings,
      reviewer: input.settings.reviewer ?? routed,
      whoAmI: input.settings.whoAmI ?? (async () => selfSubjectReview(await clientFor(listerPath))()),
      permissions,
      logger: input.logger,
    });
  } finally {
    for (const c of clients.values()) await c.then((client) => client.close()).catch(() => undefined);
  }
}
