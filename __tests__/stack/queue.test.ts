import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import { SqsQueueRedriveAllowPolicy } from '@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy';
import { DEAD_LETTER_ATTRIBUTES_MAX_BYTES } from '../../functions/shared/dead-letter-attributes';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { visibilityTimeoutFor } from '../../stacks/spigot-stack';
import { onlyResourceOfType, ref, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

Testing.setupJest();

const queueNamed = (parsed: SynthesizedStack, name: string): [string, any] => {
  const found = Object.entries(resourcesOfType(parsed, 'aws_sqs_queue')).filter(([, q]) => q.name === name);
  if (found.length !== 1) throw new Error(`expected one aws_sqs_queue named ${name}, found ${found.length}`);
  return found[0];
};

describe('buffer queue', () => {
  const { json, parsed } = synthStack();
  const [kmsKeyId] = onlyResourceOfType(parsed, 'aws_kms_key');
  const [bufferId, buffer] = queueNamed(parsed, 'spigot-buffer.fifo');
  const [dlqId, dlq] = queueNamed(parsed, 'spigot-dlq.fifo');

  it('when synthesized with defaults, it is a FIFO queue encrypted with the stack key', () => {
    expect(json).toHaveResourceWithProperties(SqsQueue, {
      name: 'spigot-buffer.fifo',
      fifo_queue: true,
      kms_master_key_id: ref('aws_kms_key', kmsKeyId, 'arn'),
    });
  });

  it('when synthesized with defaults, it keeps messages 14 days and accepts messages up to 1 MiB less the dead-letter attribute budget', () => {
    expect(buffer.message_retention_seconds).toBe(1209600);
    expect(buffer.max_message_size).toBe(1048576 - DEAD_LETTER_ATTRIBUTES_MAX_BYTES);
  });

  it('when synthesized, the buffer max size plus the dead-letter attribute budget fits within the DLQ max size', () => {
    expect(buffer.max_message_size + DEAD_LETTER_ATTRIBUTES_MAX_BYTES).toBeLessThanOrEqual(dlq.max_message_size);
    expect(buffer.max_message_size).toBeGreaterThanOrEqual(1024); // SQS's smallest allowed maximum
  });

  it('when synthesized with defaults, it uses high-throughput FIFO (per message group)', () => {
    expect(json).toHaveResourceWithProperties(SqsQueue, {
      name: 'spigot-buffer.fifo',
      deduplication_scope: 'messageGroup',
      fifo_throughput_limit: 'perMessageGroupId',
    });
  });

  it('when synthesized with defaults, its visibility timeout is the drain timeout plus 60 s', () => {
    expect(buffer.visibility_timeout_seconds).toBe(visibilityTimeoutFor(DEFAULT_CONFIG.drain.timeoutSeconds));
    expect(buffer.visibility_timeout_seconds).toBe(DEFAULT_CONFIG.drain.timeoutSeconds + 60);
  });

  it('when the drain timeout changes, the visibility timeout follows it', () => {
    const { parsed: other } = synthStack({ drain: { timeoutSeconds: 600 } });
    expect(queueNamed(other, 'spigot-buffer.fifo')[1].visibility_timeout_seconds).toBe(660);
  });

  it('when synthesized with defaults, it redrives to the FIFO DLQ after maxReceiveCount from config', () => {
    expect(JSON.parse(buffer.redrive_policy)).toEqual({
      deadLetterTargetArn: ref('aws_sqs_queue', dlqId, 'arn'),
      maxReceiveCount: DEFAULT_CONFIG.maxReceiveCount,
    });
  });

  it('when maxReceiveCount is configured, the redrive policy uses it', () => {
    const { parsed: other } = synthStack({ maxReceiveCount: 25 });
    expect(JSON.parse(queueNamed(other, 'spigot-buffer.fifo')[1].redrive_policy).maxReceiveCount).toBe(25);
  });

  it('when synthesized with defaults, the DLQ is FIFO, encrypted, keeps the same retention and has no redrive of its own', () => {
    expect(dlq).toMatchObject({
      fifo_queue: true,
      deduplication_scope: 'messageGroup',
      fifo_throughput_limit: 'perMessageGroupId',
      message_retention_seconds: 1209600,
      max_message_size: 1048576,
      kms_master_key_id: ref('aws_kms_key', kmsKeyId, 'arn'),
    });
    expect(dlq.redrive_policy).toBeUndefined();
  });

  it('when synthesized with defaults, the DLQ accepts redrive only from the buffer queue', () => {
    expect(json).toHaveResourceWithProperties(SqsQueueRedriveAllowPolicy, { queue_url: ref('aws_sqs_queue', dlqId, 'url') });
    const [, allow] = onlyResourceOfType(parsed, 'aws_sqs_queue_redrive_allow_policy');
    expect(JSON.parse(allow.redrive_allow_policy)).toEqual({ redrivePermission: 'byQueue', sourceQueueArns: [ref('aws_sqs_queue', bufferId, 'arn')] });
  });

  it('when the stack name changes, both FIFO queue names follow it and keep the .fifo suffix', () => {
    const { parsed: other } = synthStack({ name: 'ci-hooks' });
    expect(queueNamed(other, 'ci-hooks-buffer.fifo')[1].fifo_queue).toBe(true);
    expect(queueNamed(other, 'ci-hooks-dlq.fifo')[1].fifo_queue).toBe(true);
  });
});
