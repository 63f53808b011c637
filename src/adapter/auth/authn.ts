// Authentication, in kube-apiserver's delegated order:
//   1. front-proxy: a client certificate signed by the requestheader client CA (and, when the
//      allowed-names list is not empty, with one of those common names) vouches for the user
//      named in the X-Remote-User/-Group/-Extra-* headers — this is how the aggregator calls us;
//   2. a client certificate signed by the client CA: user = CN, groups = O;
//   3. `Authorization: Bearer <token>` checked with a TokenReview (cached briefly);
//   otherwise anonymous, which is refused unless allowed.
// The TLS layer asks for client certificates and verifies chains against both CAs; here we
// only decide which CA vouched for the chain, once per connection.
import { X509Certificate, createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import {
  ANONYMOUS_USER,
  AUTHENTICATED_GROUP,
  type AuthenticationResult,
  type Authenticator,
  type UserInfo,
} from "./types.js";
import { TtlCache } from "./cache.js";

export interface RequestHeaderConfig {
  /** PEM bundle of the front-proxy CA; front-proxy authentication is off without it. */
  clientCA?: string;
  allowedNames: string[];
  usernameHeaders: string[];
  uidHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

export interface AuthenticationConfig {
  requestHeader?: RequestHeaderConfig;
  /** PEM bundle for plain client-certificate authentication. */
  clientCA?: string;
}

export type TokenReviewResult =
  | { ok: true; authenticated: true; user: UserInfo }
  | { ok: true; authenticated: false; error?: string }
  | { ok: false; message: string };

/** Calls the TokenReview API; implemented over the Kubernetes client, faked in unit tests. */
export type TokenReviewer = (token: string) => Promise<TokenReviewResult>;

export interface AuthenticatorOptions {
  tokenReviewer?: TokenReviewer;
  allowAnonymous: boolean;
  /** How long TokenReview answers are reused (kube's delegated default: 10 s). */
  tokenCacheTtlMs?: number;
  onCacheLookup?: (hit: boolean) => void;
}

/** Splits a PEM bundle into certificates; throws on anything that is not a certificate. */
export function parseCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => new X509Certificate(b));
}

interface ConnectionIdentity {
  generation: number;
  frontProxy: boolean;
  clientCertUser?: UserInfo;
}

const CLIENT_AUTH_USAGE = "1.3.6.1.5.5.7.3.2";

function chainOf(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let cert = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert !== undefined && cert !== null && cert.raw !== undefined && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** Whether one of `cas` issued (and signed) some certificate of the verified chain. */
function signedBy(chain: X509Certificate[], cas: X509Certificate[]): boolean {
  for (const cert of chain) {
    for (const ca of cas) {
      if (cert.fingerprint256 === ca.fingerprint256) return true;
      if (cert.checkIssued(ca) && cert.verify(ca.publicKey)) return true;
    }
  }
  return false;
}

function usableForClientAuth(leaf: X509Certificate): boolean {
  const usages = leaf.keyUsage; // extended key usages; undefined when the extension is absent
  return usages === undefined || usages.length === 0 || usages.includes(CLIENT_AUTH_USAGE);
}

function subjectField(subject: string, field: string): string[] {
  const out: string[] = [];
  for (const line of subject.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0 && line.slice(0, eq) === field) out.push(line.slice(eq + 1));
  }
  return out;
}

function withAuthenticatedGroup(groups: string[]): string[] {
  return groups.includes(AUTHENTICATED_GROUP) ? groups : [...groups, AUTHENTICATED_GROUP];
}

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

export class DelegatingAuthenticator implements Authenticator {
  private config: AuthenticationConfig = {};
  private frontProxyCAs: X509Certificate[] = [];
  private clientCAs: X509Certificate[] = [];
  private generation = 0;
  private readonly connections = new WeakMap<TLSSocket, ConnectionIdentity>();
  private readonly tokens: TtlCache<string, TokenReviewResult>;
  private readonly pending = new Map<string, Promise<TokenReviewResult>>();

  constructor(private readonly options: AuthenticatorOptions) {
    this.tokens = new TtlCache(options.tokenCacheTtlMs ?? 10_000, 4096);
  }

  /** Replaces the CAs and header names (start-up, and when the ConfigMap or files change). */
  configure(config: AuthenticationConfig): void {
    this.config = config;
    this.frontProxyCAs = config.requestHeader?.clientCA
      ? parseCertificates(config.requestHeader.clientCA)
      : [];
    this.clientCAs = config.clientCA ? parseCertificates(config.clientCA) : [];
    this.generation++;
  }

  /** Every CA the TLS layer should accept client certificates from. */
  trustedClientCAs(): string[] {
    const out: string[] = [];
    if (this.config.requestHeader?.clientCA) out.push(this.config.requestHeader.clientCA);
    if (this.config.clientCA) out.push(this.config.clientCA);
    return out;
  }

