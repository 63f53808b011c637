// The Kubernetes side of delegated auth: TokenReview and SubjectAccessReview calls, and the
// kube-system/extension-apiserver-authentication ConfigMap in which kube-apiserver publishes
// its client CA and front-proxy (requestheader) settings for extension servers.
import { z } from "zod";
import type { KubeClient } from "../../kube/client.js";
import { fail, KubeError, ok, type KubeResult } from "../../kube/errors.js";
import { subjectAccessReviewSchema } from "../../kube/objects.js";
import type { AccessReviewer } from "./authz.js";
import type { AuthenticationConfig, RequestHeaderConfig, TokenReviewer } from "./authn.js";
import type { RequestAttributes } from "./types.js";

const tokenReviewSchema = z.looseObject({
  status: z
    .looseObject({
      authenticated: z.boolean().optional(),
      error: z.string().optional(),
      user: z
        .looseObject({
          username: z.string().optional(),
          uid: z.string().optional(),
          groups: z.array(z.string()).nullable().optional(),
          extra: z.record(z.string(), z.array(z.string())).nullable().optional(),
        })
        .optional(),
    })
    .optional(),
});

export function kubeTokenReviewer(client: KubeClient): TokenReviewer {
  return async (token) => {
    const r = await client.post(
      "/apis/authentication.k8s.io/v1/tokenreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } },
      tokenReviewSchema,
    );
    if (!r.ok) return { ok: false, message: r.error.message };
    const status = r.value.status;
    if (status?.authenticated !== true || status.user?.username === undefined)
      return { ok: true, authenticated: false, error: status?.error };
    const user = {
      name: status.user.username,
      groups: status.user.groups ?? [],
      extra: status.user.extra ?? {},
    };
    return {
      ok: true,
      authenticated: true,
      user: status.user.uid ? { ...user, uid: status.user.uid } : user,
    };
  };
}

export function kubeAccessReviewer(client: KubeClient): AccessReviewer {
  return async (user, attributes) => {
    const spec: Record<string, unknown> = { user: user.name, groups: user.groups, extra: user.extra };
    if (user.uid !== undefined) spec.uid = user.uid;
    if (attributes.resourceRequest) spec.resourceAttributes = resourceAttributes(attributes);
    else spec.nonResourceAttributes = { path: attributes.path, verb: attributes.verb };
    const r = await client.post(
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec },
      subjectAccessReviewSchema,
    );
    if (!r.ok) return { ok: false, message: r.error.message };
    const status = r.value.status;
    if (status === undefined) return { ok: false, message: "SubjectAccessReview answered without a status" };
    return {
      ok: true,
      allowed: status.allowed && status.denied !== true,
      denied: status.denied,
      reason: status.reason ?? "",
    };
  };
}

function resourceAttributes(
  a: Extract<RequestAttributes, { resourceRequest: true }>,
): Record<string, string> {
  const out: Record<string, string> = {
    verb: a.verb,
    group: a.group,
    version: a.version,
    resource: a.resource,
  };
  if (a.subresource !== "") out.subresource = a.subresource;
  if (a.name !== "") out.name = a.name;
  if (a.namespace !== "") out.namespace = a.namespace;
  return out;
}

const configMapSchema = z.looseObject({ data: z.record(z.string(), z.string()).nullable().optional() });
const stringList = z.array(z.string());

/** The ConfigMap's keys, as kube-apiserver writes them (lists are JSON arrays). */
export function authenticationConfigFromConfigMap(
  data: Record<string, string>,
): KubeResult<AuthenticationConfig> {
  const list = (key: string): string[] | string => {
    const raw = data[key];
    if (raw === undefined || raw === "") return [];
    try {
      const parsed = stringList.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : `${key}: expected a JSON array of strings`;
    } catch {
      return `${key}: not JSON`;
    }
  };
  const config: AuthenticationConfig = {};
  if (data["client-ca-file"]) config.clientCA = data["client-ca-file"];
  const ca = data["requestheader-client-ca-file"];
  if (ca) {
    const fields = {
      allowedNames: list("requestheader-allowed-names"),
      usernameHeaders: list("requestheader-username-headers"),
      uidHeaders: list("requestheader-uid-headers"),
      groupHeaders: list("requestheader-group-headers"),
      extraHeaderPrefixes: list("requestheader-extra-headers-prefix"),
    };
    for (const v of Object.values(fields))
      if (typeof v === "string")
        return fail(new KubeError("decode", `extension-apiserver-authentication ${v}`));
    config.requestHeader = { clientCA: ca, ...(fields as Omit<RequestHeaderConfig, "clientCA">) };
  }
  return ok(config);
}

export async function readAuthenticationConfigMap(
  client: KubeClient,
): Promise<KubeResult<AuthenticationConfig>> {
  const r = await client.get(
    "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
    configMapSchema,
  );
  if (!r.ok) return r;
  return authenticationConfigFromConfigMap(r.value.data ?? {});
}

/** Flags override the ConfigMap field by field, as the generic apiserver's options do. */
export interface AuthenticationOverrides {
  clientCA?: string;
  requestHeaderClientCA?: string;
  requestHeaderAllowedNames?: string[];
  requestHeaderUsernameHeaders?: string[];
  requestHeaderGroupHeaders?: string[];
  requestHeaderExtraHeadersPrefix?: string[];
  requestHeaderUidHeaders?: string[];
}

export function mergeAuthenticationConfig(
  fromCluster: AuthenticationConfig,
  o: AuthenticationOverrides,
): AuthenticationConfig {
  const out: AuthenticationConfig = { ...fromCluster };
  if (o.clientCA !== undefined) out.clientCA = o.clientCA;
  const base: RequestHeaderConfig | undefined =
    fromCluster.requestHeader ??
    (o.requestHeaderClientCA !== undefined
      ? {
          allowedNames: [],
          usernameHeaders: ["X-Remote-User"],
          uidHeaders: [],
          groupHeaders: ["X-Remote-Group"],
          extraHeaderPrefixes: ["X-Remote-Extra-"],
        }
      : undefined);
  if (base !== undefined) {
    const rh: RequestHeaderConfig = { ...base };
    if (o.requestHeaderClientCA !== undefined) rh.clientCA = o.requestHeaderClientCA;
    if (o.requestHeaderAllowedNames !== undefined) rh.allowedNames = o.requestHeaderAllowedNames;
    if (o.requestHeaderUsernameHeaders !== undefined) rh.usernameHeaders = o.requestHeaderUsernameHeaders;
    if (o.requestHeaderGroupHeaders !== undefined) rh.groupHeaders = o.requestHeaderGroupHeaders;
    if (o.requestHeaderExtraHeadersPrefix !== undefined)
      rh.extraHeaderPrefixes = o.requestHeaderExtraHeadersPrefix;
    if (o.requestHeaderUidHeaders !== undefined) rh.uidHeaders = o.requestHeaderUidHeaders;
    out.requestHeader = rh;
  }
  return out;
}
