import type { ReleaseStats } from './types';

/**
 * The one piece of state every part of a release run shares: whether it is stopping, and
 * why. Stopping wakes whatever waits on it (workers pausing for a Retry-After included).
 */
export class RunControl {
  private stoppedFlag = false;
  private resolveStopped: () => void = () => undefined;
  private readonly stoppedSignal = new Promise<void>((resolve) => (this.resolveStopped = resolve));

  constructor(
    private readonly stats: ReleaseStats,
    private readonly onStop: () => void,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {}

  get stopped(): boolean {
    return this.stoppedFlag;
  }

  /** The first stop's reason is the one reported; every call wakes the waiting parts. */
  stop(because: ReleaseStats['stoppedBecause'], autoCloseReason?: string, systemicRefusal = false): void {
    if (!this.stoppedFlag) {
      this.stoppedFlag = true;
      this.stats.stoppedBecause = because;
      if (autoCloseReason) this.stats.autoCloseReason = autoCloseReason;
      if (systemicRefusal) this.stats.systemicRefusal = true;
      this.resolveStopped();
    }
    this.onStop();
  }

  /** A wait in a worker that stopping cuts short. */
  pause(ms: number): Promise<void> {
    return Promise.race([this.sleep(ms), this.stoppedSignal]);
  }
}
