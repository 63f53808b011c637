// Sends the load of one segment with autocannon; counts responses so the runner can sample rps.
import autocannon from "autocannon";
import type { Segment } from "./schedule.js";

export interface LoadHandle {
  /** Stops sending and waits until autocannon has wound down. */
  stop(): Promise<void>;
}

export interface LoadDriver {
  /** Starts the segment's load; the runner stops it when the segment's time is up. */
  start(segment: Segment): LoadHandle;
  /** Responses received so far (any status). */
  completedRequests(): number;
  /** Requests that failed without a response (refused, reset, timed out). */
  failedRequests(): number;
  /** Responses with a status >= 400. */
  errorResponses(): number;
}

export function autocannonDriver(url: URL): LoadDriver {
  let completed = 0;
  let failed = 0;
  let errorResponses = 0;
  return {
    start(segment) {
      if (segment.rate === 0) return { stop: async () => {} };
      let finished!: () => void;
      const done = new Promise<void>((resolve) => {
        finished = resolve;
      });
      // Callback form: autocannon reports bad options and the final result through it.
      const instance = autocannon(
        {
          url: url.href,
          connections: segment.connections,
          ...(segment.rate !== undefined ? { overallRate: segment.rate } : {}),
          // The runner stops each segment on time; this only bounds a runner that hangs.
          duration: Math.ceil(segment.duration) + 30,
          timeout: 10,
        },
        () => finished(),
      );
      instance.on("response", (_client, statusCode) => {
        completed++;
        if (statusCode >= 400) errorResponses++;
      });
      instance.on("reqError", () => {
        failed++;
      });
      return {
        stop: async () => {
          instance.stop();
          await done;
        },
      };
    },
    completedRequests: () => completed,
    failedRequests: () => failed,
    errorResponses: () => errorResponses,
  };
}
