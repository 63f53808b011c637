// `tsx loadtest/workload/main.ts [--port N] [--host H] [--burn-ms MS] [--name NAME]`
// (env PORT, HOST, BURN_MS, POD_NAME). Prints one JSON line {"event":"listening","port":N}
// once it serves, so a supervisor can start it on port 0 and learn the port.
import { Command, InvalidArgumentError } from "commander";
import { createWorkload, MAX_BURN_MS } from "./server.js";

function intArg(name: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

const program = new Command("workload")
  .description("Sample workload for prom-hpa: each request burns CPU; Prometheus metrics on /metrics")
  .option(
    "--port <port>",
    "port to listen on (0 = any free port)",
    intArg("--port", 0, 65535),
    Number(process.env.PORT ?? 8080),
  )
  .option("--host <host>", "address to listen on", process.env.HOST ?? "127.0.0.1")
  .option(
    "--burn-ms <ms>",
    "CPU milliseconds each request burns",
    intArg("--burn-ms", 0, MAX_BURN_MS),
    Number(process.env.BURN_MS ?? 20),
  )
  .option("--name <name>", "name shown in responses (the pod name)", process.env.POD_NAME ?? "workload")
  .exitOverride();

try {
  program.parse(process.argv);
} catch {
  process.exit(2);
}
const opts = program.opts<{ port: number; host: string; burnMs: number; name: string }>();
const { server } = createWorkload({ burnMs: opts.burnMs, name: opts.name });
server.on("error", (err) => {
  console.error(JSON.stringify({ event: "error", message: err.message }));
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : opts.port;
  console.log(JSON.stringify({ event: "listening", host: opts.host, port }));
});
for (const sig of ["SIGTERM", "SIGINT"] as const)
  process.once(sig, () => server.close(() => process.exit(0)));
