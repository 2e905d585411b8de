import type { BufferQueueClient, HeldWebhook } from './adapters/buffer-queue';
import { DeleteBatcher } from './delete-batcher';
import { Broadcast, LatchedSignal } from './signals';
import { FailureRun } from './core/failure-run';
import { groupByRepository } from './core/grouping';
import type { Outcome } from './core/outcome';
import type { RateLimiter } from './core/rate-limiter';
import { backoffMs, holdVisibilitySeconds, visibilityWithinWindow } from './core/retry';
import type { TimeBudget } from './core/time-budget';
import { errorMessage } from '../shared/error-message';

/** What to do with one held webhook, decided before or after trying Jenkins. */
export type Disposition =
  | { readonly kind: 'send' }
  | { readonly kind: 'discard'; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly status?: number; readonly reason: string };

export interface ReleaseLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ReleaseDeps {
  readonly queue: BufferQueueClient;
  /** Checks a webhook before sending (envelope decodes, signature, smoke test). */
  readonly inspect: (message: HeldWebhook) => Disposition;
  /** One attempt to hand the webhook to Jenkins. */
  readonly attempt: (message: HeldWebhook) => Promise<Outcome>;
  readonly budget: TimeBudget;
  /** The spigot's current state, re-read at most every few seconds. */
  readonly spigotOpen: () => Promise<boolean>;
  readonly log: ReleaseLog;
  readonly rateLimiter?: RateLimiter;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export interface ReleaseOptions {
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly autoCloseAfterFailures: number;
  readonly holdSeconds: number;
  readonly idleWaitSeconds: number;
}

export interface ReleaseStats {
  released: number;
  held: number;
  retried: number;
  deadLettered: number;
  discarded: number;
  redelivered: number;
  deleteFailures: number;
  receiveCalls: number;
  oldestAgeMs: number;
  /** Set when a run of failures means the spigot must close. */
  autoCloseReason?: string;
  /** Why receiving stopped. */
  stoppedBecause: 'budget' | 'closed' | 'auto-close';
}

interface GroupBatch {
  readonly groupId: string;
  readonly messages: HeldWebhook[];
}

const RECEIVE_BATCH = 10;
/** Pause between empty receives when long polling is off (tests, or a run near its end). */
const IDLE_PAUSE_MS = 250;

/**
 * Releases held webhooks: one poller receives batches while there is room, and up to
 * `concurrency` workers each take one repository's batch and send it strictly in order.
 * FIFO group locking guarantees no two workers ever hold the same repository.
 */
export async function releaseHeldWebhooks(deps: ReleaseDeps, options: ReleaseOptions): Promise<ReleaseStats> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const stats: ReleaseStats = {
    released: 0, held: 0, retried: 0, deadLettered: 0, discarded: 0, redelivered: 0, deleteFailures: 0,
    receiveCalls: 0, oldestAgeMs: 0, stoppedBecause: 'budget',
  };
  const failures = new FailureRun(options.autoCloseAfterFailures);
  const ready: GroupBatch[] = [];
  let busyWorkers = 0;
  let polling = true;
  let stopped = false;
  const pollerWake = new LatchedSignal();
  const workersWake = new Broadcast();
  const notifyAll = () => {
    pollerWake.notify();
    workersWake.notifyAll();
  };

  const stop = (because: ReleaseStats['stoppedBecause'], reason?: string) => {
    if (!stopped) {
      stopped = true;
      stats.stoppedBecause = because;
      if (reason) stats.autoCloseReason = reason;
    }
    notifyAll();
  };

  const hold = async (messages: readonly HeldWebhook[], seconds: number, why: string) => {
    if (messages.length === 0) return;
    stats.held += messages.length;
    try {
      const { failed } = await deps.queue.setVisibility(messages, visibilityWithinWindow(seconds, messages.map((m) => m.firstReceivedAt), now()));
      if (failed.length > 0) deps.log.warn('could not change visibility; messages reappear after the queue visibility timeout', { failed: failed.length });
    } catch (error) {
      deps.log.warn('could not change visibility; messages reappear after the queue visibility timeout', { error: errorMessage(error), count: messages.length });
    }
    deps.log.info('held webhooks', { count: messages.length, visibilitySeconds: seconds, why, group: messages[0].groupId });
  };

