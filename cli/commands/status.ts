import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { step } from '../errors';
import { readSpigot, type SpigotReading } from '../spigot';

export interface QueueDepth {
  readonly queueUrl: string;
  /** Waiting to be received. */
  readonly visible: number;
  /** Received by a drain (or a `dlq list`) and not yet deleted. */
  readonly inFlight: number;
}

export interface BufferDepth extends QueueDepth {
  /**
   * Always null: SQS publishes the oldest message's age only as a CloudWatch metric
   * (ApproximateAgeOfOldestMessage), and peeking would burn receive counts.
   */
  readonly oldestMessageAgeSeconds: null;
}

export interface StatusReport {
  readonly spigot: SpigotReading;
  readonly buffer: BufferDepth;
  readonly deadLetters: QueueDepth;
  /** Always null: the CLI does not read drain logs; `spigot drain` shows a run's result. */
  readonly lastDrain: null;
}

export interface StatusOptions {
  readonly parameterName: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string, label: string): Promise<QueueDepth> {
  const names: QueueAttributeName[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'];
  const { Attributes: a = {} } = await step(`reading the depth of the ${label} ${queueUrl} (sqs:GetQueueAttributes)`, () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names })),
  );
  return { queueUrl, visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

export async function status(clients: { ssm: SSMClient; sqs: SQSClient }, options: StatusOptions): Promise<StatusReport> {
  const [spigot, buffer, deadLetters] = await Promise.all([
    readSpigot(clients.ssm, options.parameterName),
    queueDepth(clients.sqs, options.queueUrl, 'buffer queue'),
    queueDepth(clients.sqs, options.dlqUrl, 'dead-letter queue'),
  ]);
  return { spigot, buffer: { ...buffer, oldestMessageAgeSeconds: null }, deadLetters, lastDrain: null };
}
