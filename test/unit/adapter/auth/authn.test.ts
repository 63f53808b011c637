import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DelegatingAuthenticator, type TokenReviewer } from "../../../../src/adapter/auth/authn.js";
import type { AuthenticationResult } from "../../../../src/adapter/auth/types.js";

interface Pair {
  cert: string;
  key: string;
}

async function ca(cn: string): Promise<Pair> {
  const p = await generate([{ name: "commonName", value: cn }], {
    keyType: "ec",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, digitalSignature: true, cRLSign: true, critical: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

async function clientCert(signer: Pair, cn: string, org?: string): Promise<Pair> {
  const attrs = [{ name: "commonName", value: cn }];
  if (org !== undefined) attrs.push({ name: "organizationName", value: org });
  const p = await generate(attrs, {
    keyType: "ec",
    algorithm: "sha256",
    ca: signer,
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true },
      { name: "extKeyUsage", clientAuth: true },
    ],
  });
  return { cert: p.cert, key: p.private };
}

let server: Server;
let port: number;
let serverCert: Pair;
let frontProxyCA: Pair;
let clientCA: Pair;
let proxyClient: Pair;
let strangerProxy: Pair;
let alice: Pair;
const reviews: string[] = [];
const reviewer: TokenReviewer = async (token) => {
  reviews.push(token);
  if (token === "t-good")
    return {
      ok: true,
      authenticated: true,
      user: { name: "system:serviceaccount:kube-system:hpa", groups: ["system:serviceaccounts"], extra: {} },
    };
  if (token === "t-broken") return { ok: false, message: "connect ECONNREFUSED" };
  return { ok: true, authenticated: false, error: "invalid bearer token" };
};
let authenticator: DelegatingAuthenticator;

beforeAll(async () => {
  [frontProxyCA, clientCA] = await Promise.all([ca("front-proxy-ca"), ca("client-ca")]);
  [proxyClient, strangerProxy, alice] = await Promise.all([
    clientCert(frontProxyCA, "front-proxy-client"),
    clientCert(frontProxyCA, "someone-else"),
    clientCert(clientCA, "alice", "devs"),
  ]);
  const s = await generate([{ name: "commonName", value: "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
  });
  serverCert = { cert: s.cert, key: s.private };
  authenticator = new DelegatingAuthenticator({ tokenReviewer: reviewer, allowAnonymous: false });
  authenticator.configure({
    clientCA: clientCA.cert,
    requestHeader: {
      clientCA: frontProxyCA.cert,
      allowedNames: ["front-proxy-client"],
      usernameHeaders: ["X-Remote-User"],
      uidHeaders: [],
      groupHeaders: ["X-Remote-Group"],
      extraHeaderPrefixes: ["X-Remote-Extra-"],
    },
  });
  server = createServer(
    { ...serverCert, ca: authenticator.trustedClientCAs(), requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      void Promise.resolve(authenticator.authenticate(req)).then((r) => res.end(JSON.stringify(r)));
    },
  );
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
}, 30_000);
afterAll(() => new Promise<void>((r) => server.close(() => r())));

function call(opts: {
  client?: Pair;
  headers?: Record<string, string | string[]>;
}): Promise<AuthenticationResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        rejectUnauthorized: false,
        agent: false,
        headers: opts.headers,
        ...(opts.client ? { cert: opts.client.cert, key: opts.client.key } : {}),
      },
      (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve(JSON.parse(body) as AuthenticationResult));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("front-proxy authentication", () => {
  it("takes the user, every group and the extras from the headers when the proxy certificate verifies", async () => {
    const r = await call({
      client: proxyClient,
      headers: {
        "X-Remote-User": "bob",
        "X-Remote-Group": ["system:authenticated", "devs"],
        "X-Remote-Extra-Scopes%2Fproject": "p1",
      },
    });
    expect(r).toEqual({
      ok: true,
      user: { name: "bob", groups: ["system:authenticated", "devs"], extra: { "scopes/project": ["p1"] } },
    });
  });

  it("adds system:authenticated when the proxy sends no groups", async () => {
    const r = await call({ client: proxyClient, headers: { "X-Remote-User": "system:aggregator" } });
    expect(r).toEqual({
      ok: true,
      user: { name: "system:aggregator", groups: ["system:authenticated"], extra: {} },
    });
  });

  it("ignores the headers when the proxy's common name is not an allowed name", async () => {
    const r = await call({ client: strangerProxy, headers: { "X-Remote-User": "bob" } });
    expect(r.ok).toBe(false);
  });

  it("ignores the headers without a proxy certificate, so a client cannot claim a user", async () => {
    const r = await call({
      headers: { "X-Remote-User": "system:admin", "X-Remote-Group": "system:masters" },
    });
    expect(r.ok).toBe(false);
  });

  it("does not take a client-CA certificate as a proxy", async () => {
    const r = await call({ client: alice, headers: { "X-Remote-User": "mallory" } });
    expect(r).toEqual({
      ok: true,
      user: { name: "alice", groups: ["devs", "system:authenticated"], extra: {} },
    });
  });
});

describe("bearer tokens", () => {
  it("asks TokenReview once per token within the cache lifetime", async () => {
    reviews.length = 0;
    const a = await call({ headers: { Authorization: "Bearer t-good" } });
    const b = await call({ headers: { Authorization: "Bearer t-good" } });
    expect(a).toEqual(b);
    expect(a).toEqual({
      ok: true,
      user: {
        name: "system:serviceaccount:kube-system:hpa",
        groups: ["system:serviceaccounts", "system:authenticated"],
        extra: {},
      },
    });
    expect(reviews).toEqual(["t-good"]);
  });

  it("refuses rejected tokens and does not cache a failed review", async () => {
    reviews.length = 0;
    expect((await call({ headers: { Authorization: "Bearer t-bad" } })).ok).toBe(false);
    expect(await call({ headers: { Authorization: "Bearer t-broken" } })).toEqual({
      ok: false,
      message: "TokenReview failed: connect ECONNREFUSED",
    });
    await call({ headers: { Authorization: "Bearer t-broken" } });
    expect(reviews).toEqual(["t-bad", "t-broken", "t-broken"]);
  });
});

describe("anonymous requests", () => {
  it("are refused unless allowed, then run as system:anonymous", async () => {
    expect((await call({})).ok).toBe(false);
    const open = new DelegatingAuthenticator({ allowAnonymous: true });
    open.configure({});
    const r = await open.authenticate({ socket: {}, headers: {}, headersDistinct: {} } as never);
    expect(r).toEqual({
      ok: true,
      user: { name: "system:anonymous", groups: ["system:unauthenticated"], extra: {} },
    });
  });
});
