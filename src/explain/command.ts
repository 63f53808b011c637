// `prom-hpa explain [-n NAMESPACE] HPA`: read the HPA, its target's scale, its pods and the
// metrics APIs as a sync does (the autoscaler's own read phase; read-only, so it works for HPAs
// that kube-controller-manager runs too) and print why the algorithm picks the size it picks.
// `--recorded` prints instead what our autoscaler recorded at its last decision.
import { CommanderError, Option, type Command } from "commander";
import { ApiMetricsClient } from "../autoscaler/metrics/client.js";
import { KubeScaleClient } from "../autoscaler/api/scale.js";
import { HISTORY_ANNOTATION } from "../autoscaler/controller/annotations.js";
import { readSyncInputs, type SyncReaders } from "../autoscaler/controller/read.js";
import { KubeClient, seg, type KubeApi } from "../kube/client.js";
import { loadKubeConfig } from "../kube/config.js";
import { RESTMapper } from "../kube/mapper.js";
import {
  horizontalPodAutoscalerSchema,
  podListSchema,
  type HorizontalPodAutoscaler,
  type Pod,
} from "../kube/objects.js";
import { parseSelector, selectorMatches } from "../kube/selector.js";
import { silentLogger } from "../log/logger.js";
import { resolveSettings, type SettingsText } from "../simulate/scenario.js";
import { EXIT_BAD_INPUT, withSettingsOptions } from "../simulate/command.js";
import { explain } from "./explain.js";
import { renderExplanation } from "./format.js";
import {
  LAST_DECISION_ANNOTATION,
  parseDecisionRecord,
  renderDecisionRecord,
  type DecisionRecord,
} from "./record.js";

interface ExplainFlags extends SettingsText {
  namespace?: string;
  output: "text" | "json";
  recorded?: boolean;
  autoscalerUrl?: string;
  kubeconfig?: string;
}

class ExplainError extends Error {}

async function getJson(http: KubeApi, path: string, what: string): Promise<unknown> {
  const r = await http.request("GET", path);
  if (!r.ok) throw new ExplainError(`reading ${what}: ${r.error.message}`);
  return r.value;
}

/** The pods of a namespace, listed once, as the informer's lister would give them. */
function podLister(pods: Pod[]) {
  return {
    list(_namespace: string, selector: string): Pod[] {
      const parsed = parseSelector(selector);
      return parsed.ok ? pods.filter((p) => selectorMatches(parsed.selector, p.metadata.labels)) : pods;
    },
  };
}

async function readHpa(http: KubeApi, namespace: string, name: string): Promise<HorizontalPodAutoscaler> {
  const raw = await getJson(
    http,
    `/apis/autoscaling/v2/namespaces/${seg(namespace)}/horizontalpodautoscalers/${seg(name)}`,
    `HPA ${namespace}/${name}`,
  );
  const parsed = horizontalPodAutoscalerSchema.safeParse(raw);
  if (!parsed.success)
    throw new ExplainError(`HPA ${namespace}/${name} could not be read: ${parsed.error.message}`);
  return parsed.data;
}

async function recorded(hpa: HorizontalPodAutoscaler, flags: ExplainFlags): Promise<DecisionRecord> {
  if (flags.autoscalerUrl !== undefined) {
    const url = `${flags.autoscalerUrl.replace(/\/+$/, "")}/debug/hpa/${encodeURIComponent(hpa.metadata.namespace ?? "default")}/${encodeURIComponent(hpa.metadata.name)}`;
    const res = await fetch(url);
    const text = await res.text();
    if (!res.ok) throw new ExplainError(`${url}: ${res.status} ${text.trim()}`);
    const parsed = parseDecisionRecord(text);
    if (!parsed.ok) throw new ExplainError(`${url}: not a decision record: ${parsed.error}`);
    return parsed.record;
  }
  const text = hpa.metadata.annotations?.[LAST_DECISION_ANNOTATION];
  if (text === undefined)
    throw new ExplainError(
      `HPA ${hpa.metadata.namespace ?? ""}/${hpa.metadata.name} has no ${LAST_DECISION_ANNOTATION} annotation: is prom-hpa's autoscaler running it?`,
    );
  const parsed = parseDecisionRecord(text);
  if (!parsed.ok)
    throw new ExplainError(
      `the ${LAST_DECISION_ANNOTATION} annotation is not a decision record: ${parsed.error}`,
    );
  return parsed.record;
}

