/** Backoff between attempts of one webhook inside a run: 250 ms, 500 ms, 1 s ... capped at 5 s. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 5000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** Total wait a webhook can spend in backoff over all its attempts. */
export function totalBackoffMs(maxAttempts: number): number {
  let total = 0;
  for (let attempt = 1; attempt < maxAttempts; attempt += 1) total += backoffMs(attempt);
  return total;
}

/** SQS visibility timeouts are whole seconds from 0 to 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43200;

/** How long to hide a held repository's messages: Retry-After if given, else the default hold. */
export function holdVisibilitySeconds(retryAfterMs: number | undefined, defaultHoldSeconds: number): number {
  const seconds = retryAfterMs === undefined ? defaultHoldSeconds : Math.ceil(retryAfterMs / 1000);
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, seconds));
}

/**
 * SQS rejects a visibility timeout that reaches past 12 hours after a message's first receive,
 * so a long hold is shortened to what is left of that window (the next run holds it again).
 */
export function visibilityWithinWindow(seconds: number, firstReceivedAt: readonly (number | undefined)[], now: number): number {
  const earliest = Math.min(...firstReceivedAt.map((at) => at ?? now));
  const leftSeconds = Math.floor(MAX_VISIBILITY_SECONDS - (now - earliest) / 1000) - 1;
  return Math.max(0, Math.min(seconds, leftSeconds));
}
