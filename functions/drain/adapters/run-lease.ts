/**
 * One drain run at a time, on every account, without reserved concurrency.
 *
 * The lease is a single message in its own FIFO queue, in one message group. A run holds the
 * lease while it has that message received: FIFO hands out no other message of a group while one
 * is in flight, so even a duplicate lease message can never give a second run the lease. The
 * message's visibility timeout covers the run's own deadline, so a crashed or timed-out run frees
 * the lease by itself a few seconds after Lambda ends it.
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MAX_VISIBILITY_SECONDS } from '../core/hold';

export const LEASE_GROUP = 'drain-run';
/** SQS deletes a message 14 days after it was sent, held or not: renew well before. */
export const LEASE_RENEW_AFTER_MS = 24 * 60 * 60 * 1000;
/** Past the run's deadline, so the lease never frees while the run could still be sending. */
export const LEASE_MARGIN_SECONDS = 5;

/** How long to keep the lease message invisible: the run's remaining time plus a margin. */
export function leaseHoldSeconds(remainingMs: number): number {
  return Math.min(MAX_VISIBILITY_SECONDS, Math.max(1, Math.ceil(remainingMs / 1000)) + LEASE_MARGIN_SECONDS);
}

/**
 * With nothing received: a queue holding any message means another run has the lease; an empty
 * one has no lease message yet (first run, or every copy expired) and must be seeded.
 */
export const leaseMissing = (visible: number, inFlight: number): boolean => visible + inFlight === 0;

export const leaseNeedsRenewal = (sentAt: number, now: number): boolean => now - sentAt >= LEASE_RENEW_AFTER_MS;

export interface HeldLease {
  /** Hands the lease to the next run at once (or renews the message first when it is old). */
  release(): Promise<void>;
}

export class RunLease {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Waits up to `waitSeconds` for the lease (a run that just read a closed spigot frees it in
   * milliseconds, so a spigot-changed run arriving then still runs). Undefined: another run has it.
   */
  async acquire(waitSeconds: number, remainingMs: () => number): Promise<HeldLease | undefined> {
    const held = await this.receive(waitSeconds, remainingMs);
    if (held) return held;
    const { Attributes: a = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    if (!leaseMissing(Number(a.ApproximateNumberOfMessages ?? 0), Number(a.ApproximateNumberOfMessagesNotVisible ?? 0))) return undefined;
    // Runs seeding at once send the same deduplication id, so SQS keeps one message.
    await this.send('seed');
    return this.receive(1, remainingMs);
  }

  private async receive(waitSeconds: number, remainingMs: () => number): Promise<HeldLease | undefined> {
    const result = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: 1,
        WaitTimeSeconds: waitSeconds,
        // Computed before the wait: a lease won after waiting is held up to the wait too long, never too short.
        VisibilityTimeout: leaseHoldSeconds(remainingMs()),
        ReceiveRequestAttemptId: randomUUID(),
        MessageSystemAttributeNames: ['SentTimestamp'],
      }),
      { requestTimeout: (waitSeconds + 5) * 1000 },
    );
    const message = result.Messages?.[0];
    if (!message?.ReceiptHandle) return undefined;
    const handle = message.ReceiptHandle;
    const sentAt = Number(message.Attributes?.SentTimestamp ?? this.now());
    return {
      release: async () => {
        if (leaseNeedsRenewal(sentAt, this.now())) {
          // The fresh copy waits behind this one in the group; deleting this one hands it over.
          await this.send(`renew-${sentAt}`);
          await this.sqs.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle }));
          return;
        }
        await this.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
      },
    };
  }

  private async send(deduplicationId: string): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageGroupId: LEASE_GROUP, MessageDeduplicationId: deduplicationId, MessageBody: 'drain run lease' }),
    );
  }
}

/** LEASE_QUEUE_URL is set by the stack; without it (the release loop's own tests) there is no guard. */
export function leaseSettings(env: Record<string, string | undefined>): { queueUrl?: string; waitSeconds: number } {
  const raw = env.LEASE_WAIT_SECONDS?.trim();
  const waitSeconds = raw ? Number(raw) : 5;
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 20) {
    throw new Error(`drain environment variable LEASE_WAIT_SECONDS must be a whole number from 0 to 20, got ${JSON.stringify(raw)}`);
  }
  return { queueUrl: env.LEASE_QUEUE_URL?.trim() || undefined, waitSeconds };
}
