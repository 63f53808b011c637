import type { KindRunner } from "../vector.js";

/** `normalize` vectors: see ../shared/conformance/README.md. */
export const runNormalize: KindRunner = () => ({ ok: false, expected: "an implementation", got: "the normalize kind is not implemented yet" });
