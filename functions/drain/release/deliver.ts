import type { HeldWebhook } from '../adapters/buffer-queue';
import type { FailureRun } from '../core/failure-run';
import type { Outcome } from '../core/outcome';
import { backoffMs } from '../core/retry';
import type { RunControl } from './run-control';
import type { Delivery, ReleaseDeps, ReleaseOptions, ReleaseStats } from './types';

export interface DeliverContext {
  readonly deps: Pick<ReleaseDeps, 'attempt' | 'budget' | 'spigotOpen' | 'rateLimiter'>;
  readonly options: Pick<ReleaseOptions, 'maxAttempts' | 'hold'>;
  readonly run: RunControl;
  readonly failures: FailureRun;
  readonly stats: ReleaseStats;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * Sends one webhook. Transient failures are retried with backoff; a busy Jenkins is waited
 * for in the worker when its Retry-After ends inside the run (no receive spent). Only a
 * webhook's final outcome counts towards closing the spigot, so one blip that resets every
 * open connection does not close it while the retries would succeed.
 */
export async function deliver(message: HeldWebhook, ctx: DeliverContext): Promise<Delivery> {
  const { deps, options, run, stats } = ctx;
  const settle = (outcome: Outcome) => {
    const closeReason = ctx.failures.record(outcome);
    if (closeReason) run.stop('auto-close', closeReason);
  };
  for (let attempt = 1; ; ) {
    // Pace first, then check: the checks must hold at the moment the POST goes out.
    await deps.rateLimiter?.take();
    // An operator closing the spigot stops even a batch already being sent (re-read every few seconds).
    if (!run.stopped && !(await deps.spigotOpen())) run.stop('closed');
    if (run.stopped || !deps.budget.canSend()) return { kind: 'hand-back', why: run.stopped ? 'drain stopping' : 'deadline near' };
    const outcome = await deps.attempt(message);
    switch (outcome.kind) {
      case 'delivered':
        settle(outcome);
        return { kind: 'delivered' };
      case 'poison':
        settle(outcome);
        return { kind: 'refused', refusal: outcome.status, status: outcome.status, reason: outcome.reason };
      case 'busy': {
        settle(outcome);
        const waitMs = outcome.retryAfterMs ?? options.hold.defaultHoldSeconds * 1000;
        if (!run.stopped && deps.budget.canWait(waitMs)) {
          stats.retried += 1;
          await run.pause(waitMs);
          continue;
        }
        const why = `Jenkins busy (${outcome.status})`;
        return run.stopped ? { kind: 'hand-back', why } : { kind: 'hold', retryAfterMs: outcome.retryAfterMs, why };
      }
      case 'transient':
        if (attempt >= options.maxAttempts || run.stopped) {
          if (!run.stopped) settle(outcome);
          const why = `gave up for this run: ${outcome.reason}`;
          return run.stopped ? { kind: 'hand-back', why } : { kind: 'hold', why };
        }
        stats.retried += 1;
        await ctx.sleep(backoffMs(attempt));
        attempt += 1;
    }
  }
}
