// A shadow's writes: Events only, their reasons prefixed "DryRun". Nothing on the HPA, whose every
// write would make the built-in controller's next status update conflict; the history lives in
// memory only, as upstream's does, and is re-learnt after a restart (a shadow never scales).
// `annotate` opts in to the would-be decision as an annotation, written when it changes.
import { kubeTimeToEpochMs } from "../../kube/objects.js";
import type { Logger } from "../../log/logger.js";
import {
  storeScaleEvent,
  type ControllerEvent,
  type HpaHistory,
  type ReconcileInput,
  type ReconcileResult,
} from "../algorithm/index.js";
import { DRY_RUN_DECISION_ANNOTATION } from "./annotations.js";
import type { EventObjectRef, EventRecorder, HpaWriter } from "./ports.js";
import type { SyncInputs } from "./read.js";
import { stableJson } from "./stable-json.js";
import { errorMessage } from "./error-message.js";
import { FAILED_PERSIST_HISTORY, type SyncWriter, type WriteOutcome } from "./writer.js";

export interface DryRunWriterOptions {
  log: Logger;
  /** used only for the decision annotation */
  hpas: HpaWriter;
  events: EventRecorder;
  /**
   * Also write the would-be decision to an annotation on the HPA when it changes. Each write bumps
   * the HPA's resourceVersion, so the built-in controller's next status update conflicts now and then.
   */
  annotate: boolean;
}

interface Remembered {
  uid: string | undefined;
  history: HpaHistory | null;
  /** the decision as last written or read (without its timestamp) */
  decision: string | undefined;
  /** the target's replicas at the last sync, to notice the real scaler's changes */
  lastReplicas?: number | undefined;
  /** status.lastScaleTime at the last sync, to tell a new one from a stale one */
  lastScaleTime?: number | undefined;
}

export function dryRunEvent(e: ControllerEvent): ControllerEvent {
  return { ...e, reason: e.reason === "SuccessfulRescale" ? "DryRunRescale" : `DryRun${e.reason}` };
}

export class DryRunWriter implements SyncWriter {
  private readonly memory = new Map<string, Remembered>();

  constructor(private readonly o: DryRunWriterOptions) {}

  private remembered(key: string, uid: string | undefined): Remembered | undefined {
    const mem = this.memory.get(key);
    return mem !== undefined && mem.uid === uid ? mem : undefined;
  }

  /** ours only, with the real scaler's changes since the last sync recorded as scale events */
  history(key: string, inputs: SyncInputs): HpaHistory | null {
    const { hpa, current, now } = inputs;
    const mem = this.remembered(key, hpa.metadata.uid);
    const history = mem?.history ?? null;
    if (
      history === null ||
      current === undefined ||
      mem?.lastReplicas === undefined ||
      mem.lastReplicas === current.replicas
    ) {
      return history;
    }
    // The scale events that limit behavior policies are the real scaler's, not ours (we never
    // scale); record the change we observe, at its lastScaleTime when that is new. The built-in
    // writes its status after scaling and loses that write on a conflict, so an unchanged
    // lastScaleTime is the previous scale's: dating this one then would open the next policy
    // period too early. Now is at most a sync period late, which only holds longer.
    const lastScale = kubeTimeToEpochMs(hpa.status?.lastScaleTime);
    const at =
      lastScale !== undefined && lastScale <= now && lastScale !== mem.lastScaleTime ? lastScale : now;
    return storeScaleEvent(
      hpa.spec.behavior,
      history,
      at,
      mem.lastReplicas,
      current.replicas,
      inputs.settings,
    );
  }

  event(ref: EventObjectRef, e: ControllerEvent): void {
    this.o.events.record(ref, dryRunEvent(e));
  }

  async write(
    key: string,
    inputs: SyncInputs,
    input: ReconcileInput,
    computed: ReconcileResult,
  ): Promise<WriteOutcome> {
    const { o } = this;
    const { hpa, current, now } = inputs;
    const errorReasons: string[] = [];
    let result = computed;

    if (result.scaled && result.history !== null) {
      // a would-be scale is not a scale event: keep the observed ones only
      result = {
        ...result,
        history: {
          ...result.history,
          scaleUpEvents: input.history?.scaleUpEvents ?? [],
          scaleDownEvents: input.history?.scaleDownEvents ?? [],
        },
      };
    }

    for (const e of result.events) {
      this.event(inputs.ref, e);
      if (e.type === "Warning") errorReasons.push(e.reason);
    }

    const remembered: Remembered = this.remembered(key, hpa.metadata.uid) ?? {
      uid: hpa.metadata.uid,
      history: null,
      decision: undefined,
    };
    if (result.history !== null) remembered.history = result.history;
    if (current !== undefined) remembered.lastReplicas = current.replicas;
    remembered.lastScaleTime = kubeTimeToEpochMs(hpa.status?.lastScaleTime);
    this.memory.set(key, remembered);

    if (o.annotate) {
      const decision = stableJson({
        currentReplicas: current?.replicas ?? null,
        desiredReplicas: result.desiredReplicas,
        wouldScale: result.scaled,
        reason: result.rescaleReason ?? null,
      });
      const previous =
        remembered.decision ?? decisionWithoutTime(hpa.metadata.annotations?.[DRY_RUN_DECISION_ANNOTATION]);
      if (decision !== previous) {
        const text = JSON.stringify({
          ...(JSON.parse(decision) as object),
          time: new Date(now).toISOString(),
        });
        remembered.decision = decision;
        try {
          await o.hpas.patchAnnotations(inputs.namespace, hpa.metadata.name, {
            [DRY_RUN_DECISION_ANNOTATION]: text,
          });
        } catch (err) {
          remembered.decision = undefined;
          errorReasons.push(FAILED_PERSIST_HISTORY);
          o.log.warn(
            { hpa: key, annotations: [DRY_RUN_DECISION_ANNOTATION], err: errorMessage(err) },
            "could not save the annotations",
          );
        }
      }
    }
    return { result, errorReasons };
  }

  async invalidSpec(): Promise<void> {
    // nothing on the HPA: the InvalidSpec Event says it
  }

  forget(key: string): void {
    this.memory.delete(key);
  }

  forgetAll(): void {
    this.memory.clear();
  }
}

function decisionWithoutTime(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    const { time: _time, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return stableJson(rest);
  } catch {
    return undefined;
  }
}
