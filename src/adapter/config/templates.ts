// The two kinds of template in a config and the data they see: query templates (metricsQuery,
// containerQuery, nodeQuery) over .Series/.LabelMatchers/..., and the resource label template
// (resources.template) over .Group/.Resource, which also works backwards, label → resource.
import { type GoRegex, compileGoRegex } from "./goregex.js";
import { GoTemplate, TemplateError, TemplateStruct } from "./gotemplate.js";

export const QUERY_FIELDS = [
  "Series",
  "LabelMatchers",
  "LabelValuesByName",
  "GroupBy",
  "GroupBySlice",
] as const;
export const RESOURCE_FIELDS = ["Group", "Resource"] as const;

export interface QueryTemplateArgs {
  series: string;
  labelMatchers: string;
  labelValuesByName: Record<string, string>;
  groupBy: string;
  groupBySlice: string[];
}

export function queryTemplateData(a: QueryTemplateArgs): TemplateStruct {
  return new TemplateStruct("naming.queryTemplateArgs", {
    Series: a.series,
    LabelMatchers: a.labelMatchers,
    LabelValuesByName: a.labelValuesByName,
    GroupBy: a.groupBy,
    GroupBySlice: a.groupBySlice,
  });
}

export type Compiled<T> = { ok: true; value: T } | { ok: false; message: string };

/** Parses a template and checks that every field it reads from the top level is one of `known`. */
export function compileTemplate(
  name: string,
  source: string,
  known: readonly string[],
): Compiled<GoTemplate> {
  let t: GoTemplate;
  try {
    t = GoTemplate.parse(name, source);
  } catch (e) {
    return { ok: false, message: e instanceof TemplateError ? e.message : String(e) };
  }
  for (const f of t.fields) {
    const head = f.chain[0];
    if (f.onRoot && head !== undefined && !known.includes(head)) {
      return {
        ok: false,
        message: `unknown template variable <<.${head}>> at ${f.line}:${f.col} (known: ${known.map((k) => "." + k).join(", ")})`,
      };
    }
  }
  return { ok: true, value: t };
}

export function renderTemplate(t: GoTemplate, data: unknown): Compiled<string> {
  try {
    return { ok: true, value: t.execute(data) };
  } catch (e) {
    return { ok: false, message: e instanceof TemplateError ? e.message : String(e) };
  }
}

/** Kubernetes group names become label-safe the way prometheus-adapter does it. */
export function sanitizeGroup(group: string): string {
  return group.replace(/[.-]/g, "_");
}

export interface ResourceLabelTemplate {
  source: string;
  /** Label for a resource: group sanitized, resource singular (as the caller passes it). */
  labelFor(group: string, singularResource: string): string;
  /** Resource named by a label, when the label has the template's form. */
  parse(label: string): { group: string; resource: string } | undefined;
  /** Every reading of the label (lazy and greedy group), first the lazy one. */
  parseAll(label: string): { group: string; resource: string }[];
}

export function compileResourceTemplate(source: string): Compiled<ResourceLabelTemplate> {
  const t = compileTemplate("resource-label", source, RESOURCE_FIELDS);
  if (!t.ok) return t;
  const tmpl = t.value;
  // The template run backwards: a regex with named groups where .Group and .Resource go. Core
  // resources have an empty group, so the group may be empty. A lazy and a greedy group
  // give both readings of labels like kube_networking_k8s_io_ingress; callers try each.
  const patternFor = (group: string): Compiled<string> =>
    renderTemplate(
      tmpl,
      new TemplateStruct("schema.GroupResource", { Group: group, Resource: "(?P<resource>.+?)" }),
    );
  const lazy = patternFor("(?P<group>.*?)");
  if (!lazy.ok) return lazy;
  if (!lazy.value.includes("(?P<resource>")) {
    const hint = source.includes("${")
      ? " (templates use << >> delimiters; ${ }$ was prometheus-adapter v0.2's syntax)"
      : "";
    return { ok: false, message: `${JSON.stringify(source)} must include <<.Resource>>${hint}` };
  }
  const greedy = patternFor("(?P<group>.*)");
  const regexes: GoRegex[] = [];
  for (const p of [lazy, greedy]) {
    if (!p.ok) return p;
    const re = compileGoRegex("^" + p.value + "$");
    if (!re.ok)
      return {
        ok: false,
        message: `${JSON.stringify(source)} does not give a usable label pattern: ${re.message}`,
      };
    regexes.push(re.regex);
  }
  return {
    ok: true,
    value: {
      source,
      labelFor(group, resource) {
        return tmpl.execute(
          new TemplateStruct("schema.GroupResource", { Group: sanitizeGroup(group), Resource: resource }),
        );
      },
      parse(label) {
        return this.parseAll(label)[0];
      },
      parseAll(label) {
        const out: { group: string; resource: string }[] = [];
        for (const re of regexes) {
          const m = re.exec(label);
          const resource = m?.named("resource");
          if (resource === undefined) continue;
          const group = m?.named("group") ?? "";
          if (!out.some((o) => o.group === group && o.resource === resource)) out.push({ group, resource });
        }
        return out;
      },
    },
  };
}
