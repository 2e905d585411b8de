/**
 * The rendered SendMessage requests against a real SQS FIFO emulator (fauxqs): what the
 * queue does with Spigot's group and deduplication ids (one per accepted request).
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeEnvelope, headerValue } from '../functions/shared/envelope';
import { Edge } from './support/edge';
import { createBufferQueues, queueDepth, startFauxqs, type Fauxqs } from './support/fauxqs';
import { synthStack } from './support/synth';
import { githubDelivery, gitlabDelivery } from './support/webhooks';

describe('ingest into the FIFO buffer', () => {
  let fauxqs: Fauxqs;
  let queueCount = 0;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await fauxqs.stop();
  });

  async function freshEdge() {
    const queues = await createBufferQueues(fauxqs.sqs, `ingest-${(queueCount += 1)}`);
    return { edge: new Edge(synthStack().parsed, { endpoint: fauxqs.endpoint, queueUrl: queues.queueUrl }), queueUrl: queues.queueUrl };
  }

  async function receiveAll(queueUrl: string) {
    const { Messages = [] } = await fauxqs.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'] }),
    );
    return Messages;
  }

  it('when the same X-GitHub-Delivery is accepted twice within 5 minutes (a redelivery), it is two messages in the queue', async () => {
    const { edge, queueUrl } = await freshEdge();
    const delivery = githubDelivery({ event: 'push', repo: 'octo-org/api', contentType: 'json' });
    const first = await edge.accept({ path: '/github-webhook/', headers: delivery.headers, body: delivery.body });
    const again = await edge.accept({ path: '/github-webhook/', headers: delivery.headers, body: delivery.body });
    expect([first.status, again.status]).toEqual([202, 202]);
    expect([first.reachedQueue, again.reachedQueue]).toEqual([true, true]);
    // Both stored: one received (in flight), the other waiting behind it in the repository's group.
    const [head] = await receiveAll(queueUrl);
    expect(await queueDepth(fauxqs.sqs, queueUrl)).toEqual({ visible: 1, inFlight: 1 });
    // Each is its own request; both carry the delivery id, so Jenkins can tell it is a repeat.
    const envelope = decodeEnvelope(head.Body!);
    expect(head.Attributes?.MessageDeduplicationId).toBe(`req:${first.requestId}`);
    expect(envelope.requestId).toBe(first.requestId);
    expect(headerValue(envelope, 'X-GitHub-Delivery')).toBe(delivery.deliveryId);
    await fauxqs.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: head.ReceiptHandle! }));
    const [second] = await receiveAll(queueUrl);
    expect(decodeEnvelope(second.Body!).requestId).toBe(again.requestId);
    expect(headerValue(decodeEnvelope(second.Body!), 'X-GitHub-Delivery')).toBe(delivery.deliveryId);
  });

  it('when one event reaches two hooks (same delivery id, different hook ids), it stores both deliveries', async () => {
    const { edge, queueUrl } = await freshEdge();
    const repoHook = githubDelivery({ event: 'push', repo: 'octo-org/api', contentType: 'json', hookId: '111', deliveryId: '5f1d0f40-0000-4000-8000-000000000001' });
    const orgHook = githubDelivery({ event: 'push', repo: 'octo-org/api', contentType: 'json', hookId: '222', deliveryId: '5f1d0f40-0000-4000-8000-000000000001' });
    for (const d of [repoHook, orgHook]) expect((await edge.accept({ path: '/github-webhook/', headers: d.headers, body: d.body })).status).toBe(202);
    expect(await queueDepth(fauxqs.sqs, queueUrl)).toEqual({ visible: 2, inFlight: 0 });
  });

  it('when deliveries come from several repositories, each lands in its repository group with its bytes intact', async () => {
    const { edge, queueUrl } = await freshEdge();
    const sent = [
      githubDelivery({ event: 'push', repo: 'Octo-Org/API', contentType: 'json' }),
      githubDelivery({ event: 'pull_request', repo: 'octo-org/web', contentType: 'form' }),
      gitlabDelivery({ project: 'platform/jenkins-lib' }),
    ];
    for (const d of sent) expect((await edge.accept({ path: '/github-webhook/', headers: d.headers, body: d.body })).status).toBe(202);
    const messages = await receiveAll(queueUrl);
    const groups = messages.map((m) => m.Attributes?.MessageGroupId).sort();
    expect(groups).toEqual(['repo:octo-org/api', 'repo:octo-org/web', 'repo:platform/jenkins-lib']);
    const bodies = messages.map((m) => decodeEnvelope(m.Body!).body);
    for (const d of sent) expect(bodies.some((b) => b.equals(d.body))).toBe(true);
  });

  it('when a delivery carries no delivery id, two identical requests are two messages (deduplicated by request id only)', async () => {
    const { edge, queueUrl } = await freshEdge();
    const body = Buffer.from('{"hello":"jenkins"}');
    const headers: Array<[string, string]> = [['Content-Type', 'application/json']];
    for (let i = 0; i < 2; i += 1) expect((await edge.accept({ path: '/generic-webhook-trigger/invoke', headers, body })).status).toBe(202);
    const messages = await receiveAll(queueUrl);
    expect(messages.map((m) => m.Attributes?.MessageDeduplicationId).every((id) => id?.startsWith('req:'))).toBe(true);
    // Both stored: one received (in flight), the other waiting behind it in the route's group.
    expect(await queueDepth(fauxqs.sqs, queueUrl)).toEqual({ visible: 1, inFlight: 1 });
    expect(messages).toHaveLength(1);
  });
});
