import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SQSClient,
  type QueueAttributeName,
} from '@aws-sdk/client-sqs';
import { BUFFER_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../functions/shared/dead-letter-attributes';

/** A fauxqs@1.9.2 emulator running in a child process on loopback. */
export interface Fauxqs {
  readonly endpoint: string;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };
export const TEST_REGION = 'us-east-1';

export async function startFauxqs(): Promise<Fauxqs> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'fauxqs-server.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint));
    child.once('exit', (code) => reject(new Error(`fauxqs exited early with code ${code}`)));
  });
  const sqs = new SQSClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, useQueueUrlAsEndpoint: false });
  return {
    endpoint,
    sqs,
    async stop() {
      sqs.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface BufferQueues {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

/** Creates the buffer FIFO queue and its FIFO DLQ with the attributes the stack sets (stacks/constructs/buffer-queue.ts). */
export async function createBufferQueues(
  sqs: SQSClient,
  name: string,
  options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number; maxMessageBytes?: { buffer: number; deadLetter: number } } = {},
): Promise<BufferQueues> {
  const maxBytes = options.maxMessageBytes ?? { buffer: BUFFER_MAX_MESSAGE_BYTES, deadLetter: SQS_MAX_MESSAGE_BYTES };
  const fifo = { FifoQueue: 'true', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId', MessageRetentionPeriod: '1209600' };
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { ...fifo, MaximumMessageSize: String(maxBytes.deadLetter) } }),
  );
  const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}.fifo`,
      Attributes: {
        ...fifo,
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
