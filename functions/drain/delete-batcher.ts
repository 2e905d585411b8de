import type { BufferQueueClient, HeldWebhook } from './adapters/buffer-queue';

export interface DeleteOutcome {
  readonly deleted: number;
  readonly failed: readonly string[];
}

/**
 * Collects released webhooks from all workers and deletes them ten at a time, so a busy
 * drain spends one DeleteMessageBatch per ten webhooks even when each receive returns one
 * message per repository. A partial batch waits at most `lingerMs`: a repository's next
 * webhook is locked until its predecessor is deleted, so deletes must not wait long.
 */
export class DeleteBatcher {
  private pending: HeldWebhook[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly queue: Pick<BufferQueueClient, 'deleteBatch'>,
    private readonly onResult: (outcome: DeleteOutcome, error?: Error) => void,
    private readonly lingerMs = 20,
  ) {}

  add(messages: readonly HeldWebhook[]): void {
    if (messages.length === 0) return;
    this.pending.push(...messages);
    while (this.pending.length >= 10) this.send(this.pending.splice(0, 10));
    if (this.pending.length > 0 && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.lingerMs);
    }
  }

  /** Deletes pending or in flight: the repositories they hold stay locked until they land. */
  get busy(): boolean {
    return this.pending.length > 0 || this.inFlight.size > 0;
  }

  /** Sends what is pending and waits for every delete in flight. */
  async drain(): Promise<void> {
    this.flush();
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Sends a partial batch now: the drain needs the repositories it unlocks. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) this.send(this.pending.splice(0, 10));
  }

  private send(chunk: HeldWebhook[], isRetry = false): void {
    const call: Promise<void> = this.queue.deleteBatch(chunk).then(
      ({ failed }) => this.settle(call, chunk, failed, undefined, isRetry),
      (error: unknown) => this.settle(call, chunk, chunk.map((m) => m.messageId), error instanceof Error ? error : new Error(String(error)), isRetry),
    );
    this.inFlight.add(call);
  }

  /**
   * A failed entry's receipt handle stays valid while the message is in flight, so it gets
   * one more try at once: a lost delete means a duplicate delivered out of order later.
   */
  private settle(call: Promise<void>, chunk: HeldWebhook[], failed: readonly string[], error: Error | undefined, isRetry: boolean): void {
    if (failed.length > 0 && !isRetry) {
      const failedIds = new Set(failed);
      this.send(chunk.filter((m) => failedIds.has(m.messageId)), true);
      this.report(call, { deleted: chunk.length - failed.length, failed: [] });
      return;
    }
    this.report(call, { deleted: chunk.length - failed.length, failed }, error);
  }

  /** Leaves `busy` before anyone is told, and never lets a reporting error escape. */
  private report(call: Promise<void>, outcome: DeleteOutcome, error?: Error): void {
    this.inFlight.delete(call);
    try {
      this.onResult(outcome, error);
    } catch {
      // The result callback only counts and logs; a failure there must not fail the run.
    }
  }
}
