import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient, type QueueAttributeName } from '@aws-sdk/client-sqs';
import { BUFFER_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../functions/shared/dead-letter-attributes';

/** Queue helpers for any SQS emulator (fauxqs, LocalStack): they only need a client. */

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const TEST_REGION = 'us-east-1';

/** A client for an emulator on loopback: test credentials, and queue URLs never used as endpoints. */
export function emulatorClient(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, useQueueUrlAsEndpoint: false });
}

export interface BufferQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

/** The FIFO attributes the stack sets on the buffer queue and its DLQ (stacks/constructs/buffer-queue.ts). */
export const FIFO_ATTRIBUTES = {
  FifoQueue: 'true',
  ContentBasedDeduplication: 'false',
  DeduplicationScope: 'messageGroup',
  FifoThroughputLimit: 'perMessageGroupId',
  MessageRetentionPeriod: '1209600',
} as const;

/** Creates the buffer FIFO queue and its FIFO DLQ with the attributes the stack sets (stacks/constructs/buffer-queue.ts). */
export async function createBufferQueues(
  sqs: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number; maxMessageBytes?: { buffer: number; deadLetter: number } } = {},
): Promise<BufferQueues> {
  const maxBytes = options.maxMessageBytes ?? { buffer: BUFFER_MAX_MESSAGE_BYTES, deadLetter: SQS_MAX_MESSAGE_BYTES };
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { ...FIFO_ATTRIBUTES, MaximumMessageSize: String(maxBytes.deadLetter) } }),
  );
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        ...FIFO_ATTRIBUTES,
        MaximumMessageSize: String(maxBytes.buffer),
        VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 30),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: options.maxReceiveCount ?? 100 }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl!, queueArn: await queueArn(sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl!, dlqArn };
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return attrs.Attributes!.QueueArn!;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const names: QueueAttributeName[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'];
  const { Attributes: a = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names }));
  return { visible: Number(a.ApproximateNumberOfMessages), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible) };
}
