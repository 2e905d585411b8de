/**
 * Wake-ups between the release loop's poller and its workers.
 *
 * The poller's signal latches: a worker (or a delete) finishing while the poller is busy
 * in a receive must not be lost, or the poller would wait for a wake-up that already came.
 * Workers register before they can miss anything, so a plain broadcast serves them.
 */
export class LatchedSignal {
  private waiter: (() => void) | undefined;
  private pending = false;

  notify(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter();
    else this.pending = true;
  }

  wait(): Promise<void> {
    return this.waitAtMost(Infinity);
  }

  /** Like wait(), but gives up after `ms`; a notify after that is latched, not lost. */
  waitAtMost(ms: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => {
        if (this.waiter === wake) this.waiter = undefined;
        resolve();
      }, ms) : undefined;
      const wake = () => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.waiter = wake;
    });
  }
}

export class Broadcast {
  private waiters: Array<() => void> = [];

  notifyAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
