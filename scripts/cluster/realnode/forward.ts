// TCP forwarding from an address on the real node's bridge to a loopback listener, so pods
// reach kube-apiserver and Prometheus while both keep listening on 127.0.0.1 only (nothing
// is opened on the machine's other interfaces). TLS passes through untouched.
import { connect, createServer, type Socket } from "node:net";

export interface Endpoint {
  host: string;
  port: number;
}

export interface Forward {
  from: Endpoint;
  to: Endpoint;
  close(): Promise<void>;
}

export async function forwardTcp(from: Endpoint, to: Endpoint): Promise<Forward> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(to.port, to.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      // One side failing ends the pair; the peer sees a reset, as with a direct connection.
      s.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(from.port, from.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    from,
    to,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
