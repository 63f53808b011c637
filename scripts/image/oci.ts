// Writes an OCI image archive (oci-layout, index.json, blobs) from root filesystem folders, one
// layer per folder, without a container engine. Layers are uncompressed tars made by GNU tar
// with fixed owners and times, so the same inputs give the same digests.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** The image config fields a Dockerfile sets (`ENTRYPOINT`, `CMD`, `ENV`, `USER`, `WORKDIR`). */
export interface ImageConfig {
  entrypoint: string[];
  cmd?: string[];
  /** `KEY=value` entries, as in the OCI config. */
  env: string[];
  user?: string;
  workingDir?: string;
}

export interface OciArchiveSpec {
  /** Root filesystem folders, lowest layer first. */
  layers: string[];
  config: ImageConfig;
  /** Full reference containerd names the image by, e.g. `registry.k8s.io/pause:3.10.2`. */
  ref: string;
  /** Where the archive goes (a `.tar`). */
  out: string;
  /** Scratch folder for the layout; removed afterwards. */
  workDir: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

const TAR_FLAGS = [
  "--sort=name",
  "--owner=0",
  "--group=0",
  "--numeric-owner",
  "--mtime=@0",
  "--format=posix",
  // No atime/ctime PAX records: they would change the digest on every build.
  "--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime",
];

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function addBlob(blobs: string, file: string, mediaType: string): Promise<Descriptor> {
  const hex = await sha256File(file);
  await rename(file, join(blobs, hex));
  return { mediaType, digest: `sha256:${hex}`, size: (await stat(join(blobs, hex))).size };
}

async function addJsonBlob(blobs: string, value: unknown, mediaType: string): Promise<Descriptor> {
  const text = Buffer.from(JSON.stringify(value));
  const hex = createHash("sha256").update(text).digest("hex");
  await writeFile(join(blobs, hex), text);
  return { mediaType, digest: `sha256:${hex}`, size: text.length };
}

/** The image config blob (OCI image-spec `application/vnd.oci.image.config.v1+json`). */
export function imageConfigJson(config: ImageConfig, diffIds: string[]): Record<string, unknown> {
  return {
    architecture: "amd64",
    os: "linux",
    created: "1970-01-01T00:00:00Z",
    config: {
      Entrypoint: config.entrypoint,
      ...(config.cmd ? { Cmd: config.cmd } : {}),
      Env: config.env,
      ...(config.user ? { User: config.user } : {}),
      ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
    },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
}

/** Writes the archive and returns the manifest's descriptor. */
export async function writeOciArchive(spec: OciArchiveSpec): Promise<Descriptor> {
  const layout = join(spec.workDir, "layout");
  const blobs = join(layout, "blobs", "sha256");
  await rm(layout, { recursive: true, force: true });
  await mkdir(blobs, { recursive: true });
  const layers: Descriptor[] = [];
  for (const [i, dir] of spec.layers.entries()) {
    const tmp = join(spec.workDir, `layer-${i}.tar`);
    await run("tar", [...TAR_FLAGS, "-C", dir, "-cf", tmp, "."], { maxBuffer: 1 << 20 });
    layers.push(await addBlob(blobs, tmp, "application/vnd.oci.image.layer.v1.tar"));
  }
  const config = await addJsonBlob(
    blobs,
    imageConfigJson(
      spec.config,
      layers.map((l) => l.digest),
    ),
    "application/vnd.oci.image.config.v1+json",
  );
  const manifest = await addJsonBlob(
    blobs,
    { schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config, layers },
    "application/vnd.oci.image.manifest.v1+json",
  );
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        ...manifest,
        platform: { architecture: "amd64", os: "linux" },
        // containerd's importer names the image by the first; other tools read the second.
        annotations: {
          "io.containerd.image.name": spec.ref,
          "org.opencontainers.image.ref.name": spec.ref,
        },
      },
    ],
  };
  await writeFile(join(layout, "index.json"), JSON.stringify(index));
  await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await run("tar", [...TAR_FLAGS, "-C", layout, "-cf", spec.out, "."]);
  await rm(spec.workDir, { recursive: true, force: true });
  return manifest;
}
