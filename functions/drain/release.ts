import type { BufferQueueClient, HeldWebhook } from './adapters/buffer-queue';
import { DeleteBatcher } from './delete-batcher';
import { Broadcast, LatchedSignal } from './signals';
import { FailureRun } from './core/failure-run';
import { groupByRepository } from './core/grouping';
import { holdSeconds, visibilityWithinWindow, type HoldPolicy } from './core/hold';
import type { Outcome } from './core/outcome';
import type { RateLimiter } from './core/rate-limiter';
import { RefusalJudge, type RefusalKind, type RefusalPolicy } from './core/refusal-judge';
import { backoffMs } from './core/retry';
import type { TimeBudget } from './core/time-budget';
import { errorMessage } from '../shared/error-message';

/** What to do with one held webhook, decided before trying Jenkins. */
export type Disposition =
  | { readonly kind: 'send' }
  | { readonly kind: 'discard'; readonly reason: string }
  | { readonly kind: 'dead-letter'; readonly status?: number; readonly reason: string }
  /** Refused without asking Jenkins (the drain's own signature check): judged like a Jenkins refusal. */
  | { readonly kind: 'refuse'; readonly refusal: RefusalKind; readonly reason: string };

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
  readonly hold: HoldPolicy;
  readonly refusals: RefusalPolicy;
  readonly idleWaitSeconds: number;
}

export interface ReleaseStats {
  released: number;
  held: number;
  retried: number;
  deadLettered: number;
  discarded: number;
  /** Webhooks refused (by Jenkins or the signature check), whatever the verdict. */
  refused: number;
  redelivered: number;
  deleteFailures: number;
  receiveCalls: number;
  oldestAgeMs: number;
  /** Set when a run of failures or refusals means the spigot must close. */
  autoCloseReason?: string;
  /** True when the close is for refusals (Jenkins up but refusing webhooks). */
  systemicRefusal?: boolean;
  /** Why receiving stopped. */
  stoppedBecause: 'budget' | 'closed' | 'auto-close';
}

/** One repository's messages in hand, sent from `start`; `poisonHead` is a confirmed refusal. */
interface GroupBatch {
  readonly groupId: string;
  readonly messages: HeldWebhook[];
  readonly start: number;
  readonly poisonHead?: { readonly status?: number; readonly reason: string };
}

/** A refused webhook waiting for the judge, with the rest of its repository behind it (in flight). */
interface Parked {
  readonly batch: GroupBatch;
  readonly index: number;
  readonly status?: number;
  readonly reason: string;
}

type Delivery =
  | { readonly kind: 'delivered' }
  | { readonly kind: 'refused'; readonly refusal: RefusalKind; readonly status?: number; readonly reason: string }
  /** Hide the repository for at least its hold floor (Jenkins busy or failing). */
  | { readonly kind: 'hold'; readonly retryAfterMs?: number; readonly why: string }
  /** Give the repository back at once: the run is stopping. */
  | { readonly kind: 'hand-back'; readonly why: string };

const RECEIVE_BATCH = 10;
/** Pause between empty receives when long polling is off (tests, or a run near its end). */
const IDLE_PAUSE_MS = 250;

/**
 * Releases held webhooks: one poller receives batches while there is room, and up to
 * `concurrency` workers each take one repository's batch and send it strictly in order.
 * FIFO group locking guarantees no two workers ever hold the same repository. A refused
 * webhook is parked (still in flight, its repository locked behind it) until the judge
 * says whether it is poison or Jenkins is broken.
 */
