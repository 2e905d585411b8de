/**
 * The SendMessage request templates, rendered the way API Gateway renders them, for real
 * signed deliveries: the queued envelope must carry the exact request, and the FIFO ids
 * must be what the stack promises.
 */
import { createHash } from 'node:crypto';
import { BUFFER_MAX_MESSAGE_BYTES } from '../functions/shared/dead-letter-attributes';
import { decodeEnvelope, headerValue, type WebhookEnvelope } from '../functions/shared/envelope';
import { SQS_ID_MAX_LENGTH } from '../stacks/ingest/send-message-template';
import { DEFAULT_CONFIG } from '../stacks/config';
import { requestTemplatesFromSynth, synthStack } from './support/synth';
import { QUEUED_TEMPLATE, SQS_REJECTED_TEMPLATE } from '../stacks/ingest/responses';
import {
  TemplateTransformationError,
  renderResponseTemplate,
  renderTemplate,
  selectRequestTemplate,
  type EmulatedRequest,
} from './support/api-gateway';
import {
  WEBHOOK_SECRET,
  examplePayload,
  githubDelivery,
  gitlabDelivery,
  header,
  octokitVerify,
  signatureOf,
  type Delivery,
} from './support/webhooks';

/**
 * Where the templates come from: the one function to swap when the tests read the
 * synthesized stack instead of calling the generator.
 */
/** The templates exactly as deployed: read from the synthesized Terraform JSON. */
const templatesFor = (route: string): Record<string, string> => requestTemplatesFromSynth(synthStack({ routes: [...DEFAULT_CONFIG.routes, ...EXTRA_ROUTES] }).parsed, route);

const ROUTE = '/github-webhook/';
/** Routes beyond the defaults that the multi-route test uses. */
const EXTRA_ROUTES = ['/bitbucket-hook/', '/project/my-job', '/project/platform-jenkins'];
/** SQS ids: 1-128 characters, alphanumeric and punctuation only. */
const SQS_ID = /^[\x21-\x7e]{1,128}$/;

let sequence = 0;

function gatewayRequest(delivery: Pick<Delivery, 'headers' | 'body'>, overrides: Partial<EmulatedRequest> = {}): EmulatedRequest {
  sequence += 1;
  return {
    method: 'POST',
    path: ROUTE,
    stage: 'live',
    headers: delivery.headers,
    query: [],
    body: delivery.body,
    sourceIp: '192.30.252.44',
    requestId: `0f6c1a2b-3c4d-4e5f-8a9b-${String(sequence).padStart(12, '0')}`,
    requestTimeEpoch: 1718000000000 + sequence,
    ...overrides,
  };
}

interface SendMessage {
  readonly fields: string[];
  readonly action: string | null;
  readonly messageBody: string;
  readonly groupId: string;
  readonly dedupId: string;
  readonly envelope: WebhookEnvelope;
}

/** What API Gateway would send to SQS for this request: the rendered form, parsed. */
function sendMessageFor(request: EmulatedRequest, route = ROUTE): SendMessage {
  const selected = selectRequestTemplate(templatesFor(route), header(request.headers, 'content-type'));
  if ('status' in selected) throw new Error(`API Gateway would answer ${selected.status}`);
  const form = renderTemplate(selected.template, request);
  expect(form).toMatch(/^[\x21-\x7e]*$/); // a form body is printable ASCII, nothing left unencoded
  const params = new URLSearchParams(form);
  const messageBody = params.get('MessageBody');
  const groupId = params.get('MessageGroupId');
  const dedupId = params.get('MessageDeduplicationId');
  if (messageBody === null || groupId === null || dedupId === null) throw new Error(`incomplete SendMessage form: ${form.slice(0, 200)}`);
  return {
    fields: [...params.keys()],
    action: params.get('Action'),
    messageBody,
    groupId,
    dedupId,
    envelope: decodeEnvelope(messageBody),
  };
}

