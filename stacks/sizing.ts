/**
 * How fast the drain Lambda can release webhooks for a given memory size, next to how fast
 * Jenkins takes them. Lambda gives CPU in proportion to memory (one full vCPU at 1769 MB); the
 * drain is one Node.js event loop, so more than one vCPU does not make it faster. Its CPU cost
 * per webhook at steady state is what `npm run bench` measures (README "Sizing the drain").
 */

export const MB_PER_VCPU = 1769;
/**
 * The drain's CPU budget per webhook at steady state, in ms: `npm run bench` fails when the
 * measured figure is above it, so sizing from it never promises more than the drain delivers.
 * Assumes a Lambda vCPU is as fast as one core of the bench machine.
 */
export const DRAIN_CPU_MS_PER_WEBHOOK = 0.6;
/** The Jenkins the sizing rules are checked against: it answers a webhook in 50 ms. */
export const REFERENCE_JENKINS_MS = 50;
export const LAMBDA_MIN_MB = 128;
export const LAMBDA_MAX_MB = 10240;

/** Webhooks per second the drain's CPU sustains with `memoryMb`. */
export function drainRate(memoryMb: number, cpuMsPerWebhook: number): number {
  return (Math.min(1, memoryMb / MB_PER_VCPU) * 1000) / cpuMsPerWebhook;
}

/** Webhooks per second Jenkins takes with `concurrency` in flight, each taking `jenkinsMs`. */
export function jenkinsRate(concurrency: number, jenkinsMs: number): number {
  return (concurrency * 1000) / jenkinsMs;
}

export interface SizingCell {
  readonly memoryMb: number;
  readonly concurrency: number;
  readonly drainPerSecond: number;
  readonly jenkinsPerSecond: number;
  /** The slower of the two: what a backlog drains at. */
  readonly releasePerSecond: number;
  readonly limitedBy: 'drain' | 'jenkins';
  /** drainPerSecond / jenkinsPerSecond: above 1 Jenkins is the limit. */
  readonly headroom: number;
}

export function sizingCell(memoryMb: number, concurrency: number, cpuMsPerWebhook: number, jenkinsMs: number): SizingCell {
  const drainPerSecond = drainRate(memoryMb, cpuMsPerWebhook);
  const jenkinsPerSecond = jenkinsRate(concurrency, jenkinsMs);
  return {
    memoryMb, concurrency, drainPerSecond, jenkinsPerSecond,
    releasePerSecond: Math.min(drainPerSecond, jenkinsPerSecond),
    limitedBy: drainPerSecond < jenkinsPerSecond ? 'drain' : 'jenkins',
    headroom: drainPerSecond / jenkinsPerSecond,
  };
}

/** One row per memory size, one cell per concurrency. */
export function sizingTable(cpuMsPerWebhook: number, memories: readonly number[], concurrencies: readonly number[], jenkinsMs: number): SizingCell[][] {
  return memories.map((m) => concurrencies.map((c) => sizingCell(m, c, cpuMsPerWebhook, jenkinsMs)));
}

/**
 * The least memory (whole MB, at least Lambda's 128) at which the drain releases `headroom`
 * times as fast as Jenkins takes webhooks; undefined when even a full vCPU is not enough.
 */
export function minimumMemoryMb(cpuMsPerWebhook: number, concurrency: number, jenkinsMs: number, headroom: number): number | undefined {
  const needed = (headroom * jenkinsRate(concurrency, jenkinsMs) * cpuMsPerWebhook) / 1000; // vCPUs
  if (needed > 1) return undefined;
  return Math.max(LAMBDA_MIN_MB, Math.ceil(needed * MB_PER_VCPU - 1e-9));
}
