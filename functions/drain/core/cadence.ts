/**
 * When the release loop's poller receives. Pure: the loop tells it what it holds and what
 * it saw; SQS's FIFO rules are what make a receive useful or not.
 */

export interface PollerState {
  readonly concurrency: number;
  /** Batches received and not yet taken by a worker. */
  readonly inHand: number;
  /** The last receive returned fewer messages than it asked for. */
  readonly lastReceiveShort: boolean;
  /** A delete landed since the last receive began (its repositories may have a next webhook). */
  readonly unlockedSinceReceive: boolean;
}

export type PollerStep =
  /** Wait until a worker takes a batch or a delete lands. */
  | 'wait'
  | 'receive';

/**
 * At most one batch in hand per worker beyond those being sent. Below that it receives
 * ahead, so a worker that frees up finds a batch waiting, except right after a receive
 * came back short while nothing has unlocked since: every repository it could hand out was
 * then in hand or waiting for its delete (a FIFO group stays locked until its received
 * messages are deleted), so another receive would return nothing. With a batch still in
 * hand that wait costs no worker anything; with nothing in hand it receives anyway (new
 * webhooks may have come, or SQS returned fewer than it had).
 */
export function pollerStep({ concurrency, inHand, lastReceiveShort, unlockedSinceReceive }: PollerState): PollerStep {
  if (inHand >= concurrency) return 'wait';
  if (inHand > 0 && lastReceiveShort && !unlockedSinceReceive) return 'wait';
  return 'receive';
}

/** Receives sent together at most: enough to fill a ramp-up quickly without a burst of empty calls. */
export const MAX_RECEIVES_AT_ONCE = 10;

export interface FanOutState {
  readonly concurrency: number;
  /** Workers holding a batch (sending it, or checking the spigot before they do). */
  readonly busyWorkers: number;
  readonly inHand: number;
  /** The last receive(s) returned every message asked for: a backlog is waiting. */
  readonly lastReceiveFull: boolean;
  /** Repositories per receive in the last receive(s): how many workers one receive feeds. */
  readonly repositoriesPerReceive: number;
  /**
   * The ramp-up is over: every worker has been busy at once this run, or receives sent together
   * came back short (the backlog has fewer free repositories than idle workers).
   */
  readonly rampUpOver: boolean;
  /** This receive long-polls: the queue looked empty, so one call waits for what comes. */
  readonly longPoll: boolean;
}

/**
 * How many receives to send at once. SQS FIFO fills a receive from as few repositories as it
 * can (ten webhooks of one repository when it has ten), so at the start of a run over a
 * backlog one receive feeds one worker, and filling eight workers one receive at a time costs
 * eight round trips of idle Jenkins capacity. During the ramp-up, once a full receive shows a
 * backlog, it sends enough receives together to feed every idle worker that has no batch
 * waiting, judged by how many repositories the last receive handed out; otherwise one. After
 * the ramp-up the poller stays ahead of the workers one receive at a time: a run near its
 * deadline never takes a burst of webhooks it would have to hand back, and a backlog of a few
 * repositories does not cost a burst of empty receives every time one comes back full. Concurrent receives
 * never hand out the same repository: FIFO locks a group while any of it is in flight.
 */
export function receivesToSend(state: FanOutState): number {
  const { concurrency, busyWorkers, inHand, lastReceiveFull, repositoriesPerReceive, rampUpOver, longPoll } = state;
  const idleWithoutBatch = concurrency - busyWorkers - inHand;
  if (rampUpOver || longPoll || !lastReceiveFull || idleWithoutBatch <= 1) return 1;
  return Math.min(Math.ceil(idleWithoutBatch / Math.max(1, repositoriesPerReceive)), MAX_RECEIVES_AT_ONCE);
}
