import { Construct } from 'constructs';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { BUFFER_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../functions/shared/dead-letter-attributes';

export interface BufferQueueOptions {
  readonly name: string;
  readonly kmsKeyArn: string;
  /** Matches the drain: a message being sent must never become visible again. */
  readonly visibilityTimeoutSeconds: number;
  /** @default 100 — see README "Why maxReceiveCount is high". */
  readonly maxReceiveCount: number;
}

export const FOURTEEN_DAYS_SECONDS = 14 * 24 * 60 * 60;
export { BUFFER_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES };

/**
 * The durable buffer: a FIFO queue (order per repository = per message group) with
 * high-throughput FIFO so different repositories do not share a throughput limit, and
 * a FIFO dead-letter queue that keeps the group id, so dead letters can be redriven in order.
 *
 * The DLQ takes SQS's full 1 MiB; the buffer takes less by the dead-letter attributes' worst
 * case, so every message the buffer accepts can be dead-lettered, and an envelope too large
 * for that is refused at ingest (413) instead of blocking its repository later.
 */
export class BufferQueue extends Construct {
  readonly queue: SqsQueue;
  readonly deadLetterQueue: SqsQueue;

  constructor(scope: Construct, id: string, options: BufferQueueOptions) {
    super(scope, id);
    const common = {
      fifoQueue: true,
      deduplicationScope: 'messageGroup',
      fifoThroughputLimit: 'perMessageGroupId',
      messageRetentionSeconds: FOURTEEN_DAYS_SECONDS,
      kmsMasterKeyId: options.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
    };
    this.deadLetterQueue = new SqsQueue(this, 'dlq', { ...common, name: `${options.name}-dlq.fifo`, maxMessageSize: SQS_MAX_MESSAGE_BYTES });
    this.queue = new SqsQueue(this, 'queue', {
      ...common,
      name: `${options.name}-buffer.fifo`,
      maxMessageSize: BUFFER_MAX_MESSAGE_BYTES,
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
      receiveWaitTimeSeconds: 0,
      redrivePolicy: JSON.stringify({
        deadLetterTargetArn: this.deadLetterQueue.arn,
        maxReceiveCount: options.maxReceiveCount,
      }),
    });
    new SqsQueueRedriveAllowPolicy(this, 'dlq-allow', {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [this.queue.arn] }),
    });
  }
}
