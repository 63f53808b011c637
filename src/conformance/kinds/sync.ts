import type { KindRunner } from "../vector.js";

/** `sync` vectors: see ../shared/conformance/README.md. */
export const runSync: KindRunner = () => ({ ok: false, expected: "an implementation", got: "the sync kind is not implemented yet" });
