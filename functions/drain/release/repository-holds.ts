import type { BufferQueueClient, HeldWebhook } from '../adapters/buffer-queue';
import { holdSeconds, visibilityWithinWindow, type HoldPolicy } from '../core/hold';
import { errorMessage } from '../../shared/error-message';
import type { ReleaseLog, ReleaseStats } from './types';

/** Hiding a repository's remaining messages (a hold), or giving them back at once. */
export class RepositoryHolds {
  constructor(
    private readonly queue: Pick<BufferQueueClient, 'setVisibility'>,
    private readonly log: ReleaseLog,
    private readonly stats: ReleaseStats,
    private readonly policy: HoldPolicy,
    private readonly now: () => number,
  ) {}

  /** Hidden for Retry-After or the default, never below the floor of its most-received message. */
  hold(messages: readonly HeldWebhook[], retryAfterMs: number | undefined, why: string): Promise<void> {
    const receives = Math.max(1, ...messages.map((m) => m.receiveCount));
    const seconds = holdSeconds(retryAfterMs, receives, this.policy);
    return this.setVisibility(messages, visibilityWithinWindow(seconds, messages.map((m) => m.receivedAt), this.now()), why);
  }

  /** Visible again at once: the run is stopping and nothing was refused. */
  handBack(messages: readonly HeldWebhook[], why: string): Promise<void> {
    return this.setVisibility(messages, 0, why);
  }

  private async setVisibility(messages: readonly HeldWebhook[], seconds: number, why: string): Promise<void> {
    if (messages.length === 0) return;
    this.stats.held += messages.length;
    try {
      const { failed } = await this.queue.setVisibility(messages, seconds);
      if (failed.length > 0) this.log.warn('could not change visibility; messages reappear after the queue visibility timeout', { failed: failed.length });
    } catch (error) {
      this.log.warn('could not change visibility; messages reappear after the queue visibility timeout', { error: errorMessage(error), count: messages.length });
    }
    this.log.info('held webhooks', { count: messages.length, visibilitySeconds: seconds, why, group: messages[0].groupId });
  }
}
