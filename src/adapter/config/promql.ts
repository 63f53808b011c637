// PromQL syntax checks with Prometheus' own grammar (@prometheus-io/lezer-promql, the parser
// behind the Prometheus UI). It checks syntax only; Prometheus still judges types and functions
// when the query runs.
import { parser } from "@prometheus-io/lezer-promql";

export type PromQLCheck = { ok: true; topNode: string } | { ok: false; message: string };

export function checkPromQL(query: string): PromQLCheck {
  if (query.trim() === "") return { ok: false, message: "empty query" };
  const tree = parser.parse(query);
  let errorAt: number | undefined;
  tree.iterate({
    enter: (n) => {
      if (errorAt === undefined && n.type.isError) errorAt = n.from;
      return errorAt === undefined;
    },
  });
  if (errorAt !== undefined) {
    const before = query.slice(0, errorAt);
    const line = before.split("\n").length;
    const col = errorAt - before.lastIndexOf("\n");
    const near = query.slice(errorAt, errorAt + 20);
    return {
      ok: false,
      message: `PromQL syntax error at ${line}:${col}${near ? ` near ${JSON.stringify(near)}` : " (unexpected end of query)"}`,
    };
  }
  return { ok: true, topNode: tree.topNode.firstChild?.type.name ?? "" };
}
