import type { KindRunner } from "../vector.js";

/** `replicaCalc` vectors: see ../shared/conformance/README.md. */
export const runReplicaCalc: KindRunner = () => ({ ok: false, expected: "an implementation", got: "the replicaCalc kind is not implemented yet" });
