/**
 * In-memory stand-ins for the release loop's collaborators. Not a test file (jest only
 * runs *.test.ts); shared by release.test.ts.
 */
import type { BatchResult, BufferQueueClient, DeadLetterReason, HeldWebhook } from '../../../functions/drain/adapters/buffer-queue';
import type { Outcome } from '../../../functions/drain/core/outcome';
import { totalBackoffMs } from '../../../functions/drain/core/retry';
import { TimeBudget } from '../../../functions/drain/core/time-budget';
import type { ReleaseLog } from '../../../functions/drain/release';

export type QueuePort = Pick<BufferQueueClient, 'receive' | 'deleteBatch' | 'setVisibility' | 'deadLetter'>;

export type QueueCall =
  | { readonly op: 'receive'; readonly max: number; readonly wait: number; readonly returned: readonly string[] }
  | { readonly op: 'delete'; readonly ids: readonly string[] }
  | { readonly op: 'visibility'; readonly ids: readonly string[]; readonly seconds: number }
  | { readonly op: 'dead-letter'; readonly id: string; readonly why: DeadLetterReason };

/** A clock that only moves when the code under test sleeps. */
export class FakeClock {
  t = 0;
  readonly sleeps: number[] = [];
  readonly now = (): number => this.t;
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.t += ms;
  };
}

/** Resolves after n turns of the event loop (macrotasks), so concurrent work really overlaps. */
export async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

interface Stored {
  message: HeldWebhook;
  visibleAt: number;
  receives: number;
}

/**
 * A FIFO queue with SQS's rules that matter here: messages of a group come out in order,
 * and a group is locked while its oldest message is invisible (in flight or held).
 * All its calls settle without leaving the microtask queue.
 */
export class FakeFifoQueue implements QueuePort {
  readonly calls: QueueCall[] = [];
  readonly deadLettered: Array<{ id: string; why: DeadLetterReason }> = [];
  readonly deletedIds: string[] = [];
  /** Lets a test make a delete call fail (throw) or report failed ids. */
  onDelete?: (ids: readonly string[], callNumber: number) => BatchResult;
  /** Lets a test reorder what one receive returns (SQS never does; the drain must not rely on it). */
  reorder?: (messages: HeldWebhook[]) => HeldWebhook[];
  /** Lets a test make dead-lettering fail. */
  onDeadLetter?: (id: string) => void;
  /**
   * Fill each receive from as few repositories as possible, as SQS does ("as many messages
   * with the same message group ID as possible"): a repository's messages first, then the
   * next repository's. The default takes messages in send order across repositories.
   */
  fillFromFewestRepositories = false;
  private readonly stored: Stored[] = [];
  private sequence = 10n ** 20n - 3n;
  private deleteCalls = 0;

  constructor(private readonly clock: FakeClock, private readonly visibilityTimeoutMs = 15 * 60_000) {}

  send(groupId: string, messageId: string): void {
    // Crosses from 20 to 21 digits after a few messages: only a numeric compare keeps order.
    this.sequence += 1n;
    this.stored.push({
      message: { messageId, receiptHandle: `rh-${messageId}`, body: `body of ${messageId}`, groupId, sequenceNumber: this.sequence.toString(), receiveCount: 0, sentAt: this.clock.now(), receivedAt: 0 },
      visibleAt: 0,
      receives: 0,
    });
  }

  async receive(maxMessages: number, waitSeconds: number): Promise<HeldWebhook[]> {
    const now = this.clock.now();
    const blocked = new Set<string>();
    const out: HeldWebhook[] = [];
    for (const s of this.receiveOrder()) {
      if (out.length >= maxMessages) break;
      if (blocked.has(s.message.groupId)) continue;
      if (s.visibleAt > now) {
        blocked.add(s.message.groupId);
        continue;
      }
      s.visibleAt = now + this.visibilityTimeoutMs;
      s.receives += 1;
      out.push({ ...s.message, receiptHandle: `rh-${s.message.messageId}-${s.receives}`, receiveCount: s.receives, receivedAt: now });
    }
    // An empty long poll takes its whole wait.
    if (out.length === 0 && waitSeconds > 0) this.clock.t += waitSeconds * 1000;
    const returned = this.reorder ? this.reorder(out) : out;
    this.calls.push({ op: 'receive', max: maxMessages, wait: waitSeconds, returned: returned.map((m) => m.messageId) });
    return returned;
  }

  /** The stored messages in the order a receive considers them. */
  private receiveOrder(): Stored[] {
    if (!this.fillFromFewestRepositories) return this.stored;
    const byGroup = new Map<string, Stored[]>();
    for (const s of this.stored) {
      const list = byGroup.get(s.message.groupId) ?? [];
      list.push(s);
      byGroup.set(s.message.groupId, list);
    }
    return [...byGroup.values()].flat();
  }