/** The envelope carries the request exactly, and the message is one SQS accepts. */
function expectFaithful(message: SendMessage, request: EmulatedRequest, route = ROUTE): void {
  expect(message.fields).toEqual(['Action', 'MessageBody', 'MessageGroupId', 'MessageDeduplicationId']);
  expect(message.action).toBe('SendMessage');
  const { envelope } = message;
  expect(envelope.body.equals(request.body)).toBe(true);
  expect(sorted(envelope.headers)).toEqual(sorted(request.headers));
  expect(sorted(envelope.query)).toEqual(sorted(request.query));
  expect(envelope.route).toBe(route);
  expect(envelope.requestId).toBe(request.requestId);
  expect(envelope.receivedAt).toBe(request.requestTimeEpoch);
  expect(envelope.sourceIp).toBe(request.sourceIp);
  expect(message.groupId).toMatch(SQS_ID);
  expect(message.dedupId).toMatch(SQS_ID);
  expect(Buffer.byteLength(message.messageBody, 'utf8')).toBeLessThanOrEqual(BUFFER_MAX_MESSAGE_BYTES);
}

const sorted = (pairs: ReadonlyArray<readonly [string, string]>) => [...pairs].map(([k, v]) => `${k}\u0000${v}`).sort();

/** What the template promises for a repository name. */
const expectedGroup = (fullName: string) =>
  `repo:${fullName.toLowerCase().replace(/[^a-z0-9._/-]/gu, '_')}`.slice(0, SQS_ID_MAX_LENGTH);

function expectSignatureVerifies(envelope: WebhookEnvelope): void {
  const signature = headerValue(envelope, 'X-Hub-Signature-256');
  expect(signature).toBe(signatureOf(envelope.body, WEBHOOK_SECRET));
}

