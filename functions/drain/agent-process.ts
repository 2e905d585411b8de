/**
 * The agent as a process, for every way it is started (agent-main.ts in the image and the
 * systemd unit, `spigot agent` in the CLI): SIGTERM or SIGINT stops receiving, lets what is in
 * flight finish (or hands it back), flushes deletes and metrics, and resolves 0; a stop that takes
 * longer than one webhook's worst case exits 1 (nothing is lost: what it held reappears after the
 * queue's visibility timeout).
 */
import { runAgent } from './agent';
import { worstCaseSendMs } from './core/retry';
import type { DrainRuntime } from './runtime';
import { errorMessage } from '../shared/error-message';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Runs the agent until a signal; resolves to the exit code. `env` may set AGENT_IDLE_PAUSE_MS. */
export async function runAgentProcess(runtime: DrainRuntime, env: Record<string, string | undefined> = process.env): Promise<number> {
  let stopping = false;
  const stopWithinMs = worstCaseSendMs(runtime.settings.httpTimeoutMs, runtime.settings.maxAttempts) + 10_000;
  const onSignal = (signal: NodeJS.Signals) => {
    // A second signal then ends the process at once (Node's default), for an operator who will not wait.
    for (const s of SIGNALS) process.off(s, onSignal);
    stopping = true;
    runtime.log.info('stopping: no new receives; finishing or handing back what is in flight', { signal, withinMs: stopWithinMs });
    setTimeout(() => process.exit(1), stopWithinMs).unref();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  const idlePauseMs = env.AGENT_IDLE_PAUSE_MS ? Number(env.AGENT_IDLE_PAUSE_MS) : undefined;
  try {
    await runAgent(runtime, () => stopping, { idlePauseMs });
    await runtime.close();
    return 0;
  } catch (error) {
    runtime.log.error('agent failed', { error: errorMessage(error) });
    return 1;
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
