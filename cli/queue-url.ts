/** A queue URL from its name (sqs:GetQueueUrl), for stacks known by name only. */
import { GetQueueUrlCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { CliError, step } from './errors';
import type { StackRef } from './stack';

export async function queueUrlByName(sqs: SQSClient, queueName: string, stack: StackRef): Promise<string> {
  return step(`looking up the queue ${queueName} (sqs:GetQueueUrl)`, async () => {
    try {
      const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
      if (!QueueUrl) throw new CliError(`sqs:GetQueueUrl returned no URL for ${queueName}`);
      return QueueUrl;
    } catch (error) {
      if (error instanceof QueueDoesNotExist || (error as { name?: string }).name === 'AWS.SimpleQueueService.NonExistentQueue') {
        const region = stack.region ?? 'the default region';
        throw new CliError(`stack ${stack.name} (from ${stack.source}) has no queue ${queueName} in ${region}: wrong --stack or --region, or not deployed?`);
      }
      throw error;
    }
  });
}
