// Reads the parts of a Dockerfile the engine-less image build must agree with: per stage, the
// files copied, ENV, USER, WORKDIR, ENTRYPOINT and CMD. Pure, so a unit test can hold the
// build script to the Dockerfile.

export interface Copy {
  /** `--from=<stage>`, when copied from another stage. */
  from?: string;
  sources: string[];
  dest: string;
}

export interface Stage {
  base: string;
  name?: string;
  workdir?: string;
  env: Record<string, string>;
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
  copies: Copy[];
  runs: string[];
}

function execForm(rest: string): string[] {
  const parsed: unknown = JSON.parse(rest);
  if (!Array.isArray(parsed) || !parsed.every((x) => typeof x === "string"))
    throw new Error(`expected an exec-form JSON array, got ${rest}`);
  return parsed as string[];
}

export function parseDockerfile(text: string): Stage[] {
  const lines = text
    .replace(/\\\r?\n/g, " ")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith("#"));
  const stages: Stage[] = [];
  for (const line of lines) {
    const m = /^(\S+)\s+(.*)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (op === "FROM") {
      const [base = "", as, name] = rest.split(/\s+/);
      stages.push({
        base,
        ...(as?.toUpperCase() === "AS" && name ? { name } : {}),
        env: {},
        copies: [],
        runs: [],
      });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${op} before FROM`);
    switch (op) {
      case "WORKDIR":
        stage.workdir = rest;
        break;
      case "USER":
        stage.user = rest;
        break;
      case "ENTRYPOINT":
        stage.entrypoint = execForm(rest);
        break;
      case "CMD":
        stage.cmd = execForm(rest);
        break;
      case "RUN":
        stage.runs.push(rest);
        break;
      case "ENV":
        for (const kv of rest.split(/\s+/)) {
          const eq = kv.indexOf("=");
          if (eq > 0) stage.env[kv.slice(0, eq)] = kv.slice(eq + 1);
        }
        break;
      case "COPY": {
        const words = rest.split(/\s+/);
        const from = words.find((w) => w.startsWith("--from="))?.slice("--from=".length);
        const paths = words.filter((w) => !w.startsWith("--"));
        const dest = paths.pop() ?? "";
        stage.copies.push({ ...(from ? { from } : {}), sources: paths, dest });
        break;
      }
      default:
        break;
    }
  }
  return stages;
}
