// One discovery rule made ready to use: its regexes compiled, its name mapping decided, its
// query template parsed and its resource labels resolved.
import { type GoRegex, compileGoRegex, expandGo } from "../config/goregex.js";
import type { GoTemplate } from "../config/gotemplate.js";
import { QUERY_FIELDS, compileTemplate } from "../config/templates.js";
import type { DiscoveryRule, ResourceMappingConfig } from "../config/types.js";
import type { ResourceMapper } from "../provider.js";
import { ResourceConverter } from "./resources.js";

function mustRegex(pattern: string, field: string): GoRegex {
  const r = compileGoRegex(pattern);
  if (!r.ok) throw new Error(`${field}: invalid regex ${JSON.stringify(pattern)}: ${r.message}`);
  return r.regex;
}

export function mustTemplate(source: string, field: string): GoTemplate {
  const t = compileTemplate("metrics-query", source, QUERY_FIELDS);
  if (!t.ok) throw new Error(`${field}: ${t.message}`);
  return t.value;
}

export class CompiledRule {
  readonly seriesQuery: string;
  readonly resources: ResourceConverter;
  readonly metricsQuery: GoTemplate;
  readonly namespaced: boolean;
  readonly labelValueReplacements: { find: string; replace: string }[];
  readonly nanAsZero: boolean;
  private readonly filters: { regex: GoRegex; positive: boolean }[];
  private readonly nameRegex: GoRegex;
  private readonly nameAs: string;

  constructor(
    readonly path: string, // "rules[2]", for logs
    rule: DiscoveryRule,
    mapper: ResourceMapper,
  ) {
    this.seriesQuery = rule.seriesQuery.trim();
    this.resources = new ResourceConverter(rule.resources, mapper);
    this.metricsQuery = mustTemplate(rule.metricsQuery, `${path}.metricsQuery`);
    this.namespaced = rule.resources.namespaced !== false;
    this.labelValueReplacements = rule.labelValueReplacements ?? [];
    this.nanAsZero = rule.nanAsZero === true;
    this.filters = rule.seriesFilters.map((f, i) => ({
      regex: mustRegex(f.is ?? f.isNot ?? "", `${path}.seriesFilters[${i}]`),
      positive: f.is !== undefined,
    }));
    const matches = rule.name.matches === "" ? ".*" : rule.name.matches;
    this.nameRegex = mustRegex(matches, `${path}.name.matches`);
    // name.matches is also a filter: series whose names it does not match are not this rule's.
    if (rule.name.matches !== "") this.filters.push({ regex: this.nameRegex, positive: true });
    this.nameAs = rule.name.as !== "" ? rule.name.as : this.nameRegex.groups === 1 ? "$1" : "$0";
  }

  /** The API name for a series name, or undefined when the rule's filters reject it. */
  metricNameFor(seriesName: string): string | undefined {
    for (const f of this.filters) {
      if (f.regex.test(seriesName) !== f.positive) return undefined;
    }
    const m = this.nameRegex.exec(seriesName);
    if (!m) return undefined;
    const name = expandGo(this.nameAs, m);
    return name === "" ? undefined : name;
  }
}

/** A resource rule (cpu or memory) made ready to use. */
export class CompiledResourceRule {
  readonly resources: ResourceConverter;
  readonly containerQuery: GoTemplate;
  readonly nodeQuery: GoTemplate;

  constructor(
    readonly path: string,
    rule: {
      containerQuery: string;
      nodeQuery: string;
      resources: ResourceMappingConfig;
      containerLabel: string;
    },
    mapper: ResourceMapper,
    readonly containerLabel = rule.containerLabel,
  ) {
    this.resources = new ResourceConverter(rule.resources, mapper);
    this.containerQuery = mustTemplate(rule.containerQuery, `${path}.containerQuery`);
    this.nodeQuery = mustTemplate(rule.nodeQuery, `${path}.nodeQuery`);
  }
}
