/**
 * Hostile and odd input at the webhook edge: API Gateway as synthesized (routing, content-type
 * template selection, mapping templates, gateway and integration responses) in front of a real
 * SQS emulator (fauxqs). Every case checks three things: the status, that the JSON answer says
 * `queued` truthfully, and the queue itself, so nothing is acknowledged and dropped: every 202
 * is exactly one message in the buffer (matched by API Gateway request id), and every non-2xx
 * leaves the buffer untouched.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { decodeEnvelope, encodeEnvelope, type WebhookEnvelope } from '../../functions/shared/envelope';
import { randomUUID } from 'node:crypto';
import { BUFFER_MAX_MESSAGE_BYTES, DEAD_LETTER_ATTRIBUTES_MAX_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../functions/shared/dead-letter-attributes';
import { Edge, type EdgeRequest, type EdgeResponse } from '../support/edge';
import { createBufferQueues, queueDepth, startFauxqs, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { forRoute, httpMethodOf, queueMaxMessageBytes, synthStack } from '../support/synth';
import { githubDelivery } from '../support/webhooks';

const ROUTE = '/github-webhook/';
const OTHER_ROUTE = '/generic-webhook-trigger/invoke';
const API_GATEWAY_MAX_BODY = 10 * 1024 * 1024;

describe('webhook edge, hostile input', () => {
  const { parsed } = synthStack();
  let fauxqs: Fauxqs;
  let queues: BufferQueues;
  let edge: Edge;
  let queueCount = 0;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await fauxqs.stop();
  });
  // A fresh buffer per test, so its depth is exactly what that test's requests left behind.
  beforeEach(async () => {
    queueCount += 1;
    queues = await createBufferQueues(fauxqs.sqs, `hostile-${queueCount}`, { maxMessageBytes: queueMaxMessageBytes(parsed) });
    edge = new Edge(parsed, { endpoint: fauxqs.endpoint, queueUrl: queues.queueUrl });
  });

  type Queued = WebhookEnvelope & { readonly groupId: string };

  /** Every message in the buffer, decoded (and removed, so the depth check below stays exact). */
  async function drainBuffer(): Promise<Queued[]> {
    const envelopes: Queued[] = [];
    for (;;) {
      const { Messages = [] } = await fauxqs.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60, MessageSystemAttributeNames: ['MessageGroupId'],
        }),
      );
      if (Messages.length === 0) return envelopes;
      for (const message of Messages) {
        envelopes.push({ ...decodeEnvelope(message.Body!), groupId: message.Attributes?.MessageGroupId ?? '' });
        await fauxqs.sqs.send(new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: message.ReceiptHandle! }));
      }
    }
  }

  /**
   * Sends one request and checks the invariant: a 202 says queued:true and is exactly one
   * message carrying its request id; anything else says queued:false and queued nothing.
   */
  async function send(request: EdgeRequest): Promise<{ answer: EdgeResponse; json: Record<string, unknown>; queued?: Queued }> {
    expect(await queueDepth(fauxqs.sqs, queues.queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    const answer = await edge.accept(request);
    const json = JSON.parse(answer.body) as Record<string, unknown>;
    expect(json.requestId).toBe(answer.requestId);
    const depth = await queueDepth(fauxqs.sqs, queues.queueUrl);
    if (answer.status === 202) {
      expect(json.queued).toBe(true);
      expect(answer.reachedQueue).toBe(true);
      expect(depth).toEqual({ visible: 1, inFlight: 0 });
      const envelopes = await drainBuffer();
      expect(envelopes).toHaveLength(1);
      expect(envelopes[0].requestId).toBe(answer.requestId);
      return { answer, json, queued: envelopes[0] };
    }
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(json.queued).toBe(false);
    expect(answer.reachedQueue).toBe(false);
    expect(depth).toEqual({ visible: 0, inFlight: 0 });
    expect(typeof json.message).toBe('string');
    return { answer, json };
  }

  const json = (body: string | Buffer, extra: Array<[string, string]> = []): EdgeRequest => ({
    path: ROUTE,
    headers: [['Content-Type', 'application/json'], ...extra],
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
  });

  /** A JSON object of about `bytes` bytes that names a repository. */
  const jsonOfSize = (bytes: number): Buffer => {
    const head = '{"repository":{"full_name":"octo-org/big"},"pad":"';
    return Buffer.from(`${head}${'x'.repeat(bytes - head.length - 2)}"}`, 'utf8');
  };

  it('when the body is empty, it queues an empty body', async () => {
    const { answer, queued } = await send(json(Buffer.alloc(0)));
    expect(answer.status).toBe(202);
    expect(queued!.body).toEqual(Buffer.alloc(0));
    expect(queued!.route).toBe(ROUTE);
  });

  it('when a plain-text body is sent as application/json, it queues the bytes as they are', async () => {
    const text = 'this is not JSON, but Jenkins decides that';
    const { answer, queued } = await send(json(text));
    expect(answer.status).toBe(202);
    expect(queued!.body.toString('utf8')).toBe(text);
  });

  it('when a body starts like a JSON object but does not parse, it answers 5xx and queues nothing', async () => {
    const { answer, json: reply } = await send(json('{broken'));
    expect(answer.status).toBeGreaterThanOrEqual(500);
    expect(answer.status).toBeLessThan(600);
    expect(reply.message).toMatch(/could not queue this delivery.*Nothing was queued/);
  });

  it('when the body is larger than an SQS message can hold, it answers 413 saying so and queues nothing', async () => {
    // Stored base64 (4/3), so 800 KiB of body exceeds SQS's 1 MiB once enveloped.
    const body = jsonOfSize(800 * 1024);
    expect(Math.ceil(body.length / 3) * 4).toBeGreaterThan(SQS_MAX_MESSAGE_BYTES);
    const { answer, json: reply } = await send(json(body));
    expect(answer.status).toBe(413);
    expect(reply.message).toMatch(/Payload too large: Spigot's buffer stores at most \d+ bytes per message.*NOT queued/);
  });

  it('when the envelope would fit in 1 MiB but leaves no room for dead-letter attributes, it answers 413 and queues nothing', async () => {
    // Sized like the edge's own envelope for this request (a 36-character request id, one header).
    const sizeOf = (body: Buffer) =>
      Buffer.byteLength(encodeEnvelope({
        version: 1, requestId: randomUUID(), receivedAt: Date.now(), sourceIp: '192.30.252.1', route: ROUTE,
        query: [], headers: [['Content-Type', 'application/json']], body,
      }));
    const body = jsonOfSize(Math.floor((BUFFER_MAX_MESSAGE_BYTES + DEAD_LETTER_ATTRIBUTES_MAX_BYTES / 2) / 4) * 3);
    expect(sizeOf(body)).toBeGreaterThan(BUFFER_MAX_MESSAGE_BYTES);
    expect(sizeOf(body)).toBeLessThanOrEqual(SQS_MAX_MESSAGE_BYTES);
    const { answer, json: reply } = await send(json(body));
    expect(answer.status).toBe(413);
    expect(reply.message).toMatch(/Payload too large/);
  });

  it('when a large body still fits in an SQS message, it queues it byte for byte', async () => {
    const body = jsonOfSize(700 * 1024);
    const { answer, queued } = await send(json(body));
    expect(answer.status).toBe(202);
    expect(queued!.body.equals(body)).toBe(true);
  });

  it('when the body is larger than API Gateway accepts (10 MB), it answers 413 from API Gateway and queues nothing', async () => {
    const { answer, json: reply } = await send(json(jsonOfSize(API_GATEWAY_MAX_BODY + 1)));
    expect(answer.status).toBe(413);
    expect(reply.message).toMatch(/Payload too large for API Gateway \(10 MB\)\. Nothing was queued/);
  });

  it('when the Content-Type header is missing, it treats the body as JSON and queues it', async () => {
    const delivery = githubDelivery({ event: 'push', repo: 'octo-org/no-content-type', contentType: 'json' });
    const headers = delivery.headers.filter(([name]) => name.toLowerCase() !== 'content-type');
    const { answer, queued } = await send({ path: ROUTE, headers, body: delivery.body });
    expect(answer.status).toBe(202);
    expect(queued!.body.equals(delivery.body)).toBe(true);
    expect(queued!.headers.some(([name]) => name.toLowerCase() === 'content-type')).toBe(false);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['multipart/form-data', 'multipart/form-data; boundary=----spigot'],
    ['application/xml', 'application/xml'],
  ])('when the Content-Type is %s, it answers 415 and queues nothing', async (_label, contentType) => {
    const { answer, json: reply } = await send({ path: ROUTE, headers: [['Content-Type', contentType]], body: Buffer.from('{"a":1}') });
    expect(answer.status).toBe(415);
    expect(reply.message).toMatch(/Unsupported Content-Type: send application\/json or application\/x-www-form-urlencoded\. Nothing was queued/);
  });

  it('when the Content-Type is application/json; charset=utf-8, it accepts and queues the delivery', async () => {
    const delivery = githubDelivery({ event: 'push', repo: 'octo-org/charset', contentType: 'json' });
    const headers = delivery.headers.map(([name, value]): [string, string] =>
      name.toLowerCase() === 'content-type' ? [name, 'application/json; charset=utf-8'] : [name, value],
    );
    const { answer, queued } = await send({ path: ROUTE, headers, body: delivery.body });
    expect(answer.status).toBe(202);
    expect(queued!.body.equals(delivery.body)).toBe(true);
  });

  it.each([
    ['/', 'the root'],
    ['/github-webhook/extra', 'a path below a route'],
    ['/jenkins/github-webhook/', 'a path that ends like a route'],
    ['/GITHUB-WEBHOOK/', 'a route in another case'],
  ])('when the path is %s (%s), outside the allowlist, it answers 404 listing the routes and queues nothing', async (path) => {
    const delivery = githubDelivery({ event: 'push', contentType: 'json' });
    const { answer, json: reply } = await send({ path, headers: delivery.headers, body: delivery.body });
    expect(answer.status).toBe(404);
    expect(reply.message).toBe(`No such webhook route. Spigot accepts POST on: ${ROUTE}, ${OTHER_ROUTE}. Nothing was queued.`);
  });

  // HEAD is refused too (ANY covers it), but a HEAD answer has no body to check.
  it.each(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])(
    'when the method is %s on a webhook route, it answers 405 with Allow: POST and queues nothing',
    async (method) => {
      const delivery = githubDelivery({ event: 'push', contentType: 'json' });
      const { answer, json: reply } = await send({ method, path: ROUTE, headers: delivery.headers, body: delivery.body });
      expect(answer.status).toBe(405);
      expect(reply.message).toBe('Only POST is accepted on this webhook route.');
    },
  );

  it('when a method other than POST is refused, the 405 it answers carries Allow: POST on every route', () => {
    // The edge emulator returns no headers, so the header mapping is read from the synthesized stack.
    for (const route of [ROUTE, OTHER_ROUTE]) {
      const refusals = forRoute(parsed, 'aws_api_gateway_integration_response', route).filter(([, r]) => httpMethodOf(parsed, r) === 'ANY');
      expect(refusals).toHaveLength(1);
      expect(refusals[0][1]).toMatchObject({ status_code: '405', response_parameters: { 'method.response.header.Allow': "'POST'" } });
    }
  });

  it('when header values contain quotes and backslashes, it queues them and they decode exactly', async () => {
    const delivery = githubDelivery({ event: 'push', repo: 'octo-org/quoting', contentType: 'json' });
    const hostile: Array<[string, string]> = [
      ['X-Quote', 'say "hello" to \'everyone\''],
      ['X-Backslash', 'C:\\path\\to\\file \\" \\\\ \\n \\u0000'],
      ['X-Json-Breaker', '"],"b":"AAAA"}'],
      ['X-Template', '$context.requestId #set($x = 1) ${input.body}'],
      ['X-Form-Breaker', 'a=1&MessageGroupId=evil&b=%41+'],
    ];
    const { answer, queued } = await send({ path: ROUTE, headers: [...delivery.headers, ...hostile], body: delivery.body });
    expect(answer.status).toBe(202);
    for (const [name, value] of hostile) expect(queued!.headers).toContainEqual([name, value]);
    expect(queued!.body.equals(delivery.body)).toBe(true);
    // Nothing in a header reaches the SendMessage form: the FIFO group is still the repository's.
    expect(queued!.groupId).toBe('repo:octo-org/quoting');
  });

  it('when hostile requests arrive all at once, it queues exactly one message per 202 and none for anything else', async () => {
    const delivery = githubDelivery({ event: 'push', repo: 'octo-org/burst', contentType: 'json' });
    const requests: EdgeRequest[] = [
      json(Buffer.alloc(0)),
      json('plain text'),
      json('{broken'),
      json(jsonOfSize(800 * 1024)),
      { path: ROUTE, headers: [], body: delivery.body },
      { path: ROUTE, headers: [['Content-Type', 'text/plain']], body: delivery.body },
      { path: ROUTE, headers: [['Content-Type', 'application/json; charset=utf-8']], body: delivery.body },
      { path: '/nope', headers: delivery.headers, body: delivery.body },
      { method: 'GET', path: OTHER_ROUTE, headers: delivery.headers, body: delivery.body },
      { path: OTHER_ROUTE, headers: [['Content-Type', 'application/json'], ['X-Odd', '\\"\'']], body: delivery.body },
    ];
    const answers = await Promise.all(requests.map((r) => edge.accept(r)));
    const accepted = answers.filter((a) => a.status === 202);
    for (const a of answers) expect((JSON.parse(a.body) as { queued: boolean }).queued).toBe(a.status === 202);
    expect(answers.every((a) => a.status === 202 || a.status >= 400)).toBe(true);
    expect(accepted).toHaveLength(5);
    const queued = await drainBuffer();
    expect(queued.map((q) => q.requestId).sort()).toEqual(accepted.map((a) => a.requestId).sort());
  });
});
