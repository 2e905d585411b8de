import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES, isHttpStatus, truncateUtf8 } from '../../shared/dead-letter-attributes';

/** A received buffer message with what the drain needs from its attributes. */
export interface HeldWebhook {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly body: string;
  readonly groupId: string;
  readonly sequenceNumber: string;
  readonly deduplicationId?: string;
  readonly receiveCount: number;
  /** Epoch ms SQS accepted it. */
  readonly sentAt: number;
  /** Epoch ms of THIS receive: SQS caps a visibility change at 12 h from it. */
  readonly receivedAt: number;
}

export interface DeadLetterReason {
  readonly status?: number;
  readonly reason: string;
}

export interface BatchResult {
  readonly failed: readonly string[];
}

/** Thin SQS calls the drain makes; every decision lives in the caller. */
export class BufferQueueClient {
  calls = 0;

  constructor(
    private readonly sqs: SQSClient,
    private readonly queueUrl: string,
    private readonly deadLetterQueueUrl: string,
  ) {}

  async receive(maxMessages: number, waitSeconds: number): Promise<HeldWebhook[]> {
    this.calls += 1;
    // Taken before the call: an earlier time can only make the 12-hour window look shorter.
    const receivedAt = Date.now();
    const result = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: maxMessages,
        WaitTimeSeconds: waitSeconds,
        // If a response is lost, the SDK's retry gets the same batch back instead of leaving
        // the lost batch's repositories locked until their visibility timeout.
        ReceiveRequestAttemptId: randomUUID(),
        MessageSystemAttributeNames: ['MessageGroupId', 'SequenceNumber', 'MessageDeduplicationId', 'ApproximateReceiveCount', 'SentTimestamp'],
      }),
      // A long poll legitimately takes waitSeconds; allow that plus the usual margin.
      { requestTimeout: (waitSeconds + 5) * 1000 },
    );
    return (result.Messages ?? []).map((m) => toHeldWebhook(m, receivedAt));
  }

  /** Deletes up to 10 messages in one call; returns the ids SQS did not delete. */
  async deleteBatch(messages: readonly HeldWebhook[]): Promise<BatchResult> {
    if (messages.length === 0) return { failed: [] };
    this.calls += 1;
    const result = await this.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle })),
      }),
    );
    return { failed: (result.Failed ?? []).map((f) => messages[Number(f.Id)].messageId) };
  }

  /** Makes messages visible again after `seconds` (0 = now). */
  async setVisibility(messages: readonly HeldWebhook[], seconds: number): Promise<BatchResult> {
    const failed: string[] = [];
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      this.calls += 1;
      const result = await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((m, i) => ({ Id: String(i), ReceiptHandle: m.receiptHandle, VisibilityTimeout: seconds })),
        }),
      );
      failed.push(...(result.Failed ?? []).map((f) => chunk[Number(f.Id)].messageId));
    }
    return { failed };
  }

  /**
   * Copies a poison message to the DLQ (same group, so redrive keeps order) with why. The
   * attributes stay within DEAD_LETTER_ATTRIBUTES_MAX_BYTES, which the buffer's smaller
   * max_message_size leaves room for. SQS refuses an empty attribute value, hence 'unknown'.
   */
  async deadLetter(message: HeldWebhook, why: DeadLetterReason): Promise<void> {
    const { reason, status, originalMessageId } = DEAD_LETTER_ATTRIBUTES;
    this.calls += 1;
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.deadLetterQueueUrl,
        MessageBody: message.body,
        MessageGroupId: message.groupId,
        MessageDeduplicationId: `dl:${message.messageId}`,
        MessageAttributes: {
          [reason.name]: { DataType: reason.dataType, StringValue: truncateUtf8(why.reason, reason.maxValueBytes) || 'unknown' },
          ...(isHttpStatus(why.status) ? { [status.name]: { DataType: status.dataType, StringValue: String(why.status) } } : {}),
          [originalMessageId.name]: { DataType: originalMessageId.dataType, StringValue: truncateUtf8(message.messageId, originalMessageId.maxValueBytes) },
        },
      }),
    );
  }
}

function toHeldWebhook(message: Message, receivedAt: number): HeldWebhook {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    groupId: a.MessageGroupId ?? '',
    sequenceNumber: a.SequenceNumber ?? '0',
    deduplicationId: a.MessageDeduplicationId,
    receiveCount: Number(a.ApproximateReceiveCount ?? '1'),
    sentAt: Number(a.SentTimestamp ?? Date.now()),
    receivedAt,
  };
}
