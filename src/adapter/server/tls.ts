// The serving certificate: from --tls-cert-file/--tls-private-key-file, reloaded when the
// files change (Secrets are remounted by swapping symlinks, so the directories are watched,
// with a slow poll as a safety net), or a self-signed pair for development.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { Logger } from "../../log/logger.js";

export interface ServingCertificate {
  cert: string;
  key: string;
}

export type CertificateResult = { ok: true; value: ServingCertificate } | { ok: false; message: string };

/** Reads and checks a certificate/key pair; the message names the file at fault. */
export async function readServingCertificate(certFile: string, keyFile: string): Promise<CertificateResult> {
  let cert: string;
  let key: string;
  try {
    cert = await readFile(certFile, "utf8");
  } catch (err) {
    return { ok: false, message: `--tls-cert-file ${certFile}: ${(err as Error).message}` };
  }
  try {
    key = await readFile(keyFile, "utf8");
  } catch (err) {
    return { ok: false, message: `--tls-private-key-file ${keyFile}: ${(err as Error).message}` };
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    return {
      ok: false,
      message: `--tls-cert-file ${certFile}: not a PEM certificate (${(err as Error).message})`,
    };
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(key)))
      return {
        ok: false,
        message: `--tls-private-key-file ${keyFile}: does not match the certificate in ${certFile}`,
      };
  } catch (err) {
    return {
      ok: false,
      message: `--tls-private-key-file ${keyFile}: not a PEM private key (${(err as Error).message})`,
    };
  }
  return { ok: true, value: { cert, key } };
}

/** A self-signed certificate for the given DNS names and IPs (development only). */
export async function selfSignedCertificate(hosts: string[]): Promise<ServingCertificate> {
  const isIP = (h: string): boolean => /^[\d.]+$/.test(h) || h.includes(":");
  const altNames = hosts.map((h) => (isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h }));
  // Imported here: only a development run without --tls-cert-file needs it (~8 MB of heap).
  const { generate } = await import("selfsigned");
  const pems = await generate([{ name: "commonName", value: hosts.find((h) => !isIP(h)) ?? "localhost" }], {
    keyType: "ec",
    algorithm: "sha256",
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true },
      { name: "subjectAltName", altNames },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Calls `onChange` with the new pair whenever the files change and still form a valid pair. */
export function watchServingCertificate(
  certFile: string,
  keyFile: string,
  logger: Logger,
  onChange: (c: ServingCertificate) => void,
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let last = "";
  const reload = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    // Writers replace cert and key one after the other: wait for both.
    timer = setTimeout(() => {
      void readServingCertificate(certFile, keyFile).then((r) => {
        if (!r.ok) {
          logger.warn(
            { err: r.message },
            "serving certificate changed but cannot be used yet; keeping the previous one",
          );
          return;
        }
        const fingerprint = r.value.cert + r.value.key;
        if (fingerprint === last) return;
        last = fingerprint;
        logger.info({ certFile }, "serving certificate reloaded");
        onChange(r.value);
      });
    }, 200);
  };
  void readServingCertificate(certFile, keyFile).then((r) => {
    if (r.ok) last = r.value.cert + r.value.key;
  });
  const watchers: FSWatcher[] = [];
  for (const dir of new Set([dirname(certFile), dirname(keyFile)])) {
    try {
      watchers.push(watch(dir, { persistent: false }, reload));
    } catch (err) {
      logger.warn(
        { dir, err: (err as Error).message },
        "cannot watch certificate directory; relying on polling",
      );
    }
  }
  const poll = setInterval(reload, 60_000);
  poll.unref();
  return () => {
    for (const w of watchers) w.close();
    clearInterval(poll);
    if (timer !== undefined) clearTimeout(timer);
  };
}
