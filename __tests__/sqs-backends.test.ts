/**
 * What the drain relies on from SQS FIFO, checked on each emulator the integration suites use,
 * so a change in either emulator shows up here first. The one difference that matters: SQS (and
 * LocalStack) hands out several messages of a group in one receive; fauxqs 1.9.2 hands out one.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { BUFFER_MAX_MESSAGE_BYTES, SQS_MAX_MESSAGE_BYTES } from '../functions/shared/dead-letter-attributes';
import { SQS_BACKENDS, startSqsBackend, type SqsEmulator } from './support/sqs-backends';
import { createBufferQueues, FIFO_ATTRIBUTES, queueDepth } from './support/sqs-queues';

describe.each(SQS_BACKENDS)('SQS FIFO on %s', (backend) => {
  let emulator: SqsEmulator;
  let queueCount = 0;
  beforeAll(async () => {
    emulator = await startSqsBackend(backend);
  }, 90000);
  afterAll(async () => {
    await emulator?.stop();
  });

  const queues = (options?: Parameters<typeof createBufferQueues>[2]) => createBufferQueues(emulator.sqs, `props-${(queueCount += 1)}`, options);
  const send = (queueUrl: string, body: string, group: string, dedup = body) =>
    emulator.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: group, MessageDeduplicationId: dedup }));
  const receive = async (queueUrl: string, max = 10): Promise<Message[]> =>
    (await emulator.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: max, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['MessageGroupId'] }))).Messages ?? [];
  const handBack = (queueUrl: string, messages: Message[]) =>
    emulator.sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: 0 })) }));
  const remove = (queueUrl: string, messages: Message[]) =>
    emulator.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  const bodies = (messages: Message[]) => messages.map((m) => m.Body);

  it('when the buffer queues are created, they carry the stack\'s FIFO attributes, visibility and redrive policy', async () => {
    const q = await queues({ visibilityTimeoutSeconds: 7, maxReceiveCount: 3 });
    for (const [url, redrive, maxBytes] of [[q.queueUrl, true, BUFFER_MAX_MESSAGE_BYTES], [q.dlqUrl, false, SQS_MAX_MESSAGE_BYTES]] as const) {
      const { Attributes: a = {} } = await emulator.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }));
      expect(a).toMatchObject({ ...FIFO_ATTRIBUTES, MaximumMessageSize: String(maxBytes) });
      if (redrive) {
        expect(a.VisibilityTimeout).toBe('7');
        expect(JSON.parse(a.RedrivePolicy!)).toEqual({ deadLetterTargetArn: q.dlqArn, maxReceiveCount: 3 });
      } else {
        expect(a.RedrivePolicy).toBeUndefined();
      }
    }
  });

  const several = backend === 'localstack';
  it(`when 5 messages of one group are queued, one receive of 10 returns ${several ? 'several of them, in order' : 'only the first'}, and a second receive while they are in flight returns none of that group`, async () => {
    const q = await queues();
    const all = ['g-0', 'g-1', 'g-2', 'g-3', 'g-4'];
    for (const body of all) await send(q.queueUrl, body, 'g');
    await send(q.queueUrl, 'h-0', 'h');

    const first = await receive(q.queueUrl);
    const ofG = first.filter((m) => m.Attributes?.MessageGroupId === 'g');
    if (several) expect(ofG.length).toBeGreaterThan(1);
    else expect(ofG).toHaveLength(1);
    expect(bodies(ofG)).toEqual(all.slice(0, ofG.length));
    expect(bodies(first)).toContain('h-0'); // another group is not held back by g

    expect(bodies(await receive(q.queueUrl)).filter((b) => b?.startsWith('g-'))).toEqual([]);

    // Handing the batch back (visibility 0) releases the group from its first message again.
    await handBack(q.queueUrl, first);
    const again = await receive(q.queueUrl);
    expect(bodies(again.filter((m) => m.Attributes?.MessageGroupId === 'g'))).toEqual(bodies(ofG));
    // Deleting it lets the rest of the group follow, still in order.
    await remove(q.queueUrl, again);
    const rest = bodies(await receive(q.queueUrl)).filter((b) => b?.startsWith('g-'));
    expect(rest).toEqual(all.slice(ofG.length, ofG.length + rest.length));
    if (ofG.length < all.length) expect(rest.length).toBeGreaterThan(0);
  });

  it('when a deduplication id repeats within a group, the copy is dropped', async () => {
    const q = await queues();
    await send(q.queueUrl, 'first', 'g', 'same-id');
    await send(q.queueUrl, 'copy', 'g', 'same-id');
    await send(q.queueUrl, 'next', 'g', 'other-id');
    expect(await queueDepth(emulator.sqs, q.queueUrl)).toEqual({ visible: 2, inFlight: 0 });
    const got: Message[] = [];
    for (let i = 0; i < 4 && got.length < 2; i += 1) {
      const batch = await receive(q.queueUrl);
      got.push(...batch);
      await remove(q.queueUrl, batch);
    }
    expect(bodies(got)).toEqual(['first', 'next']);
  });

  // DeduplicationScope messageGroup: SQS keeps one deduplication window per group. fauxqs 1.9.2
  // keeps one per queue. The Edge uses GitHub's delivery id, unique across repositories, so the
  // drain does not depend on the difference; this records it.
  const perGroup = backend === 'localstack';
  it(`when another group reuses a deduplication id, ${perGroup ? 'it is a new message (per-group scope)' : 'fauxqs drops it (queue-wide scope)'}`, async () => {
    const q = await queues();
    await send(q.queueUrl, 'first', 'g', 'same-id');
    await send(q.queueUrl, 'other-group', 'h', 'same-id');
    expect(await queueDepth(emulator.sqs, q.queueUrl)).toEqual({ visible: perGroup ? 2 : 1, inFlight: 0 });
  });

  // LocalStack re-queues messages whose (non-zero) visibility timeout ran out from a once-a-second
  // worker that, in a FIFO queue, stops at the first message still in flight, whatever its group.
  // SQS (and fauxqs) show an expired message again while other groups are busy. Drain scenarios
  // that hold one repository while another is in flight take more runs on LocalStack for this.
  const headOfLine = backend === 'localstack';
  it(`when another group's message is still in flight, a message whose visibility timeout ran out ${headOfLine ? 'stays hidden until that one is settled (head-of-line blocking SQS does not have)' : 'is visible again'}`, async () => {
    const q = await queues();
    await send(q.queueUrl, 'a', 'A');
    await send(q.queueUrl, 'b', 'B');
    const got = await receive(q.queueUrl);
    expect(bodies(got)).toEqual(['a', 'b']);
    const [a, b] = got;
    const setVisibility = (m: Message, seconds: number) =>
      emulator.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: q.queueUrl, ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: seconds }));
    await setVisibility(a, 30); // still being worked on
    await setVisibility(b, 1); // handed back for a second
    /** Polls for up to `ms`, until `count` messages came back. */
    const receiveWithin = async (ms: number, count: number) => {
      const until = Date.now() + ms;
      const seen: Message[] = [];
      while (seen.length < count && Date.now() < until) {
        seen.push(...(await receive(q.queueUrl)));
        await new Promise((r) => setTimeout(r, 100));
      }
      return bodies(seen).sort();
    };
    if (!headOfLine) {
      expect(await receiveWithin(5000, 1)).toEqual(['b']);
      return;
    }
    // Expiry plus LocalStack's one-second worker is at most two seconds without the blocking.
    expect(await receiveWithin(3000, 1)).toEqual([]);
    await setVisibility(a, 0);
    expect(await receiveWithin(5000, 2)).toEqual(['a', 'b']);
  });

  it('when a message has been received maxReceiveCount times without being deleted, the next receive moves it to the DLQ', async () => {
    const q = await queues({ maxReceiveCount: 2 });
    await send(q.queueUrl, 'poison', 'g');
    for (let n = 1; n <= 2; n += 1) {
      const got = await receive(q.queueUrl);
      expect(bodies(got)).toEqual(['poison']);
      await handBack(q.queueUrl, got);
    }
    expect(await receive(q.queueUrl)).toEqual([]);
    expect(bodies(await receive(q.dlqUrl))).toEqual(['poison']);
    expect(await queueDepth(emulator.sqs, q.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });
});
