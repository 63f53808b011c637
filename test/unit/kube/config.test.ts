import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ClusterConnection, inClusterKubeConfig, loadKubeConfig } from "../../../src/kube/config.js";
import { orThrow } from "../../../src/kube/errors.js";

const SA = "var/run/secrets/kubernetes.io/serviceaccount";

describe("in-cluster configuration", () => {
  let root = "";
  afterEach(async () => {
    vi.unstubAllEnvs();
    if (root !== "") await rm(root, { recursive: true, force: true });
  });

  async function serviceAccountDir(token: string): Promise<string> {
    root = await mkdtemp(join(tmpdir(), "kube-config-"));
    await mkdir(join(root, SA), { recursive: true });
    await writeFile(join(root, SA, "token"), token);
    await writeFile(join(root, SA, "ca.crt"), "CLUSTER-CA");
    await writeFile(join(root, SA, "namespace"), "team-a");
    return `${root}/`;
  }

  it("points at KUBERNETES_SERVICE_HOST:PORT over TLS with the service account's CA", async () => {
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "10.0.0.1");
    vi.stubEnv("KUBERNETES_SERVICE_PORT", "6443");
    const kc = orThrow(inClusterKubeConfig(await serviceAccountDir("token-1")));
    const conn = orThrow(await ClusterConnection.fromKubeConfig(kc));
    expect(conn.server.toString()).toBe("https://10.0.0.1:6443/");
    expect(String(conn.tls.ca)).toBe("CLUSTER-CA");
    expect(conn.tls.rejectUnauthorized).toBe(true);
  });

  it("re-reads the rotated token file once the refresh interval has passed, not before", async () => {
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "10.0.0.1");
    vi.stubEnv("KUBERNETES_SERVICE_PORT", "443");
    const dir = await serviceAccountDir("token-1\n");
    let now = 1_000_000;
    const conn = orThrow(
      await ClusterConnection.fromKubeConfig(orThrow(inClusterKubeConfig(dir)), {
        authRefreshMs: 60_000,
        now: () => now,
      }),
    );
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer token-1" });
    await writeFile(join(dir, SA, "token"), "token-2");
    now += 30_000;
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer token-1" });
    now += 30_001;
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer token-2" });
    // Forced (after a 401), the file is read at once.
    await writeFile(join(dir, SA, "token"), "token-3");
    expect(orThrow(await conn.authHeaders(true))).toEqual({ Authorization: "Bearer token-3" });
  });

  it("keeps the last good token while the file cannot be read", async () => {
    vi.stubEnv("KUBERNETES_SERVICE_HOST", "10.0.0.1");
    vi.stubEnv("KUBERNETES_SERVICE_PORT", "443");
    const dir = await serviceAccountDir("token-1");
    let now = 0;
    const conn = orThrow(
      await ClusterConnection.fromKubeConfig(orThrow(inClusterKubeConfig(dir)), { now: () => now }),
    );
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer token-1" });
    await rm(join(dir, SA, "token"));
    now += 120_000;
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer token-1" });
  });
});

describe("kubeconfig files", () => {
  let dir = "";
  afterEach(async () => {
    if (dir !== "") await rm(dir, { recursive: true, force: true });
  });

  it("takes the server, client certificate, CA, TLS server name and token of the current context", async () => {
    dir = await mkdtemp(join(tmpdir(), "kube-config-"));
    const path = join(dir, "kubeconfig");
    await writeFile(join(dir, "client.crt"), "CLIENT-CERT");
    await writeFile(
      path,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          {
            name: "c",
            cluster: {
              server: "https://api.example:6443/prefix",
              "certificate-authority-data": Buffer.from("THE-CA").toString("base64"),
              "tls-server-name": "kubernetes",
            },
          },
        ],
        users: [
          {
            name: "u",
            user: {
              "client-certificate": join(dir, "client.crt"),
              "client-key-data": Buffer.from("CLIENT-KEY").toString("base64"),
              token: "static",
            },
          },
        ],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const conn = orThrow(await ClusterConnection.fromKubeConfig(orThrow(await loadKubeConfig(path))));
    expect(conn.server.toString()).toBe("https://api.example:6443/prefix");
    expect({
      ca: String(conn.tls.ca),
      cert: String(conn.tls.cert),
      key: String(conn.tls.key),
      servername: conn.tls.servername,
    }).toEqual({ ca: "THE-CA", cert: "CLIENT-CERT", key: "CLIENT-KEY", servername: "kubernetes" });
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer static" });
  });

  it("reads certificate files relative to the kubeconfig's folder", async () => {
    dir = await mkdtemp(join(tmpdir(), "kube-config-"));
    await mkdir(join(dir, "pki"));
    await writeFile(join(dir, "pki", "ca.crt"), "FILE-CA");
    await writeFile(join(dir, "pki", "client.crt"), "FILE-CERT");
    await writeFile(join(dir, "pki", "client.key"), "FILE-KEY");
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      JSON.stringify({
        clusters: [
          {
            name: "c",
            cluster: { server: "https://api.example:6443", "certificate-authority": "pki/ca.crt" },
          },
        ],
        users: [
          { name: "u", user: { "client-certificate": "pki/client.crt", "client-key": "pki/client.key" } },
        ],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const conn = orThrow(await ClusterConnection.fromKubeConfig(orThrow(await loadKubeConfig(path))));
    expect([
      String(conn.tls.ca),
      String(conn.tls.cert),
      String(conn.tls.key),
      conn.tls.rejectUnauthorized,
    ]).toEqual(["FILE-CA", "FILE-CERT", "FILE-KEY", true]);
    expect(orThrow(await conn.authHeaders())).toEqual({});
  });

  it("runs a user's exec credential plugin", async () => {
    dir = await mkdtemp(join(tmpdir(), "kube-config-"));
    const plugin = join(dir, "plugin.sh");
    await writeFile(
      plugin,
      `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"from-plugin"}}'\n`,
      { mode: 0o755 },
    );
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      JSON.stringify({
        clusters: [{ name: "c", cluster: { server: "https://api.example:6443" } }],
        users: [
          {
            name: "u",
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1",
                command: plugin,
                interactiveMode: "Never",
              },
            },
          },
        ],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const conn = orThrow(await ClusterConnection.fromKubeConfig(orThrow(await loadKubeConfig(path))));
    expect(orThrow(await conn.authHeaders())).toEqual({ Authorization: "Bearer from-plugin" });
  }, 60_000); // imports client-node, seconds on a busy machine

  it("names the file it could not load", async () => {
    const r = await loadKubeConfig("/nonexistent/kubeconfig");
    expect(
      r.ok ? undefined : [r.error.kind, r.error.message.startsWith("kubeconfig /nonexistent/kubeconfig: ")],
    ).toEqual(["config", true]);
  });
});
