/**
 * When to stop receiving and when to stop sending, from the Lambda's remaining time.
 *
 * A webhook is only started if all its attempts (timeouts plus backoff) fit before the
 * deadline, with a margin for the final SQS calls; the queue's visibility timeout outlives
 * the whole invocation, so a message being sent never becomes visible to anyone else.
 */
export interface TimeBudgetOptions {
  readonly startedAt: number;
  readonly maxRunMs: number;
  readonly httpTimeoutMs: number;
  readonly maxAttempts: number;
  readonly totalBackoffMs: number;
  /** Time kept for the final deletes and visibility changes. @default 3000 */
  readonly finishMarginMs?: number;
}

export class TimeBudget {
  private readonly perWebhookMs: number;
  private readonly finishMarginMs: number;

  constructor(
    private readonly options: TimeBudgetOptions,
    private readonly remainingMs: () => number,
    private readonly now: () => number = Date.now,
  ) {
    this.perWebhookMs = options.httpTimeoutMs * options.maxAttempts + options.totalBackoffMs;
    this.finishMarginMs = options.finishMarginMs ?? 3000;
  }

  /** Receiving is allowed while the run is young and a whole webhook could still be sent. */
  canReceive(): boolean {
    return this.now() - this.options.startedAt < this.options.maxRunMs && this.canSend();
  }

  /** Starting one more webhook is safe only if all its attempts fit before the deadline. */
  canSend(): boolean {
    return this.remainingMs() > this.perWebhookMs + this.finishMarginMs;
  }

  /**
   * Waiting `ms` in the worker (the message still in flight, no receive spent) is allowed
   * when the wait ends inside the run and a whole webhook still fits after it.
   */
  canWait(ms: number): boolean {
    const endsInRun = this.now() + ms <= this.options.startedAt + this.options.maxRunMs;
    return endsInRun && this.remainingMs() - ms > this.perWebhookMs + this.finishMarginMs;
  }

  /** Seconds left for receiving; bounds the long-poll wait. */
  receiveWindowSeconds(): number {
    const byRun = this.options.maxRunMs - (this.now() - this.options.startedAt);
    const byDeadline = this.remainingMs() - this.perWebhookMs - this.finishMarginMs;
    return Math.max(0, Math.floor(Math.min(byRun, byDeadline) / 1000));
  }
}