  /**
   * Sends one webhook with in-run retries; returns how the batch should continue. Only a
   * webhook's final outcome counts towards closing the spigot, so one blip that resets every
   * open connection does not close it while the retries would succeed.
   */
  const deliver = async (message: HeldWebhook): Promise<'done' | { holdSeconds: number; why: string }> => {
    const settle = (outcome: Outcome) => {
      const closeReason = failures.record(outcome);
      if (closeReason) stop('auto-close', closeReason);
    };
    for (let attempt = 1; ; attempt += 1) {
      // Pace first, then check: the checks must hold at the moment the POST goes out.
      await deps.rateLimiter?.take();
      // An operator closing the spigot stops even a batch already being sent (re-read every few seconds).
      if (!stopped && !(await deps.spigotOpen())) stop('closed');
      if (stopped || !deps.budget.canSend()) return { holdSeconds: 0, why: stopped ? 'drain stopping' : 'deadline near' };
      const outcome = await deps.attempt(message);
      switch (outcome.kind) {
        case 'delivered':
          settle(outcome);
          stats.released += 1;
          return 'done';
        case 'poison':
          settle(outcome);
          await deadLetter(message, outcome.status, outcome.reason);
          return 'done';
        case 'busy':
          settle(outcome);
          return { holdSeconds: holdVisibilitySeconds(outcome.retryAfterMs, options.holdSeconds), why: `Jenkins busy (${outcome.status})` };
        case 'transient':
          if (attempt >= options.maxAttempts || stopped) {
            if (!stopped) settle(outcome);
            return { holdSeconds: stopped ? 0 : options.holdSeconds, why: `gave up for this run: ${outcome.reason}` };
          }
          stats.retried += 1;
          await sleep(backoffMs(attempt));
      }
    }
  };

  const deadLetter = async (message: HeldWebhook, status: number | undefined, reason: string) => {
    await deps.queue.deadLetter(message, { status, reason });
    stats.deadLettered += 1;
    deps.log.warn('dead-lettered webhook', { messageId: message.messageId, group: message.groupId, status, reason });
  };

  const processBatch = async (batch: GroupBatch) => {
    const done: HeldWebhook[] = [];
    for (let i = 0; i < batch.messages.length; i += 1) {
      const message = batch.messages[i];
      if (message.receiveCount > 1) {
        stats.redelivered += 1;
        deps.log.info('webhook received again; Jenkins may have seen it before', { messageId: message.messageId, receiveCount: message.receiveCount });
      }
      stats.oldestAgeMs = Math.max(stats.oldestAgeMs, now() - message.sentAt);
      let next: 'done' | { holdSeconds: number; why: string };
      try {
        const disposition = deps.inspect(message);
        if (disposition.kind === 'discard') {
          stats.discarded += 1;
          deps.log.info('discarded webhook without sending', { messageId: message.messageId, reason: disposition.reason });
          next = 'done';
        } else if (disposition.kind === 'dead-letter') {
          await deadLetter(message, disposition.status, disposition.reason);
          next = 'done';
        } else {
          next = await deliver(message);
        }
      } catch (error) {
        // e.g. the DLQ send failed: keep the message and everything after it.
        deps.log.error('could not process webhook; holding its repository', { messageId: message.messageId, error: errorMessage(error) });
        next = { holdSeconds: options.holdSeconds, why: 'processing error' };
      }
      if (next !== 'done') {
        await hold(batch.messages.slice(i), next.holdSeconds, next.why);
        break;
      }
      done.push(message);
    }
    deletes.add(done);
  };

