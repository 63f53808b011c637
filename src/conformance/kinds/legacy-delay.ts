import type { KindRunner } from "../vector.js";

/** `legacyDelay` vectors: see ../shared/conformance/README.md. */
export const runLegacyDelay: KindRunner = () => ({ ok: false, expected: "an implementation", got: "the legacyDelay kind is not implemented yet" });
