/** The Lambda entry point: one drain run per invocation (schedule, spigot change, or by hand). */
import type { DrainResult, DrainTrigger } from './drain';
import { createDrainRuntime, type ProbeOnlyResult, type SkippedRun } from './runtime';

export type { ProbeOnlyResult, SkippedRun } from './runtime';

// Built once per cold start: a bad environment fails here, before any message moves.
const runtime = createDrainRuntime();

interface DrainEvent {
  readonly source?: string;
  readonly 'detail-type'?: string;
  /** `spigot doctor`: probe Jenkins from where the drain runs, release nothing. */
  readonly probeOnly?: boolean;
}

export function triggerOf(event: DrainEvent | undefined): DrainTrigger {
  if (event?.source === 'aws.ssm') return 'spigot-changed';
  if (event?.source === 'aws.events' || event?.['detail-type'] === 'Scheduled Event') return 'schedule';
  return 'manual';
}

export async function handler(event: DrainEvent | undefined, context: { getRemainingTimeInMillis(): number }): Promise<DrainResult | SkippedRun | ProbeOnlyResult> {
  if (event?.probeOnly === true) return runtime.probeOnly();
  return runtime.run(triggerOf(event), { remainingMs: () => context.getRemainingTimeInMillis() });
}