export async function releaseHeldWebhooks(deps: ReleaseDeps, options: ReleaseOptions): Promise<ReleaseStats> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = deps.now ?? Date.now;
  const stats: ReleaseStats = {
    released: 0, held: 0, retried: 0, deadLettered: 0, discarded: 0, refused: 0, redelivered: 0, deleteFailures: 0,
    receiveCalls: 0, oldestAgeMs: 0, stoppedBecause: 'budget',
  };
  const failures = new FailureRun(options.autoCloseAfterFailures);
  const judge = new RefusalJudge(options.refusals);
  const ready: GroupBatch[] = [];
  const parked: Parked[] = [];
  let busyWorkers = 0;
  let polling = true;
  let stopped = false;
  const pollerWake = new LatchedSignal();
  const workersWake = new Broadcast();
  let onStop: () => void = () => undefined;
  const stoppedSignal = new Promise<void>((resolve) => (onStop = resolve));
  const notifyAll = () => {
    pollerWake.notify();
    workersWake.notifyAll();
  };

  const stop = (because: ReleaseStats['stoppedBecause'], reason?: string, systemicRefusal = false) => {
    if (!stopped) {
      stopped = true;
      stats.stoppedBecause = because;
      if (reason) stats.autoCloseReason = reason;
      if (systemicRefusal) stats.systemicRefusal = true;
      onStop();
    }
    notifyAll();
  };

  /** A wait in the worker that a stopping run cuts short. */
  const pause = (ms: number) => Promise.race([sleep(ms), stoppedSignal]);

  const setVisibility = async (messages: readonly HeldWebhook[], seconds: number, why: string) => {
    if (messages.length === 0) return;
    stats.held += messages.length;
    try {
      const { failed } = await deps.queue.setVisibility(messages, seconds);
      if (failed.length > 0) deps.log.warn('could not change visibility; messages reappear after the queue visibility timeout', { failed: failed.length });
    } catch (error) {
      deps.log.warn('could not change visibility; messages reappear after the queue visibility timeout', { error: errorMessage(error), count: messages.length });
    }
    deps.log.info('held webhooks', { count: messages.length, visibilitySeconds: seconds, why, group: messages[0].groupId });
  };

  /** Holds a repository: hidden for at least the floor of its most-received message. */
  const hold = (messages: readonly HeldWebhook[], retryAfterMs: number | undefined, why: string) => {
    const receives = Math.max(1, ...messages.map((m) => m.receiveCount));
    const seconds = holdSeconds(retryAfterMs, receives, options.hold);
    return setVisibility(messages, visibilityWithinWindow(seconds, messages.map((m) => m.receivedAt), now()), why);
  };

  /** Gives messages back at once: the run is stopping, nothing was refused. */
  const handBack = (messages: readonly HeldWebhook[], why: string) => setVisibility(messages, 0, why);

  const settle = (outcome: Outcome) => {
    const closeReason = failures.record(outcome);
    if (closeReason) stop('auto-close', closeReason);
  };

  /**
   * Sends one webhook. Transient failures are retried with backoff; a busy Jenkins is waited
   * for in the worker when its Retry-After ends inside the run (no receive spent). Only a
   * webhook's final outcome counts towards closing the spigot.
   */
  const deliver = async (message: HeldWebhook): Promise<Delivery> => {
    for (let attempt = 1; ; ) {
      // Pace first, then check: the checks must hold at the moment the POST goes out.
      await deps.rateLimiter?.take();
      // An operator closing the spigot stops even a batch already being sent (re-read every few seconds).
      if (!stopped && !(await deps.spigotOpen())) stop('closed');
      if (stopped || !deps.budget.canSend()) return { kind: 'hand-back', why: stopped ? 'drain stopping' : 'deadline near' };
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
          if (!stopped && deps.budget.canWait(waitMs)) {
            stats.retried += 1;
            await pause(waitMs);
            continue;
          }
          const why = `Jenkins busy (${outcome.status})`;
          return stopped ? { kind: 'hand-back', why } : { kind: 'hold', retryAfterMs: outcome.retryAfterMs, why };
        }
        case 'transient':
          if (attempt >= options.maxAttempts || stopped) {
            if (!stopped) settle(outcome);
            const why = `gave up for this run: ${outcome.reason}`;
            return stopped ? { kind: 'hand-back', why } : { kind: 'hold', why };
          }
          stats.retried += 1;
          attempt += 1;
          await sleep(backoffMs(attempt - 1));
      }
    }
  };

  const deadLetter = async (message: HeldWebhook, status: number | undefined, reason: string) => {
    await deps.queue.deadLetter(message, { status, reason });
    stats.deadLettered += 1;
    deps.log.warn('dead-lettered webhook', { messageId: message.messageId, group: message.groupId, status, reason });
  };

  /** Jenkins accepted a webhook: every parked refusal stands alone, so it is poison. */
  const confirmParked = () => {
    judge.succeeded();
    if (parked.length === 0) return;
    for (const p of parked.splice(0)) {
      ready.unshift({ groupId: p.batch.groupId, messages: p.batch.messages, start: p.index, poisonHead: { status: p.status, reason: p.reason } });
    }
    workersWake.notifyAll();
  };

  /** A refusal: park it, dead-letter it, or stop the run because Jenkins is broken. Returns true to go on. */
  const judgeRefusal = async (batch: GroupBatch, index: number, refused: Extract<Delivery, { kind: 'refused' }>): Promise<boolean> => {
    const message = batch.messages[index];
    stats.refused += 1;
    const verdict = judge.refused(batch.groupId, refused.refusal);
    if (verdict.kind === 'poison') {
      await deadLetter(message, refused.status, refused.reason);
      return true;
    }
    if (verdict.kind === 'systemic') {
      deps.log.warn('Jenkins refuses webhooks from several repositories; closing the spigot and holding everything', { reason: verdict.reason });
      stop('auto-close', verdict.reason, true);
      await handBack(batch.messages.slice(index), 'Jenkins refuses webhooks');
      return false;
    }
    deps.log.info('webhook refused; holding its repository until Jenkins accepts another webhook', { messageId: message.messageId, group: batch.groupId, status: refused.status, reason: refused.reason });
    parked.push({ batch, index, status: refused.status, reason: refused.reason });
    return false;
  };

  const processBatch = async (batch: GroupBatch) => {
    for (let i = batch.start; i < batch.messages.length; i += 1) {
      const message = batch.messages[i];
      if (i === batch.start && batch.poisonHead) {
        try {
          await deadLetter(message, batch.poisonHead.status, batch.poisonHead.reason);
        } catch (error) {
          deps.log.error('could not dead-letter webhook; holding its repository', { messageId: message.messageId, error: errorMessage(error) });
          await hold(batch.messages.slice(i), undefined, 'processing error');
          return;
        }
        deletes.add([message]);
        continue;
      }
      if (message.receiveCount > 1) {
        stats.redelivered += 1;
        deps.log.info('webhook received again; Jenkins may have seen it before', { messageId: message.messageId, receiveCount: message.receiveCount });
      }
      stats.oldestAgeMs = Math.max(stats.oldestAgeMs, now() - message.sentAt);
      try {
        const disposition = deps.inspect(message);
        let delivery: Delivery;
        if (disposition.kind === 'discard') {
          stats.discarded += 1;
          deps.log.info('discarded webhook without sending', { messageId: message.messageId, reason: disposition.reason });
          delivery = { kind: 'delivered' };
        } else if (disposition.kind === 'dead-letter') {
          await deadLetter(message, disposition.status, disposition.reason);
          delivery = { kind: 'delivered' };
        } else if (disposition.kind === 'refuse') {
          delivery = { kind: 'refused', refusal: disposition.refusal, reason: disposition.reason };
        } else {
          delivery = await deliver(message);
          if (delivery.kind === 'delivered') {
            stats.released += 1;
            confirmParked();
          }
        }
        if (delivery.kind === 'refused') {
          if (await judgeRefusal(batch, i, delivery)) {
            deletes.add([message]);
            continue;
          }
          return;
        }
        if (delivery.kind === 'hold') {
          await hold(batch.messages.slice(i), delivery.retryAfterMs, delivery.why);
          return;
        }
        if (delivery.kind === 'hand-back') {
          await handBack(batch.messages.slice(i), delivery.why);
          return;
        }
      } catch (error) {
        // e.g. the DLQ send failed: keep the message and everything after it.
        deps.log.error('could not process webhook; holding its repository', { messageId: message.messageId, error: errorMessage(error) });
        await hold(batch.messages.slice(i), undefined, 'processing error');
        return;
      }
      // Deleted as soon as it is done: a later message of the repository failing must not re-send it.
      deletes.add([message]);
    }
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
        await handBack(batch.messages.slice(batch.start), 'drain stopping');
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
          await handBack(messages, 'could not order the batch'); // hand it back before failing
          throw error;
        }
        for (const [groupId, groupMessages] of groups) ready.push({ groupId, messages: groupMessages, start: 0 });
        workersWake.notifyAll(); // not the poller's own latch: that would cost an extra receive
      }
    } finally {
      polling = false;
      notifyAll();
    }
  };

  /** Refusals still parked when the run ends: Jenkins accepted nothing since they came. */
  const settleParked = async () => {
    if (parked.length === 0) return;
    if (!stopped) {
      const verdict = judge.atRunEnd();
      if (verdict.kind === 'systemic') {
        deps.log.warn('Jenkins refused webhooks from several repositories and accepted none; closing the spigot', { reason: verdict.reason });
        stop('auto-close', verdict.reason, true);
      }
    }
    for (const p of parked.splice(0)) {
      const rest = p.batch.messages.slice(p.index);
      if (stopped) await handBack(rest, 'drain stopping');
      else await hold(rest, undefined, 'refused; waiting for Jenkins to accept another webhook');
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
    const stranded = ready.splice(0).flatMap((batch) => batch.messages.slice(batch.start));
    await handBack(stranded, 'drain failed');
  }
  await settleParked();
  await deletes.drain();
  if (failure) throw failure.reason;
  return stats;
}
