import type { Outcome } from './outcome';

/**
 * Counts consecutive failed releases across all repositories: the final outcome of each
 * webhook, after its retries. A run of them means Jenkins itself is in trouble, and the
 * drain closes the spigot rather than keep hammering it.
 * Busy answers (429/503) are Jenkins pacing us, so it takes four times as many of them;
 * any answer Jenkins really processed (2xx, or a 4xx about the payload) resets the run.
 */
export class FailureRun {
  private hard = 0;
  private busy = 0;

  constructor(private readonly threshold: number) {}

  /** Returns a reason when this outcome completes a run that should close the spigot. */
  record(outcome: Outcome): string | undefined {
    if (outcome.kind === 'delivered' || outcome.kind === 'poison') {
      this.hard = 0;
      this.busy = 0;
      return undefined;
    }
    if (outcome.kind === 'transient') {
      this.hard += 1;
      if (this.hard >= this.threshold) return `${this.hard} consecutive failed releases, last: ${outcome.reason}`;
    } else {
      this.busy += 1;
      if (this.busy >= this.threshold * 4) return `${this.busy} consecutive busy answers (${outcome.status}) from Jenkins`;
    }
    return undefined;
  }
}
