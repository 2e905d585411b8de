/**
 * How one attempt to hand a webhook to Jenkins turned out, and what to do about it.
 * Pure: the release loop acts on the classification.
 */
export type Outcome =
  | { readonly kind: 'delivered'; readonly status: number }
  /** Jenkins is busy (429/503): hold the repository, honouring Retry-After. */
  | { readonly kind: 'busy'; readonly status: number; readonly retryAfterMs?: number }
  /** Worth retrying in this run: other 5xx, 408, timeouts, connection errors. */
  | { readonly kind: 'transient'; readonly reason: string; readonly status?: number }
  /** Jenkins will never accept it (400 bad signature, 404 no such job...): dead-letter it. */
  | { readonly kind: 'poison'; readonly status: number; readonly reason: string };

export function classifyResponse(status: number, headers: Readonly<Record<string, string | undefined>>, now = Date.now()): Outcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', status };
  if (status === 429 || status === 503) {
    return { kind: 'busy', status, retryAfterMs: parseRetryAfter(headers['retry-after'], now) };
  }
  if (status >= 500 || status === 408) return { kind: 'transient', status, reason: `Jenkins answered ${status}` };
  // 3xx would mean a wrong JENKINS_URL or route (a redirect drops the POST body): not retryable either.
  return { kind: 'poison', status, reason: `Jenkins answered ${status}` };
}

/** Network-level failure (refused, reset, timeout): the request may not have reached Jenkins. */
export function classifyError(error: unknown): Extract<Outcome, { kind: 'transient' }> {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return { kind: 'transient', reason: code ? `${code}: ${message}` : message };
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only an HTTP date (e.g. "Wed, 21 Oct 2026 07:28:00 GMT"); Date.parse would read "-1" as a year.
  if (!/^[A-Za-z]{3},? /.test(trimmed) || !/\d{2}:\d{2}:\d{2}/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
