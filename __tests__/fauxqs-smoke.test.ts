import { SendMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { startFauxqs, createBufferQueues, queueDepth, type Fauxqs } from './support/fauxqs';

describe('fauxqs support', () => {
  let fauxqs: Fauxqs;
  beforeAll(async () => { fauxqs = await startFauxqs(); });
  afterAll(async () => { await fauxqs.stop(); });

  it('when a FIFO group has a message in flight, it returns no other message of that group', async () => {
    const q = await createBufferQueues(fauxqs.sqs, 'smoke');
    for (const n of [1, 2]) {
      await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: `m${n}`, MessageGroupId: 'g', MessageDeduplicationId: `d${n}` }));
    }
    const first = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.queueUrl, MaxNumberOfMessages: 1 }));
    const second = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: q.queueUrl, MaxNumberOfMessages: 1 }));
    expect(first.Messages?.[0]?.Body).toBe('m1');
    expect(second.Messages ?? []).toHaveLength(0);
    expect(await queueDepth(fauxqs.sqs, q.queueUrl)).toEqual({ visible: 1, inFlight: 1 });
  });
});
