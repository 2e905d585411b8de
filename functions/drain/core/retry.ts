/** Backoff between attempts of one webhook inside a run: 250 ms, 500 ms, 1 s ... capped at 5 s. */
export function backoffMs(attempt: number, baseMs = 250, capMs = 5000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** The longest one webhook can take: every attempt timing out, plus the backoff between them. */
export function worstCaseSendMs(httpTimeoutMs: number, maxAttempts: number): number {
  return httpTimeoutMs * maxAttempts + totalBackoffMs(maxAttempts);
}

/** Total wait a webhook can spend in backoff over all its attempts. */
export function totalBackoffMs(maxAttempts: number): number {
  let total = 0;
  for (let attempt = 1; attempt < maxAttempts; attempt += 1) total += backoffMs(attempt);
  return total;
}
