// Who is asking and what they ask for, in the terms the Kubernetes authentication and
// authorization APIs use (TokenReview's UserInfo, SubjectAccessReview's attributes).
import type { IncomingMessage } from "node:http";

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra: Record<string, string[]>;
}

export type AuthenticationResult =
  | { ok: true; user: UserInfo }
  /** Unauthorized: no usable credentials, or credentials that did not verify. */
  | { ok: false; message: string };

export interface Authenticator {
  authenticate(req: IncomingMessage): AuthenticationResult | Promise<AuthenticationResult>;
}

/** SubjectAccessReview resourceAttributes / nonResourceAttributes. */
export type RequestAttributes =
  | {
      resourceRequest: true;
      verb: string;
      group: string;
      version: string;
      resource: string;
      subresource: string;
      name: string;
      namespace: string;
    }
  | { resourceRequest: false; verb: string; path: string };

export type AuthorizationResult =
  | { decision: "allow" }
  | { decision: "deny"; reason: string }
  /** The authorizer could not decide (SubjectAccessReview failed): answered as 500. */
  | { decision: "error"; message: string };

export interface Authorizer {
  authorize(
    user: UserInfo,
    attributes: RequestAttributes,
  ): AuthorizationResult | Promise<AuthorizationResult>;
}

export const ANONYMOUS_USER: UserInfo = {
  name: "system:anonymous",
  groups: ["system:unauthenticated"],
  extra: {},
};
export const AUTHENTICATED_GROUP = "system:authenticated";
/** Members skip authorization, as kube-apiserver's privileged group does. */
export const PRIVILEGED_GROUP = "system:masters";
