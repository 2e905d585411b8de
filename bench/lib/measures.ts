/**
 * The bench's derived figures, as pure functions of what it recorded (unit-tested in
 * __tests__/bench/measures.test.ts).
 */

/** [ms since the invocation began, CPU ms since then, webhooks POSTed to Jenkins so far]. */
export type CpuSample = readonly [number, number, number];

export interface SteadyCpu {
  /** Least-squares slope of CPU ms over webhooks sent, inside the window. */
  readonly msPerWebhook: number;
  /** Webhooks inside the window. */
  readonly webhooks: number;
  readonly samples: number;
}

/**
 * CPU per webhook at steady state: the slope of the drain's CPU time against webhooks sent,
 * over the samples taken while between `from` and `to` of the run's webhooks had gone out.
 * Leaving out the start (module warm-up, probe, first receives) and the end (deletes draining,
 * the run summary) keeps fixed per-invocation costs out of it.
 */
export function steadyCpuPerWebhook(samples: readonly CpuSample[], from = 0.25, to = 0.9): SteadyCpu | undefined {
  const total = samples.reduce((m, s) => Math.max(m, s[2]), 0);
  const inside = samples.filter((s) => s[2] >= from * total && s[2] <= to * total);
  if (inside.length < 3) return undefined;
  const n = inside.length;
  const mx = inside.reduce((a, s) => a + s[2], 0) / n;
  const my = inside.reduce((a, s) => a + s[1], 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const [, y, x] of inside) {
    sxy += (x - mx) * (y - my);
    sxx += (x - mx) ** 2;
  }
  if (sxx === 0) return undefined;
  return { msPerWebhook: sxy / sxx, webhooks: inside[n - 1][2] - inside[0][2], samples: n };
}

/** One webhook at Jenkins: when it arrived and when it was answered (epoch ms). */
export interface Visit {
  readonly repo: string | undefined;
  readonly receivedAt: number;
  readonly answeredAt: number;
}

export interface BusyWindow {
  readonly startMs: number;
  readonly endMs: number;
  /** Mean number of webhooks Jenkins was working on inside the window. */
  readonly effectiveConcurrency: number;
  /** Repositories that had webhooks. */
  readonly repositories: number;
}

/**
 * How busy the drain kept Jenkins while it could have kept `cap` webhooks in flight: from the
 * first arrival until fewer than `cap` repositories still had webhooks to come (each repository
 * is sent strictly in order, so no consumer could fill the cap after that), the time-weighted
 * mean of webhooks in flight at Jenkins.
 */
export function busyWindow(visits: readonly Visit[], cap: number): BusyWindow | undefined {
  if (visits.length === 0) return undefined;
  const lastArrival = new Map<string, number>();
  for (const v of visits) {
    const key = v.repo ?? '';
    lastArrival.set(key, Math.max(lastArrival.get(key) ?? -Infinity, v.receivedAt));
  }
  const startMs = Math.min(...visits.map((v) => v.receivedAt));
  const lasts = [...lastArrival.values()].sort((a, b) => b - a);
  // From this moment on fewer than `cap` repositories have a webhook still to arrive.
  const endMs = lasts.length >= cap ? lasts[cap - 1] : startMs;
  if (endMs <= startMs) return { startMs, endMs, effectiveConcurrency: NaN, repositories: lasts.length };
  let busy = 0;
  for (const v of visits) busy += Math.max(0, Math.min(v.answeredAt, endMs) - Math.max(v.receivedAt, startMs));
  return { startMs, endMs, effectiveConcurrency: busy / (endMs - startMs), repositories: lasts.length };
}

export interface RampUp {
  /** From the first arrival until `cap` webhooks were first in flight at once (NaN: never). */
  readonly ms: number;
  /** Slot-milliseconds left idle in that time: what the ramp-up costs the busy window. */
  readonly idleSlotMs: number;
}

/** How long the consumer took to fill the cap from its first arrival at Jenkins. */
export function rampUp(visits: readonly Visit[], cap: number): RampUp {
  const events = inFlightChanges(visits);
  if (events.length === 0) return { ms: NaN, idleSlotMs: NaN };
  const start = events[0][0];
  let inFlight = 0;
  let idleSlotMs = 0;
  let last = start;
  for (const [at, d] of events) {
    idleSlotMs += (cap - inFlight) * (at - last);
    last = at;
    inFlight += d;
    if (inFlight >= cap) return { ms: at - start, idleSlotMs };
  }
  return { ms: NaN, idleSlotMs };
}

/**
 * [time, +1 arrival | -1 answer] for every visit, in time order; an answer sorts before an
 * arrival in the same ms, so those two do not count as overlapping.
 */
function inFlightChanges(visits: readonly Visit[]): Array<[number, number]> {
  const events: Array<[number, number]> = [];
  for (const v of visits) events.push([v.receivedAt, 1], [v.answeredAt, -1]);
  return events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Most webhooks at Jenkins at once, from its timestamps (an answer and an arrival in the same ms do not overlap). */
export function maxOverlap(visits: readonly Visit[]): number {
  const events = inFlightChanges(visits);
  let now = 0;
  let max = 0;
  for (const [, d] of events) {
    now += d;
    max = Math.max(max, now);
  }
  return max;
}

export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], n: sorted.length };
}
