// The leader's writes: the scale, Events, the status when it changed, and the history annotation
// when its compacted form changed (the next leader continues from it).
import type { HorizontalPodAutoscalerStatus } from "../../kube/objects.js";
import type { Logger } from "../../log/logger.js";
import type {
  applyScaleResult as algorithmApplyScaleResult,
  ControllerEvent,
  HpaHistory,
  ReconcileInput,
  ReconcileResult,
} from "../algorithm/index.js";
import { HISTORY_ANNOTATION } from "./annotations.js";
import { serializeHistory } from "./history.js";
import type { EventObjectRef, EventRecorder, HpaWriter, ScaleClient } from "./ports.js";
import type { SyncInputs } from "./read.js";
import { stableJson } from "./stable-json.js";
import { errorMessage } from "./error-message.js";
import {
  FAILED_PERSIST_HISTORY,
  FAILED_UPDATE_STATUS,
  INVALID_SPEC,
  type SyncWriter,
  type WriteOutcome,
} from "./writer.js";

export interface ActiveWriterOptions {
  log: Logger;
  scales: ScaleClient;
  hpas: HpaWriter;
  events: EventRecorder;
  applyScaleResult: typeof algorithmApplyScaleResult;
}

interface Remembered {
  uid: string | undefined;
  /** null until the algorithm has started one (e.g. while the target's scale cannot be read) */
  history: HpaHistory | null;
  /** the history annotation as last written or read */
  persisted: string | undefined;
}

export class ActiveWriter implements SyncWriter {
  private readonly memory = new Map<string, Remembered>();

  constructor(private readonly o: ActiveWriterOptions) {}

  private remembered(key: string, uid: string | undefined): Remembered | undefined {
    const mem = this.memory.get(key);
    return mem !== undefined && mem.uid === uid ? mem : undefined;
  }

  /** ours from the last sync, else what the last leader saved on the HPA */
  history(key: string, inputs: SyncInputs): HpaHistory | null {
    return this.remembered(key, inputs.hpa.metadata.uid)?.history ?? inputs.savedHistory;
  }

  event(ref: EventObjectRef, e: ControllerEvent): void {
    this.o.events.record(ref, e);
  }

  async write(
    key: string,
    inputs: SyncInputs,
    input: ReconcileInput,
    computed: ReconcileResult,
  ): Promise<WriteOutcome> {
    const { o } = this;
    const { hpa, current } = inputs;
    const errorReasons: string[] = [];
    let result = computed;

    if (result.scaled && current !== undefined) {
      try {
        await o.scales.updateScale(current, result.desiredReplicas);
        result = o.applyScaleResult(input, result, { ok: true });
      } catch (err) {
        result = o.applyScaleResult(input, result, { ok: false, error: errorMessage(err) });
        o.log.warn(
          { hpa: key, desiredReplicas: result.desiredReplicas, err: errorMessage(err) },
          "could not update the scale",
        );
      }
    }

    for (const e of result.events) {
      this.event(inputs.ref, e);
      if (e.type === "Warning") errorReasons.push(e.reason);
    }

    // the status first: a status PUT carries the HPA's metadata, so it must not follow our annotation patch
    if (!statusEqual(hpa.status, result.status)) {
      try {
        await o.hpas.updateStatus(hpa, result.status);
      } catch (err) {
        errorReasons.push(FAILED_UPDATE_STATUS);
        o.log.warn({ hpa: key, err: errorMessage(err) }, "could not update the HPA status");
      }
    }

    // save the history to its annotation when the compacted form changed
    const remembered: Remembered = this.remembered(key, hpa.metadata.uid) ?? {
      uid: hpa.metadata.uid,
      history: null,
      persisted: inputs.savedHistoryText,
    };
    if (result.history !== null) remembered.history = result.history;
    this.memory.set(key, remembered);
    const next = remembered.history === null ? undefined : serializeHistory(remembered.history, inputs.now);
    if (next !== undefined && next !== remembered.persisted) {
      try {
        await o.hpas.patchAnnotations(inputs.namespace, hpa.metadata.name, { [HISTORY_ANNOTATION]: next });
        remembered.persisted = next;
      } catch (err) {
        errorReasons.push(FAILED_PERSIST_HISTORY);
        o.log.warn(
          { hpa: key, annotations: [HISTORY_ANNOTATION], err: errorMessage(err) },
          "could not save the annotations",
        );
      }
    }
    return { result, errorReasons };
  }

  async invalidSpec(namespace: string, name: string, message: string, now: number): Promise<void> {
    const at = new Date(Math.floor(now / 1000) * 1000).toISOString().replace(".000Z", "Z");
    try {
      await this.o.hpas.patchStatusConditions(namespace, name, [
        { type: "ScalingActive", status: "False", reason: INVALID_SPEC, message, lastTransitionTime: at },
      ]);
    } catch (err) {
      this.o.log.warn(
        { hpa: `${namespace}/${name}`, err: errorMessage(err) },
        "could not set the InvalidSpec condition",
      );
    }
  }

  forget(key: string): void {
    this.memory.delete(key);
  }

  forgetAll(): void {
    this.memory.clear();
  }
}

function statusEqual(
  a: HorizontalPodAutoscalerStatus | undefined,
  b: HorizontalPodAutoscalerStatus,
): boolean {
  return stableJson(normalizeStatus(a ?? {})) === stableJson(normalizeStatus(b));
}

/** Null and missing fields are the same to the API. */
function normalizeStatus(s: HorizontalPodAutoscalerStatus): unknown {
  return JSON.parse(JSON.stringify(s, (_k, v: unknown) => (v === null ? undefined : v)));
}
