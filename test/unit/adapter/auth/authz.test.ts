import { describe, expect, it } from "vitest";
import { SubjectAccessReviewAuthorizer, type AccessReviewer } from "../../../../src/adapter/auth/authz.js";
import { requestAttributes } from "../../../../src/adapter/auth/attributes.js";
import {
  authenticationConfigFromConfigMap,
  mergeAuthenticationConfig,
} from "../../../../src/adapter/auth/kube.js";
import type { UserInfo } from "../../../../src/adapter/auth/types.js";

const hpa: UserInfo = {
  name: "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
  groups: ["system:authenticated"],
  extra: {},
};
const podsMetric = requestAttributes(
  "GET",
  "/apis/custom.metrics.k8s.io/v1beta1/namespaces/ns/pods/*/http_requests",
);

function fakeReviewer(allowed: boolean): { reviewer: AccessReviewer; calls: unknown[] } {
  const calls: unknown[] = [];
  return {
    calls,
    reviewer: async (user, a) => {
      calls.push([user.name, a]);
      await new Promise((r) => setTimeout(r, 5));
      return { ok: true, allowed, reason: allowed ? "" : "no RBAC rule" };
    },
  };
}

describe("SubjectAccessReviewAuthorizer", () => {
  it("reviews once for concurrent and repeated identical requests within the TTL", async () => {
    let now = 0;
    const { reviewer, calls } = fakeReviewer(true);
    const authz = new SubjectAccessReviewAuthorizer({ reviewer, now: () => now });
    const answers = await Promise.all([authz.authorize(hpa, podsMetric), authz.authorize(hpa, podsMetric)]);
    expect(answers).toEqual([{ decision: "allow" }, { decision: "allow" }]);
    expect(await authz.authorize(hpa, podsMetric)).toEqual({ decision: "allow" });
    expect(calls).toHaveLength(1);
    now = 10_001;
    await authz.authorize(hpa, podsMetric);
    expect(calls).toHaveLength(2);
  });

  it("keeps a denial with its reason, and reviews a different namespace separately", async () => {
    const { reviewer, calls } = fakeReviewer(false);
    const authz = new SubjectAccessReviewAuthorizer({ reviewer });
    expect(await authz.authorize(hpa, podsMetric)).toEqual({ decision: "deny", reason: "no RBAC rule" });
    await authz.authorize(
      hpa,
      requestAttributes("GET", "/apis/custom.metrics.k8s.io/v1beta1/namespaces/other/pods/*/http_requests"),
    );
    expect(calls).toHaveLength(2);
  });

  it("lets system:masters through without a review, as kube-apiserver does", async () => {
    const { reviewer, calls } = fakeReviewer(false);
    const authz = new SubjectAccessReviewAuthorizer({ reviewer });
    expect(
      await authz.authorize(
        { name: "system:kube-aggregator", groups: ["system:masters"], extra: {} },
        podsMetric,
      ),
    ).toEqual({ decision: "allow" });
    expect(calls).toHaveLength(0);
  });

  it("answers an error (not a denial) when the review cannot be made, and does not cache it", async () => {
    let fail = true;
    const authz = new SubjectAccessReviewAuthorizer({
      reviewer: async () =>
        fail ? { ok: false, message: "apiserver unreachable" } : { ok: true, allowed: true, reason: "" },
    });
    expect(await authz.authorize(hpa, podsMetric)).toEqual({
      decision: "error",
      message: "apiserver unreachable",
    });
    fail = false;
    expect(await authz.authorize(hpa, podsMetric)).toEqual({ decision: "allow" });
  });
});

describe("extension-apiserver-authentication ConfigMap", () => {
  const data = {
    "client-ca-file": "CLIENT-CA",
    "requestheader-client-ca-file": "PROXY-CA",
    "requestheader-allowed-names": '["front-proxy-client"]',
    "requestheader-username-headers": '["X-Remote-User"]',
    "requestheader-group-headers": '["X-Remote-Group"]',
    "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
  };

  it("reads the CAs and the JSON-array header settings kube-apiserver publishes", () => {
    expect(authenticationConfigFromConfigMap(data)).toEqual({
      ok: true,
      value: {
        clientCA: "CLIENT-CA",
        requestHeader: {
          clientCA: "PROXY-CA",
          allowedNames: ["front-proxy-client"],
          usernameHeaders: ["X-Remote-User"],
          uidHeaders: [],
          groupHeaders: ["X-Remote-Group"],
          extraHeaderPrefixes: ["X-Remote-Extra-"],
        },
      },
    });
  });

  it("names the key that is not a JSON array", () => {
    const r = authenticationConfigFromConfigMap({
      ...data,
      "requestheader-allowed-names": "front-proxy-client",
    });
    expect(r.ok ? undefined : { kind: r.error.kind, message: r.error.message }).toEqual({
      kind: "decode",
      message: "extension-apiserver-authentication requestheader-allowed-names: not JSON",
    });
  });

  it("lets flags override single fields", () => {
    const r = authenticationConfigFromConfigMap(data);
    if (!r.ok) throw r.error;
    const merged = mergeAuthenticationConfig(r.value, { requestHeaderAllowedNames: ["aggregator"] });
    expect(merged.requestHeader?.allowedNames).toEqual(["aggregator"]);
    expect(merged.requestHeader?.clientCA).toBe("PROXY-CA");
  });
});