async function run(name: string, flags: ExplainFlags): Promise<void> {
  let settings;
  try {
    settings = resolveSettings({}, flags).controller;
  } catch (err) {
    throw new ExplainError(err instanceof Error ? err.message : String(err));
  }
  const loaded = await loadKubeConfig(flags.kubeconfig);
  if (!loaded.ok) throw new ExplainError(loaded.error.message);
  const kc = loaded.value;
  const namespace = flags.namespace ?? contextNamespace(kc) ?? "default";
  const client = await KubeClient.fromKubeConfig(kc, { connections: 4, userAgent: "prom-hpa-explain" });
  if (!client.ok) throw new ExplainError(client.error.message);
  const http = client.value;
  try {
    const hpa = await readHpa(http, namespace, name);
    if (flags.recorded === true) {
      const record = await recorded(hpa, flags);
      process.stdout.write(
        flags.output === "json"
          ? `${JSON.stringify(record, null, 2)}\n`
          : `${renderDecisionRecord(namespace, name, record)}\n`,
      );
      return;
    }
    const mapper = new RESTMapper({ client: http, logger: silentLogger });
    const podList = podListSchema.parse(
      await getJson(http, `/api/v1/namespaces/${seg(namespace)}/pods`, `the pods of ${namespace}`),
    );
    const pods = podList.items;
    const readers: SyncReaders = {
      scales: new KubeScaleClient(http, mapper),
      pods: podLister(pods),
      metrics: new ApiMetricsClient(http, mapper),
      // the selectors of the namespace's other HPAs are the controller's memory; a fresh read has none
      overlapping: () => [],
    };
    const inputs = await readSyncInputs(readers, hpa, { now: Date.now(), settings, syncPeriodMs: 15_000 });
    const explanation = explain({
      now: inputs.now,
      settings: inputs.settings,
      hpa,
      scale: inputs.scale,
      pods: inputs.pods,
      metricResponses: inputs.metricResponses,
      history: inputs.savedHistory,
    });
    const note =
      inputs.savedHistory === null
        ? "note: no recommendation history on the HPA (kube-controller-manager keeps it in memory): stabilization counts only the current size; --recorded shows what our autoscaler saw"
        : `note: stabilization and rate policies use the history our autoscaler saved on the HPA (${HISTORY_ANNOTATION})`;
    process.stdout.write(
      flags.output === "json"
        ? `${JSON.stringify(explanation, null, 2)}\n`
        : `${renderExplanation(explanation)}\n\n${note}\n`,
    );
  } finally {
    await http.close();
  }
}

export function registerExplainCommand(program: Command): void {
  const cmd = program
    .command("explain")
    .description(
      "explain why an HPA has (or would get) its size: each metric's values, ratio and proposal, then every limit up to the final size",
    )
    .argument("<hpa>", "the HorizontalPodAutoscaler's name")
    .option("-n, --namespace <namespace>", "the HPA's namespace (default: the kubeconfig context's)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .option(
      "--recorded",
      `show what prom-hpa's autoscaler recorded at its last decision (the ${LAST_DECISION_ANNOTATION} annotation)`,
    )
    .option(
      "--autoscaler-url <url>",
      "with --recorded: ask the autoscaler's /debug/hpa endpoint for its last sync instead",
    )
    .option("--kubeconfig <path>", "kubeconfig file (default: KUBECONFIG, ~/.kube/config, or in-cluster)");
  withSettingsOptions(cmd)
    .exitOverride((err) => {
      throw err.exitCode === 0 ? err : new CommanderError(EXIT_BAD_INPUT, err.code, err.message);
    })
    .action(async (name: string, flags: ExplainFlags) => {
      try {
        await run(name, flags);
      } catch (err: unknown) {
        if (!(err instanceof ExplainError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

/** The current context's namespace, where the kubeconfig loader keeps contexts (client-node's). */
function contextNamespace(kc: object): string | undefined {
  const c = kc as {
    getCurrentContext?: () => string;
    getContextObject?: (name: string) => { namespace?: string } | null;
  };
  if (c.getCurrentContext === undefined || c.getContextObject === undefined) return undefined;
  return c.getContextObject(c.getCurrentContext())?.namespace;
}
