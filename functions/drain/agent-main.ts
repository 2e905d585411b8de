/**
 * `spigot agent` / the container's command: the drain as a process. SIGTERM or SIGINT stops
 * receiving, lets what is in flight finish (or hands it back), flushes deletes and exits 0; a
 * process that does not manage that in time exits 1 (nothing is lost: what it held reappears
 * after the queue's visibility timeout).
 */
import { runAgent } from './agent';
import { worstCaseSendMs } from './core/retry';
import { createDrainRuntime } from './runtime';

const runtime = createDrainRuntime();
let stopping = false;
const stopWithinMs = worstCaseSendMs(runtime.settings.httpTimeoutMs, runtime.settings.maxAttempts) + 10_000;

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    stopping = true;
    runtime.log.info('stopping: no new receives; finishing or handing back what is in flight', { signal, withinMs: stopWithinMs });
    setTimeout(() => process.exit(1), stopWithinMs).unref();
  });
}

const idlePauseMs = process.env.AGENT_IDLE_PAUSE_MS ? Number(process.env.AGENT_IDLE_PAUSE_MS) : undefined;
runAgent(runtime, () => stopping, { idlePauseMs }).then(
  () => {
    runtime.close();
    process.exitCode = 0;
  },
  (error: unknown) => {
    runtime.log.error('agent failed', { error: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  },
);
