import type { HeldWebhook } from '../adapters/buffer-queue';
import { DeleteBatcher } from '../delete-batcher';
import { Broadcast, LatchedSignal } from '../signals';
import { pollerStep, receivesToSend } from '../core/cadence';
import { FailureRun } from '../core/failure-run';
import { groupByRepository } from '../core/grouping';
import { RECENT_ACCEPTANCE_MS } from '../core/refusal-judge';
import { errorMessage } from '../../shared/error-message';
import { deliver } from './deliver';
import { RefusalParking } from './refusal-parking';
import { RepositoryHolds } from './repository-holds';
import { RunControl } from './run-control';
import type { Delivery, GroupBatch, ReleaseDeps, ReleaseOptions, ReleaseStats } from './types';

export type { Disposition, DrainMemory, WebhookIds, ReleaseDeps, ReleaseLog, ReleaseOptions, ReleaseStats } from './types';

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
    released: 0, held: 0, retried: 0, deadLettered: 0, discarded: 0, refused: 0, signatureMismatches: 0, redelivered: 0, deleteFailures: 0,
    receiveCalls: 0, oldestAgeMs: 0, stoppedBecause: 'budget',
  };
  const ready: GroupBatch[] = [];
  let busyWorkers = 0;
  /** Every worker has been busy at once, or receives sent together came back short: no more of them. */
  let rampUpOver = false;
  let polling = true;
  /** Set when a delete lands: a receive may find the next webhook of its repositories. */
  let unlockedSinceReceive = false;
  const pollerWake = new LatchedSignal();
  const workersWake = new Broadcast();
  const notifyAll = () => {
    pollerWake.notify();
    workersWake.notifyAll();
  };
  const run = new RunControl(stats, notifyAll, sleep);
  const holds = new RepositoryHolds(deps.queue, deps.log, stats, options.hold, now);
  const parking = new RefusalParking(options.refusals);
  const deliverContext = { deps, options, run, failures: new FailureRun(options.autoCloseAfterFailures), stats, sleep };

  const deletes = new DeleteBatcher(deps.queue, ({ deleted, failed }, error) => {
    // A landed delete unlocks its repository: let a waiting poller receive again.
    if (deleted > 0) unlockedSinceReceive = true;
    notifyAll();
    stats.deleteFailures += failed.length;
    if (failed.length > 0) {
      deps.log.warn('delete failed: these webhooks will be delivered again (duplicates)', { messageIds: failed, error: error?.message });
    }
  });

  /** What every per-webhook log line carries, so `spigot trace` can find it. */
  const ids = (message: HeldWebhook) => ({ messageId: message.messageId, group: message.groupId, ...deps.identify?.(message) });

  const deadLetter = async (message: HeldWebhook, status: number | undefined, reason: string) => {
    await deps.queue.deadLetter(message, { status, reason });
    stats.deadLettered += 1;
    deps.log.warn('dead-lettered webhook', { ...ids(message), status, reason });
  };

  /** Jenkins accepted a webhook: parked refusals are poison; their repositories resume first. */
  const confirmParked = () => {
    const resumed = parking.confirmAsPoison();
    if (resumed.length === 0) return;
    ready.unshift(...resumed);
    workersWake.notifyAll();
  };

  /** Returns true when the batch goes on after this refusal (it was dead-lettered at once). */
  const judgeRefusal = async (batch: GroupBatch, index: number, refused: Extract<Delivery, { kind: 'refused' }>): Promise<boolean> => {
    const message = batch.messages[index];
    stats.refused += 1;
    const verdict = parking.refuse(batch, index, refused);
    if (verdict.kind === 'poison') {
      await deadLetter(message, refused.status, refused.reason);
      return true;
    }
    if (verdict.kind === 'systemic') {
      deps.log.warn('Jenkins refuses webhooks from several repositories; closing the spigot and holding everything', { reason: verdict.reason });
      run.stop('auto-close', verdict.reason, true);
      await holds.handBack(batch.messages.slice(index), 'Jenkins refuses webhooks');
      return false;
    }
    deps.log.info('webhook refused; holding its repository until Jenkins accepts another webhook', { ...ids(message), status: refused.status, reason: refused.reason });
    return false;
  };

  /** What becomes of one message before (inspection) or after (delivery) Jenkins sees it. */
  const settleMessage = async (message: HeldWebhook): Promise<Delivery> => {
    const disposition = deps.inspect(message);
    switch (disposition.kind) {
      case 'discard':
        stats.discarded += 1;
        deps.log.info('discarded webhook without sending', { ...ids(message), reason: disposition.reason });
        return { kind: 'delivered' };
      case 'dead-letter':
        if (disposition.signatureMismatch) stats.signatureMismatches += 1;
        await deadLetter(message, disposition.status, disposition.reason);
        return { kind: 'delivered' };
      case 'refuse':
        if (disposition.refusal === 'signature') stats.signatureMismatches += 1;
        return { kind: 'refused', refusal: disposition.refusal, reason: disposition.reason };
      case 'send': {
        const delivery = await deliver(message, deliverContext);
        if (delivery.kind === 'delivered') {
          stats.released += 1;
          deps.log.info('released webhook', { ...ids(message), status: delivery.status });
          if (deps.memory) deps.memory.lastAcceptedAt = now();
          confirmParked();
        }
        return delivery;
      }
    }
  };

  const processBatch = async (batch: GroupBatch) => {
    for (let i = batch.start; i < batch.messages.length; i += 1) {
      const message = batch.messages[i];
      // This message and everything after it: only needed when the batch stops here.
      const rest = () => batch.messages.slice(i);
      try {
        if (i === batch.start && batch.poisonHead) {
          await deadLetter(message, batch.poisonHead.status, batch.poisonHead.reason);
        } else {
          if (message.receiveCount > 1) {
            stats.redelivered += 1;
            deps.log.info('webhook received again; Jenkins may have seen it before', { ...ids(message), receiveCount: message.receiveCount });
          }
          stats.oldestAgeMs = Math.max(stats.oldestAgeMs, now() - message.sentAt);
          const delivery = await settleMessage(message);
          if (delivery.kind === 'hold') return await holds.hold(rest(), delivery.retryAfterMs, delivery.why);
          if (delivery.kind === 'hand-back') return await holds.handBack(rest(), delivery.why);
          if (delivery.kind === 'refused' && !(await judgeRefusal(batch, i, delivery))) return;
        }
      } catch (error) {
        // e.g. the DLQ send failed: keep the message and everything after it.
        deps.log.error('could not process webhook; holding its repository', { ...ids(message), error: errorMessage(error) });
        return await holds.hold(rest(), undefined, 'processing error');
      }
      // Deleted as soon as it is done: a later message of the repository failing must not re-send it.
      deletes.add([message]);
    }
  };

  const worker = async () => {
    for (;;) {
      const batch = ready.shift();
      if (!batch) {
        if (!polling) return;
        await workersWake.wait();
        continue;
      }
      // Busy from the moment it holds a batch: the poller must not count it as idle.
      busyWorkers += 1;
      rampUpOver ||= busyWorkers >= options.concurrency;
      try {
        // A close that landed during a long poll must not release what that poll returned.
        if (!run.stopped && !(await deps.spigotOpen())) run.stop('closed');
        if (run.stopped) {
          await holds.handBack(batch.messages.slice(batch.start), 'drain stopping');
          continue;
        }
        await processBatch(batch);
      } finally {
        busyWorkers -= 1;
        notifyAll();
      }
    }
  };

  /** A receive's messages become batches in hand, one per repository, and workers are woken; returns the repositories. */
  const takeIn = async (messages: HeldWebhook[]): Promise<number> => {
    if (messages.length === 0) return 0;
    deps.received?.(messages);
    let groups: Map<string, HeldWebhook[]>;
    try {
      groups = groupByRepository(messages);
    } catch (error) {
      await holds.handBack(messages, 'could not order the batch'); // hand it back before failing
      throw error;
    }
    for (const [groupId, groupMessages] of groups) ready.push({ groupId, messages: groupMessages, start: 0 });
    workersWake.notifyAll(); // not the poller's own latch: that would cost an extra receive
    return groups.size;
  };

  /**
   * `count` receives sent together (one unless a ramp-up over a backlog wants more), each
   * taken in as it lands so a worker starts on the first while the others are on their way.
   * FIFO never hands one repository to two of them.
   */
  const receiveTogether = async (count: number, wait: number): Promise<{ received: number; repositories: number; failure?: unknown }> => {
    let received = 0;
    let repositories = 0;
    let failure: unknown;
    const one = async () => {
      let messages: HeldWebhook[];
      try {
        messages = await deps.queue.receive(RECEIVE_BATCH, wait);
      } catch (error) {
        failure ??= error;
        return;
      }
      received += messages.length;
      repositories += await takeIn(messages);
    };
    const outcomes = await Promise.allSettled(Array.from({ length: count }, one));
    // A batch that could not be ordered was handed back: the run fails.
    const unordered = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (unordered) throw unordered.reason;
    return { received, repositories, failure };
  };

  const poll = async () => {
    let lastReceiveEmpty = false;
    let lastReceiveShort = false;
    let lastRepositoriesPerReceive = 1;
    try {
      while (!run.stopped) {
        if (!deps.budget.canReceive()) break;
        if (!(await deps.spigotOpen())) {
          run.stop('closed');
          break;
        }
        // Enough in hand, or nothing can have come free since a short receive: wait for a worker or a delete.
        if (pollerStep({ concurrency: options.concurrency, inHand: ready.length, lastReceiveShort, unlockedSinceReceive }) === 'wait') {
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
        // The first receive of a run goes alone (no receive yet, so none came back full): an empty queue must not cost a burst of calls.
        const count = receivesToSend({
          concurrency: options.concurrency, busyWorkers, inHand: ready.length, lastReceiveFull: stats.receiveCalls > 0 && !lastReceiveShort,
          repositoriesPerReceive: lastRepositoriesPerReceive, rampUpOver, longPoll: wait > 0,
        });
        stats.receiveCalls += count;
        unlockedSinceReceive = false;
        const { received, repositories, failure } = await receiveTogether(count, wait);
        lastRepositoriesPerReceive = repositories / count;
        if (failure !== undefined) {
          // Whatever a failed receive may have handed out stays invisible until its visibility
          // timeout: safe. What the others returned is in hand and is sent before the run ends.
          deps.log.error('receive failed; ending this run', { error: errorMessage(failure) });
          break;
        }
        lastReceiveEmpty = received === 0;
        lastReceiveShort = received < RECEIVE_BATCH * count;
        rampUpOver ||= count > 1 && lastReceiveShort;
        if (lastReceiveEmpty) {
          if (wait > 0) continue; // SQS already waited for us
          // Repositories locked by pending deletes unlock when those land: send them now.
          deletes.flush();
          if (!freeWorker || ready.length > 0) await pollerWake.wait();
          else if (busyWorkers > 0 || deletes.busy) await pollerWake.waitAtMost(IDLE_PAUSE_MS);
          else await sleep(IDLE_PAUSE_MS);
          continue;
        }
      }
    } finally {
      polling = false;
      notifyAll();
    }
  };

  /** Refusals still parked when the run ends: Jenkins accepted nothing since they came. */
  const settleParked = async () => {
    const lastAcceptedAt = deps.memory?.lastAcceptedAt;
    const acceptedRecently = lastAcceptedAt !== undefined && now() - lastAcceptedAt <= RECENT_ACCEPTANCE_MS;
    const verdict = run.stopped ? { kind: 'park' as const } : parking.verdictAtRunEnd(acceptedRecently);
    if (verdict.kind === 'systemic') {
      deps.log.warn('Jenkins refused webhooks from several repositories and accepted none; closing the spigot', { reason: verdict.reason });
      run.stop('auto-close', verdict.reason, true);
    }
    for (const p of parking.takeAll()) {
      const rest = p.batch.messages.slice(p.index);
      if (verdict.kind === 'poison') {
        // It stood alone: Jenkins took other repositories' webhooks before it. The rest of its
        // repository goes back at once for the next run.
        try {
          await deadLetter(rest[0], p.status, p.reason);
          deletes.add([rest[0]]);
          await holds.handBack(rest.slice(1), 'after a dead letter');
        } catch (error) {
          deps.log.error('could not dead-letter webhook; holding its repository', { messageId: rest[0].messageId, error: errorMessage(error) });
          await holds.hold(rest, undefined, 'processing error');
        }
      } else if (run.stopped) {
        await holds.handBack(rest, 'drain stopping');
      } else {
        await holds.hold(rest, undefined, 'refused; waiting for Jenkins to accept another webhook');
      }
    }
  };

  // If any part fails, stop the rest cleanly: hand back what is in hand and finish the deletes.
  const stopOnFailure = (part: Promise<void>) =>
    part.catch((error: unknown) => {
      run.stop('closed');
      throw error;
    });
  const outcomes = await Promise.allSettled([poll(), ...Array.from({ length: options.concurrency }, () => worker())].map(stopOnFailure));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) {
    run.stop('closed');
    await holds.handBack(ready.splice(0).flatMap((batch) => batch.messages.slice(batch.start)), 'drain failed');
  }
  await settleParked();
  await deletes.drain();
  if (failure) throw failure.reason;
  return stats;
}
