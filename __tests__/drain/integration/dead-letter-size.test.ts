/**
 * The DLQ copy of a poison webhook carries the buffer message's body plus the drain's
 * attributes, and SQS counts those attributes toward the message size. With the queue sizes
 * the stack synthesizes, the largest envelope the buffer accepts must still fit in the DLQ.
 */
import { ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { BufferQueueClient } from '../../../functions/drain/adapters/buffer-queue';
import { DEAD_LETTER_REASON_MAX_BYTES } from '../../../functions/shared/dead-letter-attributes';
import { encodeEnvelope } from '../../../functions/shared/envelope';
import { createBufferQueues, startFauxqs, type Fauxqs } from '../../support/fauxqs';
import { queueMaxMessageBytes, synthStack } from '../../support/synth';

/** An envelope of exactly `bytes` bytes (the request id absorbs the remainder). */
function envelopeOfSize(bytes: number): string {
  const build = (requestId: string, bodyBytes: number) =>
    encodeEnvelope({
      version: 1,
      requestId,
      receivedAt: 1718000000000,
      sourceIp: '192.30.252.1',
      route: '/github-webhook/',
      query: [],
      headers: [['Content-Type', 'application/json'], ['X-GitHub-Event', 'push']],
      body: Buffer.alloc(bodyBytes, 'x'),
    });
  const overhead = Buffer.byteLength(build('r', 0));
  const bodyBytes = Math.floor((bytes - overhead) / 4) * 3;
  const short = Buffer.byteLength(build('r', bodyBytes));
  const envelope = build('r'.padEnd(1 + bytes - short, 'x'), bodyBytes);
  expect(Buffer.byteLength(envelope)).toBe(bytes);
  return envelope;
}

describe('dead-lettering the largest envelope', () => {
  const sizes = queueMaxMessageBytes(synthStack().parsed);
  let fauxqs: Fauxqs;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await fauxqs.stop();
  });

  it('when the buffer holds the largest envelope it accepts, the drain can dead-letter it with a worst-case reason', async () => {
    const q = await createBufferQueues(fauxqs.sqs, 'largest-envelope', { maxMessageBytes: sizes });
    const send = (body: string, id: string) =>
      fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: body, MessageGroupId: 'repo:octo/big', MessageDeduplicationId: id }));
    // One byte more is refused: this really is the largest envelope the buffer (and so the ingest) accepts.
    await expect(send(envelopeOfSize(sizes.buffer + 1), 'too-big')).rejects.toThrow(/Message must be shorter than/);
    const largest = envelopeOfSize(sizes.buffer);
    await send(largest, 'largest');

    const client = new BufferQueueClient(fauxqs.sqs, q.queueUrl, q.dlqUrl);
    const [held] = await client.receive(1, 0);
    expect(held.body).toBe(largest);
    // Three bytes a character: cut by characters (1000 of them) it would be 3000 bytes.
    const reason = `Jenkins answered 404: ${'€'.repeat(2 * DEAD_LETTER_REASON_MAX_BYTES)}`;
    await client.deadLetter(held, { status: 404, reason });

    const { Messages = [] } = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.dlqUrl, MessageAttributeNames: ['All'] }));
    expect(Messages).toHaveLength(1);
    expect(Messages[0].Body).toBe(largest);
    const attributes = Messages[0].MessageAttributes!;
    expect(attributes.SpigotStatus).toEqual({ DataType: 'Number', StringValue: '404' });
    expect(attributes.SpigotOriginalMessageId?.StringValue).toBe(held.messageId);
    const stored = attributes.SpigotReason!.StringValue!;
    expect(reason.startsWith(stored)).toBe(true);
    expect(Buffer.byteLength(stored)).toBeLessThanOrEqual(DEAD_LETTER_REASON_MAX_BYTES);
    expect(Buffer.byteLength(stored)).toBeGreaterThan(DEAD_LETTER_REASON_MAX_BYTES - 3);
  });
});
