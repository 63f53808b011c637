// `npm run monitoring [-- --check]`: write manifests/monitoring/, or exit 1 naming every file
// that differs from what the code renders.
import { diffMonitoring, MONITORING_DIR, writeMonitoring } from "./render.js";

const check = process.argv.includes("--check");
if (check) {
  const drift = await diffMonitoring(MONITORING_DIR);
  for (const d of drift) console.error(`${MONITORING_DIR}/${d}`);
  if (drift.length > 0) {
    console.error("run `npm run monitoring` and commit the result");
    process.exitCode = 1;
  }
} else {
  for (const name of await writeMonitoring(MONITORING_DIR)) console.log(`wrote ${MONITORING_DIR}/${name}`);
}
