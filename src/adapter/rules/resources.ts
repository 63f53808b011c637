// Which Prometheus labels name which Kubernetes resources, for one rule: its overrides first,
// then its label template ("kube_<<.Group>>_<<.Resource>>"), with names resolved through the
// ResourceMapper so "pod", "pods" and "Pod" are one resource. Answers are cached per label name,
// because discovery asks about the same few label names for every one of 100k series.
import { compileResourceTemplate, type ResourceLabelTemplate } from "../config/templates.js";
import type { ResourceMappingConfig } from "../config/types.js";
import type { GroupResource, ResourceMapper, ResourceMapping } from "../provider.js";

export const NAMESPACES: GroupResource = { group: "", resource: "namespaces" };

export function groupResourceKey(gr: GroupResource): string {
  return gr.group === "" ? gr.resource : `${gr.resource}.${gr.group}`;
}

export function resolveResource(
  mapper: ResourceMapper,
  gr: { group: string; resource: string },
): ResourceMapping | undefined {
  const direct = mapper.resolve(
    gr.group === "" ? gr.resource.toLowerCase() : `${gr.resource.toLowerCase()}.${gr.group}`,
  );
  if (direct || gr.group === "") return direct;
  // Groups come out of label templates sanitized ("networking_k8s_io"); try the dotted form.
  return mapper.resolve(`${gr.resource.toLowerCase()}.${gr.group.replace(/_/g, ".")}`);
}

export class ResourceConverter {
  private readonly template: ResourceLabelTemplate | undefined;
  /** label → mapping (undefined: not a resource label); filled lazily. */
  private readonly byLabel = new Map<string, ResourceMapping | undefined>();
  private readonly labelByResource = new Map<string, string | undefined>();

  constructor(
    private readonly config: ResourceMappingConfig,
    private readonly mapper: ResourceMapper,
  ) {
    if (config.template) {
      const t = compileResourceTemplate(config.template);
      // The loader refused invalid templates; a failure here means a config built in code.
      if (!t.ok) throw new Error(`resources.template: ${t.message}`);
      this.template = t.value;
    }
  }

  /** Forget cached label answers (after the mapper learned new resources, e.g. a CRD). */
  reset(): void {
    this.byLabel.clear();
    this.labelByResource.clear();
  }

  /** The resource a series label names, if any. */
  resourceForLabel(label: string): ResourceMapping | undefined {
    if (this.byLabel.has(label)) return this.byLabel.get(label);
    let found: ResourceMapping | undefined;
    const override = this.config.overrides[label];
    if (override) found = resolveResource(this.mapper, override);
    else if (this.template) {
      for (const gr of this.template.parseAll(label)) {
        found = resolveResource(this.mapper, gr);
        if (found) break;
      }
    }
    this.byLabel.set(label, found);
    return found;
  }

  /** The label that holds names of `resource` in this rule's series. */
  labelForResource(resource: GroupResource): string | undefined {
    const key = groupResourceKey(resource);
    if (this.labelByResource.has(key)) return this.labelByResource.get(key);
    const label = this.findLabel(resource);
    this.labelByResource.set(key, label);
    return label;
  }

  private findLabel(resource: GroupResource): string | undefined {
    for (const [label, gr] of Object.entries(this.config.overrides)) {
      const m = resolveResource(this.mapper, gr);
      if (m && m.groupResource.group === resource.group && m.groupResource.resource === resource.resource)
        return label;
    }
    if (!this.template) return undefined;
    const mapping = resolveResource(this.mapper, resource);
    // The template takes the singular resource name, which is the lower-cased kind.
    const singular = mapping ? mapping.kind.toLowerCase() : resource.resource.replace(/s$/, "");
    return this.template.labelFor(resource.group, singular);
  }
}
