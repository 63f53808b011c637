// Where the real node's programs come from: scripts/kube/build-node.sh builds kubelet,
// containerd (+ ctr, shim), the CNI plugins and the pause binary into version-keyed cache
// folders and prints them; runc is Debian's.
import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, SetupError, which } from "../binaries.js";

export interface NodeBinaries {
  kubelet: string;
  containerd: string;
  ctr: string;
  shim: string;
  cniBinDir: string;
  pause: string;
  runc: string;
}

/** `tool=folder` lines → folders by tool; other lines are ignored. */
export function parseBuildOutput(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^([a-z]+)=(\/.+)$/.exec(line.trim());
    if (m?.[1] && m[2]) out[m[1]] = m[2];
  }
  return out;
}

function executable(file: string): string {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    throw new SetupError(`${file} is missing or not executable`);
  }
  return file;
}

export async function ensureNodeBinaries(env: NodeJS.ProcessEnv = process.env): Promise<NodeBinaries> {
  const runc = which("runc", `${env.PATH ?? ""}:/usr/sbin:/sbin`);
  if (!runc)
    throw new SetupError("runc is not installed: run `bash scripts/install-deps.sh` (Debian's runc package)");
  const script = join(REPO_ROOT, "scripts", "kube", "build-node.sh");
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
    (done) => {
      const child = spawn("bash", [script], { env, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      let err = "";
      child.stdout.on("data", (c: Buffer) => (out += c.toString()));
      child.stderr.on("data", (c: Buffer) => {
        err += c.toString();
        process.stderr.write(c);
      });
      child.on("error", (e) => done({ code: 127, stdout: out, stderr: `${err}${e.message}` }));
      child.on("close", (c) => done({ code: c ?? 1, stdout: out, stderr: err }));
    },
  );
  if (code !== 0)
    throw new SetupError(`building the real node's programs failed (${script}):\n${stderr.trim()}`);
  const dirs = parseBuildOutput(stdout);
  const dir = (tool: string) => {
    const d = dirs[tool];
    if (!d) throw new SetupError(`${script} printed no ${tool}= line`);
    return d;
  };
  return {
    kubelet: executable(join(dir("kubelet"), "kubelet")),
    containerd: executable(join(dir("containerd"), "containerd")),
    ctr: executable(join(dir("containerd"), "ctr")),
    shim: executable(join(dir("containerd"), "containerd-shim-runc-v2")),
    cniBinDir: dir("cni"),
    pause: executable(join(dir("pause"), "pause")),
    runc,
  };
}