  authenticate(req: IncomingMessage): AuthenticationResult | Promise<AuthenticationResult> {
    const identity = this.connectionIdentity(req.socket as TLSSocket);
    if (identity?.frontProxy) {
      const user = this.userFromHeaders(req);
      if (user !== undefined) return { ok: true, user };
    }
    if (identity?.clientCertUser !== undefined) return { ok: true, user: identity.clientCertUser };
    const authorization = req.headers.authorization;
    if (authorization !== undefined) {
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (match?.[1] !== undefined) return this.reviewToken(match[1]);
      // Other schemes (Basic) are not supported by the delegated authenticator.
    }
    if (this.options.allowAnonymous) return { ok: true, user: ANONYMOUS_USER };
    return { ok: false, message: "no credentials: neither a trusted client certificate nor a bearer token" };
  }

  private connectionIdentity(socket: TLSSocket): ConnectionIdentity | undefined {
    if (typeof socket.getPeerCertificate !== "function" || !socket.authorized) return undefined;
    const known = this.connections.get(socket);
    if (known !== undefined && known.generation === this.generation) return known;
    const identity: ConnectionIdentity = { generation: this.generation, frontProxy: false };
    const chain = chainOf(socket);
    const leaf = chain[0];
    const nowMs = Date.now();
    if (
      leaf !== undefined &&
      usableForClientAuth(leaf) &&
      Date.parse(leaf.validFrom) <= nowMs &&
      nowMs <= Date.parse(leaf.validTo)
    ) {
      const cn = subjectField(leaf.subject, "CN")[0] ?? "";
      const rh = this.config.requestHeader;
      if (rh !== undefined && this.frontProxyCAs.length > 0 && signedBy(chain, this.frontProxyCAs)) {
        identity.frontProxy = rh.allowedNames.length === 0 || rh.allowedNames.includes(cn);
      }
      if (!identity.frontProxy && this.clientCAs.length > 0 && cn !== "" && signedBy(chain, this.clientCAs)) {
        identity.clientCertUser = {
          name: cn,
          groups: withAuthenticatedGroup(subjectField(leaf.subject, "O")),
          extra: {},
        };
      }
    }
    this.connections.set(socket, identity);
    return identity;
  }

  private userFromHeaders(req: IncomingMessage): UserInfo | undefined {
    const rh = this.config.requestHeader;
    if (rh === undefined) return undefined;
    const headers = req.headersDistinct;
    const name = firstHeaderValue(headers, rh.usernameHeaders);
    if (name === undefined) return undefined;
    const groups: string[] = [];
    for (const h of rh.groupHeaders) groups.push(...(headers[h.toLowerCase()] ?? []));
    const uid = firstHeaderValue(headers, rh.uidHeaders);
    const extra: Record<string, string[]> = {};
    const prefixes = rh.extraHeaderPrefixes.map((p) => p.toLowerCase());
    if (prefixes.length > 0) {
      for (const [header, values] of Object.entries(headers)) {
        const prefix = prefixes.find((p) => header.startsWith(p));
        if (prefix === undefined || values === undefined) continue;
        const key = unescapeExtraKey(header.slice(prefix.length));
        (extra[key] ??= []).push(...values);
      }
    }
    // Every authenticated user is in system:authenticated (kube's AuthenticatedGroupAdder);
    // RBAC's discovery and public-info roles are bound to it.
    const user: UserInfo = { name, groups: withAuthenticatedGroup(groups), extra };
    if (uid !== undefined) user.uid = uid;
    return user;
  }

  private async reviewToken(token: string): Promise<AuthenticationResult> {
    const key = createHash("sha256").update(token).digest("base64");
    let result = this.tokens.get(key);
    this.options.onCacheLookup?.(result !== undefined);
    if (result === undefined) {
      // Concurrent requests with one token share one TokenReview.
      let inflight = this.pending.get(key);
      if (inflight === undefined) {
        const reviewer = this.options.tokenReviewer;
        inflight =
          reviewer === undefined
            ? Promise.resolve<TokenReviewResult>({
                ok: true,
                authenticated: false,
                error: "token authentication is not configured",
              })
            : reviewer(token);
        this.pending.set(key, inflight);
        void inflight.finally(() => this.pending.delete(key)).catch(() => undefined);
      }
      try {
        result = await inflight;
      } catch (err) {
        result = { ok: false, message: err instanceof Error ? err.message : String(err) };
      }
      // Failed reviews (API unreachable) are not cached, so a recovered API is used at once.
      if (result.ok) this.tokens.set(key, result);
    }
    if (!result.ok) return { ok: false, message: `TokenReview failed: ${result.message}` };
    if (!result.authenticated)
      return { ok: false, message: `token rejected${result.error ? `: ${result.error}` : ""}` };
    return { ok: true, user: { ...result.user, groups: withAuthenticatedGroup(result.user.groups) } };
  }
}

/** The first non-empty value among the named headers, in the order they are configured. */
function firstHeaderValue(
  headers: IncomingMessage["headersDistinct"],
  names: readonly string[],
): string | undefined {
  for (const h of names) {
    const v = headers[h.toLowerCase()]?.[0];
    if (v !== undefined && v !== "") return v;
  }
  return undefined;
}
