import type { KindRunner } from "../vector.js";

/** `quantity` vectors: see ../shared/conformance/README.md. */
export const runQuantity: KindRunner = () => ({ ok: false, expected: "an implementation", got: "the quantity kind is not implemented yet" });
