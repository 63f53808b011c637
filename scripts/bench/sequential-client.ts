// The one-at-a-time half of adapter-load.ts, in a process of its own so that nothing else the
// benchmark does (autocannon, its garbage) lands inside a timed request:
//
//   node --import tsx scripts/bench/sequential-client.ts <job.json>   → SequentialResult on stdout
//
// `count` requests on one keep-alive connection, after one untimed request (the connection's
// handshake is not what is measured); each one's milliseconds at the client and, for our
// adapter, its own account from the `Server-Timing` header: the time in the adapter up to the
// response and the part of it spent waiting on Prometheus.
import { readFileSync } from "node:fs";
import { Client } from "undici";

export interface SequentialJob {
  origin: string;
  tls?: { cert: string; key: string };
  request: { path: string; method: "GET" | "POST"; body?: string; headers?: Record<string, string> };
  count: number;
  /** Read total and prometheus from each answer's Server-Timing header (our adapter). */
  serverTiming: boolean;
}

export interface SequentialResult {
  total: number[];
  prom: number[];
  server: number[];
}

/** `total;dur=2.1, prometheus;dur=1.5` → {total: 2.1, prometheus: 1.5}. */
export function parseServerTiming(header: string | string[] | undefined): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const entry of [header ?? []].flat().join(",").split(",")) {
    const [name = "", ...params] = entry.split(";").map((p) => p.trim());
    const dur = params.find((p) => p.startsWith("dur="));
    if (name !== "" && dur !== undefined) out[name] = Number(dur.slice(4));
  }
  return out;
}

async function run(job: SequentialJob): Promise<SequentialResult> {
  const client = new Client(job.origin, {
    connect: job.tls ? { ...job.tls, rejectUnauthorized: false } : undefined,
    pipelining: 1,
  });
  const { path, method, body, headers } = job.request;
  const out: SequentialResult = { total: [], prom: [], server: [] };
  try {
    await (await client.request({ path, method, body, headers })).body.text();
    for (let i = 0; i < job.count; i++) {
      const started = performance.now();
      const res = await client.request({ path, method, body, headers });
      const text = await res.body.text();
      const ms = performance.now() - started;
      if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
      out.total.push(ms);
      if (job.serverTiming) {
        const timing = parseServerTiming(res.headers["server-timing"]);
        if (timing.total === undefined || timing.prometheus === undefined)
          throw new Error("no Server-Timing total and prometheus in the answer");
        out.server.push(timing.total);
        out.prom.push(timing.prometheus);
      }
    }
  } finally {
    await client.close();
  }
  return out;
}

const jobFile = process.argv[2];
if (jobFile !== undefined) {
  run(JSON.parse(readFileSync(jobFile, "utf8")) as SequentialJob).then(
    (result) => process.stdout.write(JSON.stringify(result)),
    (err: unknown) =>
      process.stdout.write(JSON.stringify({ error: err instanceof Error ? err.message : String(err) })),
  );
}