  async deleteBatch(messages: readonly HeldWebhook[]): Promise<BatchResult> {
    const ids = messages.map((m) => m.messageId);
    this.calls.push({ op: 'delete', ids });
    this.deleteCalls += 1;
    const result = this.onDelete?.(ids, this.deleteCalls) ?? { failed: [] };
    for (const id of ids) {
      if (result.failed.includes(id)) continue;
      const index = this.stored.findIndex((s) => s.message.messageId === id);
      if (index >= 0) this.stored.splice(index, 1);
      this.deletedIds.push(id);
    }
    return result;
  }

  async setVisibility(messages: readonly HeldWebhook[], seconds: number): Promise<BatchResult> {
    const ids = messages.map((m) => m.messageId);
    this.calls.push({ op: 'visibility', ids, seconds });
    for (const s of this.stored) if (ids.includes(s.message.messageId)) s.visibleAt = this.clock.now() + seconds * 1000;
    return { failed: [] };
  }

  async deadLetter(message: HeldWebhook, why: DeadLetterReason): Promise<void> {
    this.calls.push({ op: 'dead-letter', id: message.messageId, why });
    this.onDeadLetter?.(message.messageId);
    this.deadLettered.push({ id: message.messageId, why });
  }

  /** Messages still in the queue and hidden from other consumers right now. */
  hiddenIds(): string[] {
    return this.stored.filter((s) => s.visibleAt > this.clock.now()).map((s) => s.message.messageId);
  }

  remainingIds(): string[] {
    return this.stored.map((s) => s.message.messageId);
  }

  visibilityCalls(): Array<Extract<QueueCall, { op: 'visibility' }>> {
    return this.calls.filter((c): c is Extract<QueueCall, { op: 'visibility' }> => c.op === 'visibility');
  }

  deleteCallsMade(): Array<Extract<QueueCall, { op: 'delete' }>> {
    return this.calls.filter((c): c is Extract<QueueCall, { op: 'delete' }> => c.op === 'delete');
  }

  receiveCallsMade(): Array<Extract<QueueCall, { op: 'receive' }>> {
    return this.calls.filter((c): c is Extract<QueueCall, { op: 'receive' }> => c.op === 'receive');
  }

  asClient(): BufferQueueClient {
    return this as unknown as BufferQueueClient;
  }
}

export const delivered: Outcome = { kind: 'delivered', status: 200 };
export const transient = (reason = 'Jenkins answered 502'): Outcome => ({ kind: 'transient', status: 502, reason });
export const busy = (status = 503, retryAfterMs?: number): Outcome => ({ kind: 'busy', status, retryAfterMs });
export const poison = (status = 422): Outcome => ({ kind: 'poison', status, reason: `Jenkins answered ${status}` });

/**
 * Jenkins as a script: each message id gets a list of outcomes, one per attempt (the last
 * repeats); unscripted messages are delivered. Every attempt takes `attemptTicks` turns of
 * the event loop and is recorded with the fake time it started at.
 */
export class ScriptedJenkins {
  readonly attempts: Array<{ id: string; group: string; at: number }> = [];
  inFlight = 0;
  maxInFlight = 0;
  private readonly counts = new Map<string, number>();

  constructor(
    private readonly clock: FakeClock,
    private readonly script: Record<string, Outcome[]> = {},
    private readonly attemptTicks: (id: string) => number = () => 2,
  ) {}

  readonly attempt = async (message: HeldWebhook): Promise<Outcome> => {
    const n = this.counts.get(message.messageId) ?? 0;
    this.counts.set(message.messageId, n + 1);
    this.attempts.push({ id: message.messageId, group: message.groupId, at: this.clock.now() });
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await ticks(this.attemptTicks(message.messageId));
      const outcomes = this.script[message.messageId];
      if (!outcomes || outcomes.length === 0) return delivered;
      return outcomes[Math.min(n, outcomes.length - 1)];
    } finally {
      this.inFlight -= 1;
    }
  };

  attemptedIds(): string[] {
    return this.attempts.map((a) => a.id);
  }

  attemptsOf(id: string): number {
    return this.attempts.filter((a) => a.id === id).length;
  }
}

export class RecordingLog implements ReleaseLog {
  readonly lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }> = [];
  info(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.lines.push({ level: 'error', message, fields });
  }
}

/** A budget that stops receiving after `maxRunMs` of fake time and leaves plenty for sending. */
export function budgetFor(clock: FakeClock, maxAttempts: number, maxRunMs = 5000, lambdaMs = 120_000): TimeBudget {
  return new TimeBudget(
    { startedAt: 0, maxRunMs, httpTimeoutMs: 1000, maxAttempts, totalBackoffMs: totalBackoffMs(maxAttempts) },
    () => lambdaMs - clock.now(),
    clock.now,
  );
}

/** Fails the test with a clear message instead of hanging until jest's timeout. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms of real time`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
