import { z } from "zod";

/** An RFC 3339 time of a vector, as epoch milliseconds. */
export const rfc3339ToEpochMs = z.string().transform((s, ctx) => {
  const ms = Date.parse(s);
  if (Number.isNaN(ms)) {
    ctx.addIssue({ code: "custom", message: `not an RFC 3339 time: ${s}` });
    return z.NEVER;
  }
  return ms;
});
