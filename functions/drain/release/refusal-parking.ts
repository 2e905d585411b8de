import { RefusalJudge, type RefusalPolicy, type RefusalVerdict } from '../core/refusal-judge';
import type { Delivery, GroupBatch } from './types';

/** A refused webhook waiting for a verdict, with the rest of its repository behind it (in flight). */
export interface Parked {
  readonly batch: GroupBatch;
  readonly index: number;
  readonly status?: number;
  readonly reason: string;
}

type Refused = Extract<Delivery, { kind: 'refused' }>;

/**
 * Where refused webhooks wait for the judge. They stay in flight, so FIFO keeps their
 * repository locked behind them while the other repositories carry on.
 */
export class RefusalParking {
  private readonly judge: RefusalJudge;
  private parked: Parked[] = [];

  constructor(policy: RefusalPolicy) {
    this.judge = new RefusalJudge(policy);
  }

  get size(): number {
    return this.parked.length;
  }

  /** Judges one refusal; parks it unless it is poison at once or Jenkins is broken. */
  refuse(batch: GroupBatch, index: number, refused: Refused): RefusalVerdict {
    const verdict = this.judge.refused(batch.groupId, refused.refusal);
    if (verdict.kind === 'park') this.parked.push({ batch, index, status: refused.status, reason: refused.reason });
    return verdict;
  }

  /** Jenkins accepted a webhook: every parked refusal stood alone; returns them to resume as poison-headed batches. */
  confirmAsPoison(): GroupBatch[] {
    this.judge.succeeded();
    return this.takeAll().map((p) => ({ groupId: p.batch.groupId, messages: p.batch.messages, start: p.index, poisonHead: { status: p.status, reason: p.reason } }));
  }

  /** The run's end: refusals from several repositories and nothing accepted mean Jenkins is broken. */
  verdictAtRunEnd(acceptedRecently: boolean): RefusalVerdict {
    return this.parked.length === 0 ? { kind: 'park' } : this.judge.atRunEnd(acceptedRecently);
  }

  takeAll(): Parked[] {
    const all = this.parked;
    this.parked = [];
    return all;
  }
}
