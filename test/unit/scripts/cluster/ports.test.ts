import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { allocatePorts, freePort, isPortFree, PortInUseError } from "../../../../scripts/cluster/ports.js";

async function hold(port: number): Promise<() => Promise<void>> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return () => new Promise<void>((resolve) => server.close(() => resolve()));
}

describe("ports", () => {
  it("gives every owner a distinct free port", async () => {
    const ports = await allocatePorts(["a", "b", "c", "d"] as const);
    expect(new Set(Object.values(ports)).size).toBe(4);
    for (const p of Object.values(ports)) expect(await isPortFree(p)).toBe(true);
  });

  it("keeps a fixed port that is free", async () => {
    const port = await freePort();
    const ports = await allocatePorts(["apiserver", "etcd"] as const, { apiserver: port });
    expect(ports.apiserver).toBe(port);
    expect(ports.etcd).not.toBe(port);
  });

  it("fails naming the port and its owner when a fixed port is taken", async () => {
    const port = await freePort();
    const release = await hold(port);
    try {
      expect(await isPortFree(port)).toBe(false);
      const err = await allocatePorts(["kube-apiserver"] as const, { "kube-apiserver": port }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PortInUseError);
      expect((err as PortInUseError).message).toBe(
        `port ${port} (kube-apiserver) is already in use on 127.0.0.1; stop what holds it or choose another port`,
      );
    } finally {
      await release();
    }
  });

  it("refuses a port outside 1..65535 and one given twice", async () => {
    await expect(allocatePorts(["x"] as const, { x: 70000 })).rejects.toThrow(
      /port for x must be an integer in 1..65535/,
    );
    const port = await freePort();
    await expect(allocatePorts(["x", "y"] as const, { x: port, y: port })).rejects.toThrow(
      /given to two components/,
    );
  });
});
