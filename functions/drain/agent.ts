/**
 * The drain as a long-running process next to Jenkins (outbound only): the same runs as the
 * Lambda, back to back. While the spigot is closed, or another agent holds the run lease, it
 * looks again every couple of seconds, so an operator's open is acted on within seconds.
 */
import type { DrainRuntime } from './runtime';
import { worstCaseSendMs } from './core/retry';
import { errorMessage } from '../shared/error-message';

export interface AgentOptions {
  /** Pause between looks while closed, skipped, or after a failed run. @default 2000 */
  readonly idlePauseMs?: number;
  /**
   * How often a closed spigot gets a scheduled run (the one that probes for auto-reopen), so N
   * healthy probes mean N minutes, as with the Lambda's schedule. @default 60000
   */
  readonly scheduleEveryMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** Runs until `stopRequested()` turns true; the run in progress then hands back what it holds. */
export async function runAgent(runtime: DrainRuntime, stopRequested: () => boolean, options: AgentOptions = {}): Promise<void> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const idlePauseMs = options.idlePauseMs ?? 2000;
  const scheduleEveryMs = options.scheduleEveryMs ?? 60_000;
  const { settings } = runtime;
  // Receiving stops at maxRunMs; a webhook started just before must still finish all its attempts.
  const runLengthMs = settings.maxRunMs + worstCaseSendMs(settings.httpTimeoutMs, settings.maxAttempts) + 5000;
  /** Short steps, so a stop request never waits out a whole pause. */
  const pause = async (ms: number) => {
    for (const end = now() + ms; !stopRequested() && now() < end; ) await sleep(Math.min(200, end - now()));
  };
  let lastScheduledAt = -Infinity;
  runtime.log.info('agent started', { concurrency: settings.concurrency, maxRunMs: settings.maxRunMs });
  while (!stopRequested()) {
    const scheduled = now() - lastScheduledAt >= scheduleEveryMs;
    if (scheduled) lastScheduledAt = now();
    const deadline = now() + runLengthMs;
    try {
      const result = await runtime.run(scheduled ? 'schedule' : 'spigot-changed', { remainingMs: () => deadline - now(), stopRequested });
      if ('skipped' in result || result.spigot === 'closed') await pause(idlePauseMs);
    } catch (error) {
      // The run handed back what it held; SQS or SSM may be briefly away. Try again shortly.
      runtime.log.error('agent run failed; trying again', { error: errorMessage(error) });
      await pause(idlePauseMs);
    }
  }
  runtime.log.info('agent stopped');
}
