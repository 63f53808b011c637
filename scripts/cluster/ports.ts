// Loopback ports for the components: picked by the kernel (listen on 0) so several runs never
// collide, or given by the caller and then checked up front so a taken port fails fast with
// its name instead of a component dying later with "address already in use".
import { createServer } from "node:net";

export const LOOPBACK = "127.0.0.1";

/** Thrown when a port the harness needs is already taken. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    readonly owner: string,
  ) {
    super(
      `port ${port} (${owner}) is already in use on ${LOOPBACK}; stop what holds it or choose another port`,
    );
    this.name = "PortInUseError";
  }
}

/** Resolves true when nothing listens on `port` at 127.0.0.1 (we could bind it ourselves). */
export function isPortFree(port: number, host: string = LOOPBACK): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the kernel considers free right now. */
export function freePort(host: string = LOOPBACK): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("the kernel gave no port"))));
    });
  });
}

/**
 * One port per named owner: a fixed port is checked (PortInUseError names it), a missing one is
 * picked free. Ports are distinct even when the kernel would hand out the same one twice.
 */
export async function allocatePorts<K extends string>(
  owners: readonly K[],
  fixed: Partial<Record<K, number>> = {},
): Promise<Record<K, number>> {
  const result = {} as Record<K, number>;
  const taken = new Set<number>();
  for (const owner of owners) {
    const wanted = fixed[owner];
    if (wanted !== undefined) {
      if (!Number.isInteger(wanted) || wanted < 1 || wanted > 65535) {
        throw new Error(`port for ${owner} must be an integer in 1..65535, got ${String(wanted)}`);
      }
      if (taken.has(wanted))
        throw new Error(`port ${wanted} is given to two components (${owner} and another)`);
      if (!(await isPortFree(wanted))) throw new PortInUseError(wanted, owner);
      result[owner] = wanted;
      taken.add(wanted);
    }
  }
  for (const owner of owners) {
    if (fixed[owner] !== undefined) continue;
    let port = await freePort();
    while (taken.has(port)) port = await freePort();
    result[owner] = port;
    taken.add(port);
  }
  return result;
}