  const deletes = new DeleteBatcher(deps.queue, ({ failed }, error) => {
    // A landed delete unlocks its repository: let a waiting poller receive again.
    notifyAll();
    stats.deleteFailures += failed.length;
    if (failed.length > 0) {
      deps.log.warn('delete failed: these webhooks will be delivered again (duplicates)', { messageIds: failed, error: error?.message });
    }
  });

  const worker = async () => {
    for (;;) {
      const batch = ready.shift();
      if (!batch) {
        if (!polling) return;
        await workersWake.wait();
        continue;
      }
      // A close that landed during a long poll must not release what that poll returned.
      if (!stopped && !(await deps.spigotOpen())) stop('closed');
      if (stopped) {
        await hold(batch.messages, 0, 'drain stopping');
        continue;
      }
      busyWorkers += 1;
      try {
        await processBatch(batch);
      } finally {
        busyWorkers -= 1;
        notifyAll();
      }
    }
  };

  const poll = async () => {
    let lastReceiveEmpty = false;
    try {
      while (!stopped) {
        if (!deps.budget.canReceive()) break;
        if (!(await deps.spigotOpen())) {
          stop('closed');
          break;
        }
        // Enough batches in hand (at most one per worker beyond those being sent): wait for one to start.
        if (ready.length >= options.concurrency) {
          await pollerWake.wait();
          continue;
        }
        // Out of work in hand: finished repositories stay locked until deleted, so delete now.
        if (ready.length === 0) deletes.flush();
        const freeWorker = busyWorkers < options.concurrency;
        // Long-poll when a worker is free and the last look found nothing (or nothing is running):
        // new webhooks are picked up the moment they arrive, without spinning. While workers are
        // busy, poll at most a second, so a repository they unlock is not left waiting.
        const longPoll = ready.length === 0 && freeWorker && (lastReceiveEmpty || busyWorkers === 0);
        const maxWait = busyWorkers > 0 ? Math.min(1, options.idleWaitSeconds) : options.idleWaitSeconds;
        const wait = longPoll ? Math.min(maxWait, deps.budget.receiveWindowSeconds()) : 0;
        stats.receiveCalls += 1;
        let messages: HeldWebhook[];
        try {
          messages = await deps.queue.receive(RECEIVE_BATCH, wait);
        } catch (error) {
          // Whatever SQS may have handed out stays invisible until its visibility timeout: safe.
          deps.log.error('receive failed; ending this run', { error: errorMessage(error) });
          break;
        }
        lastReceiveEmpty = messages.length === 0;
        if (lastReceiveEmpty) {
          if (wait > 0) continue; // SQS already waited for us
          // Repositories locked by pending deletes unlock when those land: send them now.
          deletes.flush();
          if (!freeWorker || ready.length > 0) await pollerWake.wait();
          else if (busyWorkers > 0 || deletes.busy) await pollerWake.waitAtMost(IDLE_PAUSE_MS);
          else await sleep(IDLE_PAUSE_MS);
          continue;
        }
        let groups: Map<string, HeldWebhook[]>;
        try {
          groups = groupByRepository(messages);
        } catch (error) {
          await hold(messages, 0, 'could not order the batch'); // hand it back before failing
          throw error;
        }
        for (const [groupId, groupMessages] of groups) ready.push({ groupId, messages: groupMessages });
        workersWake.notifyAll(); // not the poller's own latch: that would cost an extra receive
      }
    } finally {
      polling = false;
      notifyAll();
    }
  };

  // If any part fails, stop the rest cleanly: hand back what is in hand and finish the deletes.
  const stopOnFailure = (part: Promise<void>) =>
    part.catch((error: unknown) => {
      stop('closed');
      throw error;
    });
  const outcomes = await Promise.allSettled([poll(), ...Array.from({ length: options.concurrency }, () => worker())].map(stopOnFailure));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) {
    stop('closed');
    const stranded = ready.splice(0).flatMap((batch) => batch.messages);
    await hold(stranded, 0, 'drain failed');
  }
  await deletes.drain();
  if (failure) throw failure.reason;
  return stats;
}
