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
