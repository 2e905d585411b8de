/**
 * `spigot dlq list`: what is in the dead-letter queue, without bodies.
 *
 * SQS has no peek: listing receives the messages with a short visibility timeout and then makes them
 * visible again (ChangeMessageVisibility 0). That raises their ApproximateReceiveCount on the DLQ, which
 * is harmless because the DLQ has no redrive policy of its own. FIFO group locking means a repository
 * with more than 10 dead letters shows only its first 10 per listing.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { decodeEnvelope, headerValue, type WebhookEnvelope } from '../../functions/shared/envelope';
import { step } from '../errors';
import { queueDepth } from './status';
import { DELIVERY_ID_HEADERS, EVENT_HEADERS } from '../../functions/shared/webhook-headers';

export const SQS_REDRIVE_REASON = 'exceeded maxReceiveCount';

export interface DeadLetter {
  readonly messageId: string;
  /** X-GitHub-Event / X-Gitlab-Event / X-Gitea-Event, or null. */
  readonly event: string | null;
  /** The FIFO MessageGroupId: `repo:<owner/name>` or `route:<path>` for deliveries without a repository. */
  readonly group: string | null;
  /** The repository part of the group, or null for route-level groups. */
  readonly repository: string | null;
  /** SpigotStatus message attribute set by the drain (e.g. the Jenkins HTTP status), or null when SQS moved it. */
  readonly status: string | null;
  /** SpigotReason set by the drain, or `exceeded maxReceiveCount` when SQS redrive moved it. */
  readonly reason: string;
  /** The sender's delivery id (X-GitHub-Delivery, ...) or the dedup id. */
  readonly deliveryId: string | null;
  /** When API Gateway received the webhook (ISO-8601), or when it was sent to the DLQ if the envelope is unreadable. */
  readonly receivedAt: string | null;
  readonly route: string | null;
  /** Times received, counting the buffer's receives when SQS moved it (and every listing). */
  readonly receiveCount: number | null;
  /** Set when the message body is not a readable v1 envelope. */
  readonly envelopeError?: string;
}

export interface DlqListing {
  readonly dlqUrl: string;
  readonly deadLetters: DeadLetter[];
  /** ApproximateNumberOfMessages + NotVisible before listing. */
  readonly approximateTotal: number;
  /** True when fewer were listed than the queue holds (limit, FIFO group lock, or messages in flight). */
  readonly partial: boolean;
}

export interface DlqListOptions {
  readonly dlqUrl: string;
  /** Most dead letters to list. @default 100 */
  readonly max?: number;
  /** Seconds a listed message stays hidden if resetting its visibility fails. @default 5 */
  readonly visibilityTimeoutSeconds?: number;
  readonly progress?: (message: string) => void;
}

const firstHeader = (envelope: WebhookEnvelope, names: readonly string[]): string | null => {
  for (const name of names) {
    const value = headerValue(envelope, name);
    if (value !== undefined && value !== '') return value;
  }
  return null;
};

export function describeDeadLetter(message: Message): DeadLetter {
  const attrs = message.Attributes ?? {};
  const group = attrs.MessageGroupId ?? null;
  const status = message.MessageAttributes?.SpigotStatus?.StringValue ?? null;
  const reason = message.MessageAttributes?.SpigotReason?.StringValue ?? null;
  const sent = attrs.SentTimestamp ? new Date(Number(attrs.SentTimestamp)).toISOString() : null;
  let envelope: WebhookEnvelope | undefined;
  let envelopeError: string | undefined;
  try {
    envelope = decodeEnvelope(message.Body ?? '');
  } catch (error) {
    envelopeError = (error as Error).message;
  }
  return {
    messageId: message.MessageId ?? '',
    event: envelope ? firstHeader(envelope, EVENT_HEADERS) : null,
    group,
    repository: group?.startsWith('repo:') ? group.slice('repo:'.length) : null,
    status,
    reason: reason ?? (status === null ? SQS_REDRIVE_REASON : 'unknown'),
    deliveryId: (envelope ? firstHeader(envelope, DELIVERY_ID_HEADERS) : null) ?? attrs.MessageDeduplicationId ?? null,
    receivedAt: envelope ? new Date(envelope.receivedAt).toISOString() : sent,
    route: envelope?.route ?? null,
    receiveCount: attrs.ApproximateReceiveCount ? Number(attrs.ApproximateReceiveCount) : null,
    ...(envelopeError ? { envelopeError } : {}),
  };
}

/** Makes received messages visible again; a handle that already expired is fine (it is visible anyway). */
export async function releaseMessages(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    await sqs
      .send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })),
        }),
      )
      .catch(() => undefined);
  }
}

export async function dlqList(clients: { sqs: SQSClient }, options: DlqListOptions): Promise<DlqListing> {
  const { sqs } = clients;
  const max = options.max ?? 100;
  const depth = await queueDepth(sqs, options.dlqUrl, 'dead-letter queue');
  const approximateTotal = depth.visible + depth.inFlight;
  const received = new Map<string, Message>();
  const held: Message[] = [];
  try {
    while (received.size < max) {
      const { Messages: batch = [] } = await step(`receiving from the dead-letter queue ${options.dlqUrl} (sqs:ReceiveMessage)`, () =>
        sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.dlqUrl,
            MaxNumberOfMessages: Math.min(10, max - received.size),
            VisibilityTimeout: options.visibilityTimeoutSeconds ?? 5,
            // A short long-poll: SQS short polling samples a subset of servers and can answer empty.
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        ),
      );
      held.push(...batch);
      const fresh = batch.filter((m) => !received.has(m.MessageId!));
      if (fresh.length === 0) break;
      for (const m of fresh) received.set(m.MessageId!, m);
      options.progress?.(`listed ${received.size} dead letter(s)...`);
    }
  } finally {
    await releaseMessages(sqs, options.dlqUrl, held);
  }
  const deadLetters = [...received.values()].map(describeDeadLetter);
  return { dlqUrl: options.dlqUrl, deadLetters, approximateTotal, partial: deadLetters.length < approximateTotal };
}
