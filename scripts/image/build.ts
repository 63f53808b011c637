// `npm run image`: the prom-hpa image, built from the Dockerfile's own steps without a
// container engine. The Dockerfile's base (node:20-slim) cannot be fetched here, so the base
// layer is this machine's Node.js 20 and the libraries it links, with the node user (1000).
// Writes an OCI archive and imports it into the real node's containerd when one runs. The
// last line printed is the image reference (for a Pod with imagePullPolicy: Never).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { REPO_ROOT, runRoot } from "../cluster/binaries.js";
import { importImage, snapshotter } from "../cluster/realnode/node.js";
import { ensureNodeBinaries } from "../cluster/realnode/binaries.js";
import { CONTAINERD_SOCKET } from "../cluster/realnode/render.js";
import { writeOciArchive } from "./oci.js";

const run = promisify(execFile);

/** What the Dockerfile's final stage says; test/unit/scripts/image holds the two in agreement. */
export const IMAGE = {
  workdir: "/app",
  env: { NODE_ENV: "production" } as Record<string, string>,
  user: "1000:1000",
  entrypoint: ["node", "/app/dist/cli.js"],
  cmd: ["--help"],
  /** Copied from the repository into the workdir. */
  appFiles: ["package.json", "package-lock.json"],
  /** The build stage's `npm run build` output, copied to `<workdir>/dist`. */
  builtDir: "dist",
  productionInstall: ["ci", "--omit=dev", "--no-audit", "--no-fund"],
} as const;

/** node:20-slim keeps node here and puts it on PATH. */
const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The shared libraries a binary loads, from ldd (the loader included). */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split("\n")) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

async function baseLayer(dir: string): Promise<void> {
  const node = process.execPath;
  await mkdir(join(dir, "usr/local/bin"), { recursive: true });
  await copyFile(node, join(dir, "usr/local/bin/node"));
  const { stdout } = await run("ldd", [node]);
  for (const lib of parseLdd(stdout)) {
    await mkdir(join(dir, dirname(lib)), { recursive: true });
    // cp dereferences: the layer gets the library itself under the name the loader asks for.
    await copyFile(lib, join(dir, lib));
  }
  await mkdir(join(dir, "etc"), { recursive: true });
  await writeFile(
    join(dir, "etc/passwd"),
    "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n",
  );
  await writeFile(join(dir, "etc/group"), "root:x:0:\nnode:x:1000:\n");
  await mkdir(join(dir, "tmp"), { recursive: true, mode: 0o1777 });
  await mkdir(join(dir, "home/node"), { recursive: true });
}

export interface BuiltImage {
  ref: string;
  archive: string;
  imported: boolean;
}

export async function buildImage(progress: (m: string) => void = console.log): Promise<BuiltImage> {
  const pkg = JSON.parse(await readFile(join(REPO_ROOT, "package.json"), "utf8")) as {
    name: string;
    version: string;
  };
  const ref = `docker.io/library/${pkg.name}:${pkg.version}`;
  const work = join(runRoot(), "image");
  const base = join(work, "base");
  const app = join(work, "app");
  const appDir = join(app, IMAGE.workdir);
  await rm(work, { recursive: true, force: true });
  await mkdir(appDir, { recursive: true });

  let t = Date.now();
  progress("image: npm run build (the build stage)");
  await run("npm", ["run", "build"], { cwd: REPO_ROOT, maxBuffer: 16 << 20 });
  for (const f of IMAGE.appFiles) await copyFile(join(REPO_ROOT, f), join(appDir, f));
  progress(`image: npm ${IMAGE.productionInstall.join(" ")} into the staging folder`);
  await run("npm", [...IMAGE.productionInstall, "--prefer-offline"], {
    cwd: appDir,
    maxBuffer: 16 << 20,
    env: { ...process.env, NODE_ENV: "production" },
  });
  await cp(join(REPO_ROOT, IMAGE.builtDir), join(appDir, "dist"), { recursive: true });
  progress(`image: app staged in ${((Date.now() - t) / 1000).toFixed(1)}s`);

  t = Date.now();
  await baseLayer(base);
  const archive = join(runRoot(), `${pkg.name}-${pkg.version}.oci.tar`);
  await writeOciArchive({
    layers: [base, app],
    config: {
      entrypoint: [...IMAGE.entrypoint],
      cmd: [...IMAGE.cmd],
      env: [`PATH=${BASE_PATH}`, ...Object.entries(IMAGE.env).map(([k, v]) => `${k}=${v}`)],
      user: IMAGE.user,
      workingDir: IMAGE.workdir,
    },
    ref,
    out: archive,
    workDir: join(work, "oci"),
  });
  progress(`image: wrote ${archive} in ${((Date.now() - t) / 1000).toFixed(1)}s`);

  let imported = false;
  if (existsSync(CONTAINERD_SOCKET)) {
    const bins = await ensureNodeBinaries();
    await importImage(
      { ctr: bins.ctr, containerdSocket: CONTAINERD_SOCKET, snapshotter: snapshotter() },
      archive,
    );
    imported = true;
    progress(`image: imported into the real node's containerd (${CONTAINERD_SOCKET}, namespace k8s.io)`);
  } else {
    progress(
      `image: no real node is running (no ${CONTAINERD_SOCKET}); import later with: ctr -n k8s.io images import ${archive}`,
    );
  }
  return { ref, archive, imported };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  buildImage()
    .then((img) => console.log(img.ref))
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
