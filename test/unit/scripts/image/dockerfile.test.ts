import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../../scripts/cluster/binaries.js";
import { IMAGE, parseLdd } from "../../../../scripts/image/build.js";
import { parseDockerfile } from "../../../../scripts/image/dockerfile.js";

const stages = parseDockerfile(readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8"));
const final = stages.at(-1);

describe("npm run image agrees with the Dockerfile", () => {
  it("has a build stage and a final stage", () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]?.runs).toContain("npm run build");
  });

  it("runs the same entrypoint, command, user, workdir and environment", () => {
    expect(final?.entrypoint).toEqual(IMAGE.entrypoint);
    expect(final?.cmd).toEqual(IMAGE.cmd);
    expect(final?.user).toBe(IMAGE.user);
    expect(final?.workdir).toBe(IMAGE.workdir);
    expect(final?.env).toEqual(IMAGE.env);
  });

  it("copies the same files: the package files, then the build stage's dist", () => {
    expect(final?.copies).toEqual([
      { sources: [...IMAGE.appFiles], dest: "./" },
      { from: stages[0]?.name, sources: [`${IMAGE.workdir}/${IMAGE.builtDir}`], dest: `./${IMAGE.builtDir}` },
    ]);
  });

  it("installs production dependencies only, as the script does", () => {
    expect(final?.runs.some((r) => r.startsWith(`npm ${IMAGE.productionInstall.join(" ")}`))).toBe(true);
  });
});

describe("the local base layer", () => {
  it("takes every library ldd names, the loader included", () => {
    const out = [
      "\tlinux-vdso.so.1 (0x00007f9d64987000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f9d6441e000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f9d64989000)",
    ].join("\n");
    expect(parseLdd(out)).toEqual(["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]);
  });
});
