// Who Prometheus scrapes, as the dashboard, the alerts and the ServiceMonitors name them: the
// prometheus-operator sets `job` to the Service's name, so the Services' names are the jobs.
import { ADAPTER, AUTOSCALER, apiServices } from "../install.js";

export const JOBS = {
  adapter: ADAPTER.name,
  autoscaler: AUTOSCALER.name,
} as const;

/** The names of the APIServices the install registers, for the availability alert. */
export function apiServiceNames(): string[] {
  return apiServices().map((o) => o.metadata.name);
}
