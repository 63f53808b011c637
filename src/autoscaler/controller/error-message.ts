/** The message of a thrown value, for logs, conditions and Events. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
