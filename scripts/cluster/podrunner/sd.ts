// Prometheus file_sd target lists, written atomically (temp file + rename) so Prometheus never
// reads half a file.
import { rename, rm, writeFile } from "node:fs/promises";

export interface SdTarget {
  address: string;
  labels: Record<string, string>;
}

export function renderFileSd(targets: readonly SdTarget[]): string {
  const groups = [...targets]
    .sort((a, b) => a.address.localeCompare(b.address))
    .map((t) => ({ targets: [t.address], labels: t.labels }));
  return `${JSON.stringify(groups, null, 2)}\n`;
}

export async function writeFileSd(file: string, targets: readonly SdTarget[]): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, renderFileSd(targets));
  await rename(tmp, file);
}

export async function removeFileSd(file: string): Promise<void> {
  await rm(file, { force: true });
}
