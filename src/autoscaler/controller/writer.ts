// The write phase of a sync, as a port: what the controller does with the algorithm's result.
// The active writer scales and writes the HPA; the dry-run writer writes only Events (and, opted
// in, its decision annotation) and keeps the history in memory. The controller picks one at
// construction, so a sync never asks which mode it is in.
import type { ControllerEvent, HpaHistory, ReconcileInput, ReconcileResult } from "../algorithm/index.js";
import type { EventObjectRef } from "./ports.js";
import type { SyncInputs } from "./read.js";

/** Reasons of our own failures (besides the algorithm's Warning events). */
export const FAILED_UPDATE_STATUS = "FailedUpdateStatus";
export const FAILED_PERSIST_HISTORY = "FailedPersistHistory";
export const INVALID_SPEC = "InvalidSpec";
export const INVALID_ANNOTATION = "InvalidAnnotation";

export interface WriteOutcome {
  /** the result as carried out (a failed scale turns into a FailedRescale) */
  result: ReconcileResult;
  /** the reasons of the sync's Warning Events and failed writes, in order */
  errorReasons: string[];
}

export interface SyncWriter {
  /**
   * The history the next recommendation continues: this writer's memory of the HPA when it has
   * one, else what it trusts of the saved history.
   */
  history(key: string, inputs: SyncInputs): HpaHistory | null;
  /** Record an Event on the HPA. Fire and forget. */
  event(ref: EventObjectRef, e: ControllerEvent): void;
  /** Carry out one sync's result: scale, Events, status, history. Never throws for a failed write. */
  write(
    key: string,
    inputs: SyncInputs,
    input: ReconcileInput,
    result: ReconcileResult,
  ): Promise<WriteOutcome>;
  /** Mark an HPA whose spec could not be read. Never throws. */
  invalidSpec(namespace: string, name: string, message: string, now: number): Promise<void>;
  /** Drop what is remembered of one HPA (deleted, or no longer ours). */
  forget(key: string): void;
  /** Drop everything remembered (a new term as leader: another replica may have led meanwhile). */
  forgetAll(): void;
}