describe('SendMessage request template', () => {
  describe.each(['json', 'form'] as const)('for GitHub deliveries sent as %s', (contentType) => {
    it.each(['push', 'pull_request', 'issues', 'ping'])(
      'when a signed %s delivery arrives, it queues the exact body, headers and route under the repo group and a per-request dedup id',
      (event) => {
        const delivery = githubDelivery({ event, repo: 'Acme-Corp/Widget.Service_2', contentType });
        const request = gatewayRequest(delivery);
        const message = sendMessageFor(request);

        expectFaithful(message, request);
        expectSignatureVerifies(message.envelope);
        expect(message.groupId).toBe('repo:acme-corp/widget.service_2');
        expect(message.dedupId).toBe(`req:${request.requestId}`);
        expect(headerValue(message.envelope, 'X-GitHub-Delivery')).toBe(delivery.deliveryId);
        const [octokit] = octokitVerify([
          { payload: message.envelope.body.toString('utf8'), signature: headerValue(message.envelope, 'X-Hub-Signature-256')! },
        ]);
        expect(octokit!.verified).toBe(true);
      },
    );

    it('when the body has emoji, CJK and escapes, it queues the identical bytes and the signature still verifies', () => {
      const payload = examplePayload('issues');
      (payload.issue as Record<string, unknown>).title = 'Déjà vu 😀 漢字テスト "quoted" \\ back\\slash \'single\' </script> \u2028 \u0000';
      const delivery = githubDelivery({ event: 'issues', payload, repo: 'Acme/Widgets', contentType });
      const request = gatewayRequest(delivery);
      const message = sendMessageFor(request);

      expectFaithful(message, request);
      expectSignatureVerifies(message.envelope);
      const sent = message.envelope.body.toString('utf8');
      const document = contentType === 'json' ? sent : new URLSearchParams(sent).get('payload')!;
      expect((JSON.parse(document) as { issue: { title: string } }).issue.title).toContain('😀 漢字テスト');
      expect(message.groupId).toBe('repo:acme/widgets');
      expect(octokitVerify([{ payload: message.envelope.body.toString('utf8'), signature: header(delivery.headers, 'x-hub-signature-256')! }])[0]!.verified).toBe(true);
    });

    it('when the repository name has characters SQS forbids in group ids, it replaces them and keeps the group valid', () => {
      const name = 'Acme Ünïcode/Wïdgets Ω 😀 "x" #1 $context.requestId #set($a = 1)';
      const delivery = githubDelivery({ event: 'push', repo: name, contentType });
      const message = sendMessageFor(gatewayRequest(delivery));

      expect(message.groupId).toMatch(SQS_ID);
      expect(message.groupId).toBe(expectedGroup(name));
      expect(message.groupId.startsWith('repo:acme__n_code/w_dgets')).toBe(true);
    });

    it('when the repository name is very long, it truncates the group id to 128 characters', () => {
      const name = `acme/${'x'.repeat(300)}`;
      const message = sendMessageFor(gatewayRequest(githubDelivery({ event: 'push', repo: name, contentType })));

      expect(message.groupId).toHaveLength(SQS_ID_MAX_LENGTH);
      expect(message.groupId).toBe(expectedGroup(name));
    });

    it('when the event is organisation-level with no repository, it uses the route group', () => {
      for (const delivery of [
        githubDelivery({ event: 'organization', contentType }),
        githubDelivery({ event: 'ping', exampleIndex: 3, contentType }), // an organisation hook's ping
      ]) {
        expect(delivery.payload.repository).toBeUndefined();
        const request = gatewayRequest(delivery);
        const message = sendMessageFor(request);

        expectFaithful(message, request);
        expect(message.groupId).toBe(`route:${ROUTE}`);
        expect(message.dedupId).toBe(`req:${request.requestId}`);
      }
    });

    it('when the delivery id is odd, long or empty, it keeps it as sent and deduplicates on the API Gateway request id', () => {
      for (const deliveryId of ['not a uuid', 'a/b', 'x'.repeat(200), 'üñí', '']) {
        const delivery = githubDelivery({ event: 'push', repo: 'acme/widgets', contentType, deliveryId });
        const request = gatewayRequest(delivery);
        const message = sendMessageFor(request);

        expectFaithful(message, request);
        expect(message.dedupId).toBe(`req:${request.requestId}`);
      }
    });

    it('when header names arrive lower-cased (HTTP/2), it keeps them as sent and still deduplicates per request', () => {
      const delivery = githubDelivery({ event: 'push', repo: 'acme/widgets', contentType });
      const request = gatewayRequest({ ...delivery, headers: delivery.headers.map(([k, v]) => [k.toLowerCase(), v] as [string, string]) });
      const message = sendMessageFor(request);

      expectFaithful(message, request);
      expect(message.dedupId).toBe(`req:${request.requestId}`);
      expect(headerValue(message.envelope, 'X-GitHub-Delivery')).toBe(delivery.deliveryId);
    });
  });

  it('when header values are hostile (quotes, backslashes, single quotes, VTL, form syntax), it preserves them and injects nothing', () => {
    const hostile = [
      `"quoted" and \\"escaped\\"`,
      `back\\slash\\\\ and trailing \\`,
      `it's 'single' \\'`,
      `$context.requestId #set($group = 'evil') $!{input.body} #if(true)x#end ## comment`,
      `&MessageGroupId=evil&Action=DeleteQueue`,
      `%41%ZZ+plus %`,
      `</script><!-- {"v":2} -->`,
      `tab\there`,
      ' ',
      '',
    ];
    const delivery = githubDelivery({ event: 'push', repo: 'acme/widgets', contentType: 'json' });
    const headers: Array<[string, string]> = [...delivery.headers, ...hostile.map((value, i) => [`X-Hostile-${i}`, value] as [string, string])];
    const request = gatewayRequest({ headers, body: delivery.body });
    const message = sendMessageFor(request);

    expectFaithful(message, request);
    for (const [i, value] of hostile.entries()) expect(headerValue(message.envelope, `X-Hostile-${i}`)).toBe(value);
    expect(message.groupId).toBe('repo:acme/widgets');
    expectSignatureVerifies(message.envelope);
  });

  it("when $util.escapeJavaScript is used instead of base64, a header with ' produces invalid JSON (the template avoids this)", () => {
    const naive = `{"h":"$util.escapeJavaScript($input.params().header.get('X-Title'))"}`;
    const request = gatewayRequest({ headers: [['X-Title', "it's broken"]], body: Buffer.from('{}') });

    const rendered = renderTemplate(naive, request);
    expect(rendered).toContain("\\'");
    expect(() => JSON.parse(rendered)).toThrow(SyntaxError);
    expect(headerValue(sendMessageFor(request).envelope, 'X-Title')).toBe("it's broken");
  });

  it('when the query string has +, spaces, & and = in values, it preserves the decoded names and values', () => {
    const delivery = githubDelivery({ event: 'push', repo: 'acme/widgets', contentType: 'json' });
    const query: Array<[string, string]> = [
      ['token', 'a+b'],
      ['job name', 'build & deploy'],
      ['expr', 'x=1&y=2'],
      ['unicode', 'ü 😀'],
      ['empty', ''],
    ];
    const request = gatewayRequest(delivery, { query });
    const message = sendMessageFor(request);

    expectFaithful(message, request);
    expect(message.envelope.query).toEqual(query);
  });

  it('when the body is empty, it queues an empty body under the route group', () => {
    const request = gatewayRequest({ headers: [['Content-Type', 'application/json'], ['X-GitHub-Delivery', '5f2a8c1e-0000-4000-8000-000000000001']], body: Buffer.alloc(0) });
    const message = sendMessageFor(request);

    expectFaithful(message, request);
    expect(message.envelope.body).toHaveLength(0);
    expect(message.groupId).toBe(`route:${ROUTE}`);
    expect(message.dedupId).toBe(`req:${request.requestId}`);
  });

  it('when there is no Content-Type, it renders the JSON template; when it is unsupported, API Gateway answers 415', () => {
    const delivery = githubDelivery({ event: 'push', repo: 'acme/widgets', contentType: 'json' });
    const withoutType = delivery.headers.filter(([k]) => k.toLowerCase() !== 'content-type');
    const message = sendMessageFor(gatewayRequest({ headers: withoutType, body: delivery.body }));
    expect(message.groupId).toBe('repo:acme/widgets');

    const charset = delivery.headers.map(([k, v]) => [k, k === 'Content-Type' ? 'Application/JSON; charset=utf-8' : v] as [string, string]);
    expect(sendMessageFor(gatewayRequest({ headers: charset, body: delivery.body })).groupId).toBe('repo:acme/widgets');

    expect(selectRequestTemplate(templatesFor(ROUTE), 'text/plain')).toEqual({ status: 415 });
    expect(selectRequestTemplate(templatesFor(ROUTE), 'multipart/form-data; boundary=x')).toEqual({ status: 415 });
  });

  it('when the body is near 760 KiB, it queues it intact within the SQS message size limit', () => {
    const payload = examplePayload('push');
    const base = Buffer.byteLength(JSON.stringify(payload));
    const unit = 'é😀abc';
    (payload as Record<string, unknown>).padding = unit.repeat(Math.floor((760 * 1024 - base - 64) / Buffer.byteLength(unit)));
    const delivery = githubDelivery({ event: 'push', payload, repo: 'acme/widgets', contentType: 'json' });
    expect(delivery.body.length).toBeGreaterThan(750 * 1024);
    expect(delivery.body.length).toBeLessThanOrEqual(760 * 1024);
    const request = gatewayRequest(delivery);
    const message = sendMessageFor(request);

    expectFaithful(message, request);
    expectSignatureVerifies(message.envelope);
    expect(createHash('sha256').update(message.envelope.body).digest('hex')).toBe(createHash('sha256').update(delivery.body).digest('hex'));
  });

  it('when a JSON-typed body is plain text, it queues it under the route group; when it starts like JSON but is broken, API Gateway fails the request', () => {
    for (const text of ['hello world', '  [1, 2, 3]', '"just a string"', 'ping\n']) {
      const request = gatewayRequest({ headers: [['Content-Type', 'application/json']], body: Buffer.from(text) });
      const message = sendMessageFor(request);
      expectFaithful(message, request);
      expect(message.groupId).toBe(`route:${ROUTE}`);
      expect(message.dedupId).toBe(`req:${request.requestId}`);
    }
    const broken = gatewayRequest({ headers: [['Content-Type', 'application/json']], body: Buffer.from('{broken') });
    expect(() => sendMessageFor(broken)).toThrow(TemplateTransformationError);
  });

  it('when GitLab delivers, it groups by project.path_with_namespace and keeps X-Gitlab-Event-UUID, deduplicating per request', () => {
    const delivery = gitlabDelivery({ project: 'Platform/CI/Jenkins-Shared' });
    const request = gatewayRequest(delivery, { path: '/project/platform-jenkins' });
    const message = sendMessageFor(request, '/project/platform-jenkins');

    expectFaithful(message, request, '/project/platform-jenkins');
    expect(message.groupId).toBe('repo:platform/ci/jenkins-shared');
    expect(message.dedupId).toBe(`req:${request.requestId}`);
    expect(headerValue(message.envelope, 'X-Gitlab-Event-UUID')).toBe(delivery.deliveryId);
    expect(headerValue(message.envelope, 'X-Gitlab-Token')).toBe('gitlab-secret-token');
  });

  it.each(['X-Gitea-Delivery', 'X-Request-UUID'])('when the delivery id comes in %s, it keeps it in the envelope and deduplicates per request', (name) => {
    const id = '0d3b7e2a-1f4c-4a5b-9c6d-7e8f9a0b1c2d';
    const request = gatewayRequest({
      headers: [['Content-Type', 'application/json'], [name, id]],
      body: Buffer.from(JSON.stringify({ repository: { full_name: 'Team/Repo' } })),
    });
    const message = sendMessageFor(request);

    expectFaithful(message, request);
    expect(message.dedupId).toBe(`req:${request.requestId}`);
    expect(headerValue(message.envelope, name)).toBe(id);
    expect(message.groupId).toBe('repo:team/repo');
  });

  it('when the same delivery is sent twice (a redelivery), the two requests get different dedup ids and carry the same delivery id', () => {
    const delivery = githubDelivery({ event: 'push', repo: 'acme/widgets', contentType: 'json', deliveryId: '11111111-2222-4333-8444-555555555555' });
    const [first, again] = [sendMessageFor(gatewayRequest(delivery)), sendMessageFor(gatewayRequest(delivery))];
    expect(first.dedupId).not.toBe(again.dedupId);
    for (const message of [first, again]) expect(headerValue(message.envelope, 'X-GitHub-Delivery')).toBe(delivery.deliveryId);
  });

  it('when rendered for different routes, it records each route and uses it for the fallback group', () => {
    for (const route of ['/github-webhook/', '/bitbucket-hook/', '/project/my-job']) {
      const request = gatewayRequest({ headers: [['Content-Type', 'application/json']], body: Buffer.from('{}') }, { path: route });
      const message = sendMessageFor(request, route);
      expectFaithful(message, request, route);
      expect(message.groupId).toBe(`route:${route}`);
    }
  });

  it('when the fixture signs a body, @octokit/webhooks-methods computes the same signature', () => {
    const deliveries = [
      githubDelivery({ event: 'push', repo: 'acme/widgets', contentType: 'json' }),
      githubDelivery({ event: 'push', repo: 'acme/widgets', contentType: 'form' }),
    ];
    const results = octokitVerify(deliveries.map((d) => ({ payload: d.body.toString('utf8'), signature: header(d.headers, 'X-Hub-Signature-256')! })));
    results.forEach((result, i) => {
      expect(result.verified).toBe(true);
      expect(result.signature).toBe(header(deliveries[i]!.headers, 'X-Hub-Signature-256'));
    });
    expect(octokitVerify([{ payload: deliveries[0]!.body.toString('utf8') + ' ', signature: header(deliveries[0]!.headers, 'X-Hub-Signature-256')! }])[0]!.verified).toBe(false);
  });

  describe('integration response templates', () => {
    const sqsError = (message: string) =>
      `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>InvalidParameterValue</Code><Message>${message}</Message><Detail/></Error><RequestId>42d59b56-7407-4c4a-be0f-4c88daeea257</RequestId></ErrorResponse>`;

    it('when SQS rejects an oversized message, the 4xx template overrides the status to 413 and answers JSON', () => {
      const out = renderResponseTemplate(SQS_REJECTED_TEMPLATE, sqsError(`One or more parameters are invalid. Reason: Message must be shorter than ${BUFFER_MAX_MESSAGE_BYTES} bytes.`), { requestId: 'req-1' });
      expect(out.statusOverride).toBe(413);
      expect(JSON.parse(out.body)).toMatchObject({ queued: false, requestId: 'req-1' });
    });

    it('when SQS rejects for another reason, the 4xx template keeps the status and answers JSON', () => {
      const out = renderResponseTemplate(SQS_REJECTED_TEMPLATE, sqsError('Access to the resource is denied.'), { requestId: 'req-2' });
      expect(out.statusOverride).toBeUndefined();
      expect(JSON.parse(out.body)).toMatchObject({ queued: false, requestId: 'req-2' });
    });

    it('when SQS accepts, the success template answers queued JSON with the request id', () => {
      expect(JSON.parse(renderResponseTemplate(QUEUED_TEMPLATE, '<SendMessageResponse/>', { requestId: 'req-3' }).body)).toEqual({ queued: true, requestId: 'req-3' });
    });
  });
});
