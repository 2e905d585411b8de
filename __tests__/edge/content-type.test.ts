/**
 * Content-Type spellings at the webhook edge. AWS does not document whether a request template
 * is selected by the media type alone or by the whole header value, so the synthesized API is
 * driven through the emulated edge both ways, into a real SQS emulator (fauxqs).
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeEnvelope, headerValue } from '../../functions/shared/envelope';
import { ACCEPTED_MEDIA_TYPES, CHARSET_SPELLINGS } from '../../stacks/ingest/send-message-template';
import type { TemplateMatching } from '../support/api-gateway';
import { Edge } from '../support/edge';
import { createBufferQueues, queueDepth, startFauxqs, type Fauxqs } from '../support/fauxqs';
import { synthStack } from '../support/synth';
import { githubDelivery } from '../support/webhooks';

const ROUTE = '/github-webhook/';
const MATCHINGS: TemplateMatching[] = ['media-type', 'whole-value'];
/** Every spelling the stack promises, with the body kind GitHub sends for it. */
const SPELLINGS = Object.entries(ACCEPTED_MEDIA_TYPES).flatMap(([type, kind]) =>
  ['', ...CHARSET_SPELLINGS].map((charset) => [`${type}${charset}`, kind] as const),
);

describe('webhook edge, Content-Type spellings', () => {
  const { parsed } = synthStack();
  let fauxqs: Fauxqs;
  let queueCount = 0;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await fauxqs.stop();
  });

  async function edgeFor(matching: TemplateMatching) {
    const queues = await createBufferQueues(fauxqs.sqs, `content-type-${(queueCount += 1)}`);
    return { edge: new Edge(parsed, { endpoint: fauxqs.endpoint, queueUrl: queues.queueUrl }, { templateMatching: matching }), queueUrl: queues.queueUrl };
  }

  it('when the stack promises charset spellings, the list covers utf-8 and UTF-8, with and without the space', () => {
    expect(SPELLINGS.map(([type]) => type)).toEqual(expect.arrayContaining([
      'application/json', 'application/json; charset=utf-8', 'application/json;charset=utf-8', 'application/json; charset=UTF-8',
      'application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8',
      'application/x-www-form-urlencoded;charset=utf-8', 'application/x-www-form-urlencoded; charset=UTF-8',
    ]));
  });

  describe.each(MATCHINGS)('when API Gateway matches templates by %s', (matching) => {
    it.each(SPELLINGS)('when the Content-Type is %s, it queues the delivery (202, reached the queue) in the repository group', async (contentType, kind) => {
      const { edge, queueUrl } = await edgeFor(matching);
      const delivery = githubDelivery({ event: 'push', repo: 'octo-org/charset', contentType: kind });
      const headers = delivery.headers.map(([name, value]): [string, string] => (name.toLowerCase() === 'content-type' ? [name, contentType] : [name, value]));
      const answer = await edge.accept({ path: ROUTE, headers, body: delivery.body });
      expect(answer).toMatchObject({ status: 202, reachedQueue: true });
      const { Messages = [] } = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageSystemAttributeNames: ['MessageGroupId'] }));
      expect(Messages).toHaveLength(1);
      expect(Messages[0].Attributes?.MessageGroupId).toBe('repo:octo-org/charset');
      const envelope = decodeEnvelope(Messages[0].Body!);
      expect(envelope.body.equals(delivery.body)).toBe(true);
      expect(headerValue(envelope, 'Content-Type')).toBe(contentType);
    });

    it.each(['text/plain', 'text/plain; charset=utf-8', 'multipart/form-data; boundary=x', 'application/xml', 'application/json-patch+json'])(
      'when the Content-Type is %s, it still answers 415 and queues nothing',
      async (contentType) => {
        const { edge, queueUrl } = await edgeFor(matching);
        const answer = await edge.accept({ path: ROUTE, headers: [['Content-Type', contentType]], body: Buffer.from('{"a":1}') });
        expect(answer).toMatchObject({ status: 415, reachedQueue: false });
        expect(JSON.parse(answer.body)).toMatchObject({ queued: false });
        expect(await queueDepth(fauxqs.sqs, queueUrl)).toEqual({ visible: 0, inFlight: 0 });
      },
    );
  });
});
