/** A caught value's message, whatever was thrown (SDKs and libraries do not always throw Errors). */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
