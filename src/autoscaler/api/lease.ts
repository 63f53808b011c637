// The leader-election lease as a coordination.k8s.io/v1 Lease object.
import { z } from "zod";
import type { LeaseRecord, LeaseStore, StoredLease } from "../leader/election.js";
import { seg, type KubeApi } from "../../kube/client.js";
import { isNotFound, orThrow } from "../../kube/errors.js";

const leaseSchema = z.looseObject({
  metadata: z.looseObject({ name: z.string(), resourceVersion: z.string().optional() }),
  spec: z
    .looseObject({
      holderIdentity: z.string().nullable().optional(),
      leaseDurationSeconds: z.number().int().nullable().optional(),
      acquireTime: z.string().nullable().optional(),
      renewTime: z.string().nullable().optional(),
      leaseTransitions: z.number().int().nullable().optional(),
    })
    .optional(),
});

/** metav1.MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

function toStored(obj: unknown): StoredLease {
  const lease = leaseSchema.parse(obj);
  const spec = lease.spec ?? {};
  const time = (s: string | null | undefined) => (s == null ? 0 : Date.parse(s) || 0);
  return {
    resourceVersion: lease.metadata.resourceVersion ?? "",
    record: {
      holderIdentity: spec.holderIdentity ?? "",
      leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
      acquireTime: time(spec.acquireTime),
      renewTime: time(spec.renewTime),
      leaseTransitions: spec.leaseTransitions ?? 0,
    },
  };
}

export class KubeLeaseStore implements LeaseStore {
  readonly description: string;
  private readonly path: string;

  constructor(
    private readonly http: KubeApi,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    this.description = `lease ${namespace}/${name}`;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${seg(namespace)}/leases`;
  }

  private body(record: LeaseRecord, resourceVersion?: string): unknown {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.name,
        namespace: this.namespace,
        ...(resourceVersion !== undefined ? { resourceVersion } : {}),
      },
      spec: {
        holderIdentity: record.holderIdentity,
        leaseDurationSeconds: record.leaseDurationSeconds,
        acquireTime: microTime(record.acquireTime),
        renewTime: microTime(record.renewTime),
        leaseTransitions: record.leaseTransitions,
      },
    };
  }

  async get(): Promise<StoredLease | null> {
    const r = await this.http.request("GET", `${this.path}/${seg(this.name)}`);
    if (!r.ok && isNotFound(r.error)) return null;
    return toStored(orThrow(r));
  }

  async create(record: LeaseRecord): Promise<StoredLease> {
    return toStored(orThrow(await this.http.request("POST", this.path, { body: this.body(record) })));
  }

  async update(record: LeaseRecord, resourceVersion: string): Promise<StoredLease> {
    return toStored(
      orThrow(
        await this.http.request("PUT", `${this.path}/${seg(this.name)}`, {
          body: this.body(record, resourceVersion),
        }),
      ),
    );
  }
}
