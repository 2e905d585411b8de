/**
 * Lets the drain's log lines leave the process in batches. A run writes a line per webhook;
 * written one by one, each is a write to the stdout pipe that wakes its reader (Lambda's log
 * agent, journald, docker) while the drain should be posting the next webhook. Corked, the
 * lines of up to `flushMs` go out in one write. Lambda, journald and docker split stdout on
 * newlines, so every line is still its own log event, carrying its own timestamp field.
 *
 * Only stdout is held: Powertools writes warnings and errors to stderr, which goes out at once.
 * Runs are one at a time (one Lambda event per container, one agent run after another); should
 * two overlap, the flushes go on until the last ends.
 */
import type { Writable } from 'node:stream';

/** @default 50 ms: at most that much of the log is in the process's memory and not yet out. */
export const LOG_FLUSH_MS = 50;

export class StdoutBatches {
  /** Runs inside `around` now: only the first corks and starts the flushes, only the last stops them. */
  private active = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: Writable = process.stdout,
    private readonly flushMs = LOG_FLUSH_MS,
  ) {}

  /** Runs `work` with the stream corked, flushing every `flushMs` and, whatever happens, at the end. */
  async around<T>(work: () => Promise<T>): Promise<T> {
    if (this.active === 0) this.start();
    this.active += 1;
    try {
      return await work();
    } finally {
      this.active -= 1;
      if (this.active === 0) this.stop();
    }
  }

  private readonly flushAll = () => {
    while (this.stream.writableCorked > 0) this.stream.uncork();
  };

  private start(): void {
    this.stream.cork();
    this.timer = setInterval(() => {
      this.flushAll();
      this.stream.cork();
    }, this.flushMs);
    this.timer.unref();
    // An exit in the middle of a run (an uncaught error) still writes what is held.
    process.once('exit', this.flushAll);
  }

  private stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    process.removeListener('exit', this.flushAll);
    this.flushAll();
  }
}
