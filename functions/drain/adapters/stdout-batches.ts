/**
 * Lets the drain's log lines leave the process in batches. A run writes a line per webhook;
 * written one by one, each is a write to the stdout pipe that wakes its reader (Lambda's log
 * agent, journald, docker) while the drain should be posting the next webhook. Corked, the
 * lines of up to `flushMs` go out in one write. Lambda, journald and docker split stdout on
 * newlines, so every line is still its own log event, carrying its own timestamp field.
 *
 * Only stdout is held: Powertools writes warnings and errors to stderr, which goes out at once.
 * Runs are one at a time (one Lambda event per container, one agent run after another).
 */
import type { Writable } from 'node:stream';

/** @default 50 ms: at most that much of the log is in the process's memory and not yet out. */
export const LOG_FLUSH_MS = 50;

export class StdoutBatches {
  constructor(
    private readonly stream: Writable = process.stdout,
    private readonly flushMs = LOG_FLUSH_MS,
  ) {}

  /** Runs `work` with the stream corked, flushing every `flushMs` and, whatever happens, at the end. */
  async around<T>(work: () => Promise<T>): Promise<T> {
    const { stream } = this;
    stream.cork();
    const timer = setInterval(() => {
      stream.uncork();
      stream.cork();
    }, this.flushMs);
    timer.unref();
    // An exit in the middle of a run (an uncaught error) still writes what is held.
    const onExit = () => {
      while (stream.writableCorked > 0) stream.uncork();
    };
    process.once('exit', onExit);
    try {
      return await work();
    } finally {
      clearInterval(timer);
      process.removeListener('exit', onExit);
      stream.uncork();
    }
  }
}
