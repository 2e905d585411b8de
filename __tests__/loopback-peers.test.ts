import { request as httpRequest, Agent } from 'node:http';
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
  InternalServerError,
} from '@aws-sdk/client-ssm';
import { startLoopbackJenkins, signWebhookBody, type LoopbackJenkins } from './support/loopback-jenkins';
import { startLoopbackSsm, type LoopbackSsm } from './support/loopback-ssm';
import { TEST_CREDENTIALS, TEST_REGION } from './support/fauxqs';

interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function send(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | string; agent?: Agent; timeoutMs?: number } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    }
    req.end(options.body);
  });
}

const SECRET = 'loopback-secret';

function pushPayload(repo: string): Buffer {
  return Buffer.from(JSON.stringify({ ref: 'refs/heads/main', repository: { full_name: repo }, note: 'héllo ✓' }), 'utf8');
}

function webhook(base: string, body: Buffer, deliveryId: string, extra: Record<string, string> = {}): Promise<HttpResult> {
  return send(`${base}/github-webhook/`, {
    method: 'POST',
    body,
    headers: {
      'Content-Type': 'application/json',
      'X-GitHub-Event': 'push',
      'X-GitHub-Delivery': deliveryId,
      'X-Hub-Signature-256': signWebhookBody(SECRET, body),
      ...extra,
    },
  });
}

describe('loopback Jenkins', () => {
  let jenkins: LoopbackJenkins;
  beforeEach(async () => {
    jenkins = await startLoopbackJenkins({ secret: SECRET, contextPath: '/jenkins', user: 'spigot', apiToken: 'tok' });
  });
  afterEach(async () => {
    await jenkins.stop();
  });

  it('when a webhook is correctly signed, it answers 200 and records the exact bytes, repo and delivery id', async () => {
    const body = pushPayload('acme/widgets');
    const result = await webhook(jenkins.url, body, 'd-1');
    expect(result.status).toBe(200);
    expect(jenkins.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/jenkins$/);
    expect(jenkins.deliveries).toHaveLength(1);
    const [delivery] = jenkins.deliveries;
    expect(delivery!.body.equals(body)).toBe(true);
    expect(delivery).toMatchObject({
      path: '/github-webhook/',
      fullPath: '/jenkins/github-webhook/',
      signatureValid: true,
      repo: 'acme/widgets',
      deliveryId: 'd-1',
      event: 'push',
      status: 200,
    });
    expect(delivery!.rawHeaders).toContainEqual(['X-GitHub-Delivery', 'd-1']);
    expect(jenkins.accepted()).toHaveLength(1);
  });

  it('when the body is tampered with after signing, it answers 400 and records the delivery as invalid', async () => {
    const body = pushPayload('acme/widgets');
    const signature = signWebhookBody(SECRET, body);
    const tampered = Buffer.from(body);
    tampered[tampered.length - 3] ^= 0x01;
    const result = await webhook(jenkins.url, tampered, 'd-2', { 'X-Hub-Signature-256': signature });
    expect(result.status).toBe(400);
    expect(jenkins.deliveries[0]).toMatchObject({ signatureValid: false, status: 400 });
    expect(jenkins.accepted()).toHaveLength(0);
  });

  it('when the signature header is missing, it answers 400', async () => {
    const body = pushPayload('acme/widgets');
    const result = await send(`${jenkins.url}/github-webhook/`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
    expect(result.status).toBe(400);
    expect(jenkins.deliveries[0]!.signatureValid).toBe(false);
  });

  it('when the payload is form-encoded, it reads the repo from the payload field and checks the signature over the raw form', async () => {
    const body = Buffer.from(`payload=${encodeURIComponent(JSON.stringify({ repository: { full_name: 'acme/forms' } }))}`);
    const result = await webhook(jenkins.url, body, 'd-3', { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(result.status).toBe(200);
    expect(jenkins.deliveries[0]).toMatchObject({ repo: 'acme/forms', signatureValid: true });
  });

  it('when a webhook path gets a GET or a request falls outside the context path, it answers 405 or 404 and records no delivery', async () => {
    expect((await send(`${jenkins.url}/github-webhook/`)).status).toBe(405);
    const outside = await webhook(jenkins.url.replace(/\/jenkins$/, ''), pushPayload('acme/x'), 'd-4');
    expect(outside.status).toBe(404);
    expect(jenkins.deliveries).toHaveLength(0);
    expect(jenkins.requests.map((r) => r.status)).toEqual([405, 404]);
  });

  it('when probed, whoAmI is open and /api/json requires basic auth and reports quietingDown', async () => {
    const who = await send(`${jenkins.url}/whoAmI/api/json`);
    expect(who.status).toBe(200);
    expect(JSON.parse(who.body)).toMatchObject({ anonymous: true, name: 'anonymous' });

    const api = `${jenkins.url}/api/json?tree=quietingDown`;
    expect((await send(api)).status).toBe(403);
    const wrong = await send(api, { headers: { Authorization: `Basic ${Buffer.from('spigot:nope').toString('base64')}` } });
    expect(wrong.status).toBe(401);
    const auth = { Authorization: `Basic ${Buffer.from('spigot:tok').toString('base64')}` };
    const ok = await send(api, { headers: auth });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ _class: 'hudson.model.Hudson', quietingDown: false });

    await jenkins.setBehaviour('quiet-down');
    expect(JSON.parse((await send(api, { headers: auth })).body)).toEqual({ _class: 'hudson.model.Hudson', quietingDown: true });
    expect((await send(`${jenkins.url}/whoAmI/api/json`)).status).toBe(200);
    expect((await webhook(jenkins.url, pushPayload('acme/q'), 'd-5')).status).toBe(200);
    expect(jenkins.probeCount).toBe(6);
  });

  it('when starting, it answers 503 to probes and webhooks alike', async () => {
    await jenkins.setBehaviour('starting');
    expect((await send(`${jenkins.url}/whoAmI/api/json`)).status).toBe(503);
    expect((await webhook(jenkins.url, pushPayload('acme/s'), 'd-6')).status).toBe(503);
    expect(jenkins.deliveries[0]!.status).toBe(503);
    await jenkins.setBehaviour('healthy');
    expect((await webhook(jenkins.url, pushPayload('acme/s'), 'd-6')).status).toBe(200);
  });

  it('when down, it refuses connections, then comes back on the same port', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const urlBefore = jenkins.url;
      expect((await send(`${jenkins.url}/whoAmI/api/json`, { agent })).status).toBe(200);
      await jenkins.setBehaviour('down');
      await expect(send(`${jenkins.url}/whoAmI/api/json`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(webhook(jenkins.url, pushPayload('acme/d'), 'd-7')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await jenkins.setBehaviour('healthy');
      expect(jenkins.url).toBe(urlBefore);
      expect((await send(`${jenkins.url}/whoAmI/api/json`, { agent })).status).toBe(200);
      expect((await webhook(jenkins.url, pushPayload('acme/d'), 'd-7')).status).toBe(200);
      expect(jenkins.deliveries.map((d) => d.deliveryId)).toEqual(['d-7']);
    } finally {
      agent.destroy();
    }
  });

  it('when slow, it holds the answer past a client timeout and counts the request in flight meanwhile', async () => {
    await jenkins.setBehaviour({ kind: 'slow', delayMs: 400 });
    const started = Date.now();
    await expect(
      send(`${jenkins.url}/github-webhook/`, {
        method: 'POST',
        body: pushPayload('acme/slow'),
        headers: { 'X-Hub-Signature-256': signWebhookBody(SECRET, pushPayload('acme/slow')) },
        timeoutMs: 100,
      }),
    ).rejects.toThrow('client timeout');
    expect(Date.now() - started).toBeLessThan(400);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(jenkins.inFlight).toBe(0); // the client went away; the slot is released
    expect(jenkins.deliveries[0]!.status).toBeUndefined();
    const answered = await webhook(jenkins.url, pushPayload('acme/slow'), 'd-8');
    expect(answered.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
  });

  it('when flaky with a seed, it fails the same share of POSTs in the same order each time, with Retry-After', async () => {
    const outcomes = async (): Promise<number[]> => {
      await jenkins.setBehaviour({ kind: 'flaky', failureRate: 0.5, seed: 42, retryAfterSeconds: 7 });
      const statuses: number[] = [];
      for (let n = 0; n < 20; n += 1) {
        const result = await webhook(jenkins.url, pushPayload('acme/f'), `f-${n}`);
        if (result.status === 503) expect(result.headers['retry-after']).toBe('7');
        statuses.push(result.status);
      }
      return statuses;
    };
    const first = await outcomes();
    const second = await outcomes();
    expect(second).toEqual(first);
    const failures = first.filter((s) => s === 503).length;
    expect(failures).toBeGreaterThan(3);
    expect(failures).toBeLessThan(17);
  });

  it('when rejecting a set of delivery ids, it answers 400 to those and 200 to the rest', async () => {
    await jenkins.setBehaviour({ kind: 'rejecting', deliveryIds: ['bad'] });
    expect((await webhook(jenkins.url, pushPayload('acme/r'), 'bad')).status).toBe(400);
    expect((await webhook(jenkins.url, pushPayload('acme/r'), 'good')).status).toBe(200);
    await jenkins.setBehaviour({ kind: 'rejecting' });
    expect((await webhook(jenkins.url, pushPayload('acme/r'), 'good')).status).toBe(400);
  });

  it('when given a service time, it tracks the highest number of concurrent POSTs', async () => {
    jenkins.setServiceTimeMs(60);
    const agent = new Agent({ keepAlive: true, maxSockets: 3 });
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, n) => {
          const body = pushPayload(`acme/c${n}`);
          return send(`${jenkins.url}/github-webhook/`, {
            method: 'POST',
            body,
            agent,
            headers: { 'X-Hub-Signature-256': signWebhookBody(SECRET, body), 'X-GitHub-Delivery': `c-${n}` },
          });
        }),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(jenkins.maxInFlight).toBe(3);
      expect(jenkins.inFlight).toBe(0);
      for (const d of jenkins.deliveries) expect(d.answeredAt! - d.receivedAt).toBeGreaterThanOrEqual(55);
    } finally {
      agent.destroy();
    }
  });
});

describe('loopback SSM', () => {
  let ssm: LoopbackSsm;
  let client: SSMClient;
  beforeEach(async () => {
    ssm = await startLoopbackSsm();
    client = new SSMClient({ endpoint: ssm.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
  });
  afterEach(async () => {
    client.destroy();
    await ssm.stop();
  });

  it('when a parameter does not exist, it makes the SDK throw ParameterNotFound', async () => {
    const error = await client.send(new GetParameterCommand({ Name: 'spigot' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ParameterNotFound);
    expect(error).toMatchObject({ name: 'ParameterNotFound', $metadata: { httpStatusCode: 400 } });
    expect(ssm.calls).toMatchObject([{ action: 'GetParameter', name: 'spigot', outcome: 'ParameterNotFound' }]);
  });

  it('when a parameter is put and overwritten, it increments Version and keeps history with dates and user', async () => {
    const before = Date.now();
    const v1 = await client.send(new PutParameterCommand({ Name: 'spigot', Value: 'closed', Type: 'String', Description: 'gate' }));
    expect(v1.Version).toBe(1);
    const again = await client.send(new PutParameterCommand({ Name: 'spigot', Value: 'open', Type: 'String' })).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ParameterAlreadyExists);
    const v2 = await client.send(new PutParameterCommand({ Name: 'spigot', Value: 'open', Type: 'String', Overwrite: true }));
    expect(v2.Version).toBe(2);

    const got = await client.send(new GetParameterCommand({ Name: 'spigot' }));
    expect(got.Parameter).toMatchObject({ Name: 'spigot', Type: 'String', Value: 'open', Version: 2, DataType: 'text' });
    expect(got.Parameter!.LastModifiedDate).toBeInstanceOf(Date);
    expect(got.Parameter!.LastModifiedDate!.getTime()).toBeGreaterThanOrEqual(before);
    expect(got.Parameter!.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/spigot');

    const old = await client.send(new GetParameterCommand({ Name: 'spigot:1' }));
    expect(old.Parameter).toMatchObject({ Value: 'closed', Version: 1, Selector: ':1' });

    const history = await client.send(new GetParameterHistoryCommand({ Name: 'spigot' }));
    expect(history.Parameters!.map((p) => [p.Version, p.Value, p.Description])).toEqual([
      [1, 'closed', 'gate'],
      [2, 'open', 'gate'],
    ]);
    expect(history.Parameters![0]!.LastModifiedDate).toBeInstanceOf(Date);
    expect(history.Parameters![0]!.LastModifiedUser).toBe('arn:aws:iam::123456789012:user/test');
    expect(ssm.parameter('spigot')).toMatchObject({ value: 'open', version: 2 });
  });

  it('when a SecureString is read, it hides the value without WithDecryption and never logs values', async () => {
    await client.send(new PutParameterCommand({ Name: '/spigot/token', Value: 's3cret-value', Type: 'SecureString' }));
    const hidden = await client.send(new GetParameterCommand({ Name: '/spigot/token' }));
    expect(hidden.Parameter!.Value).not.toContain('s3cret');
    const shown = await client.send(new GetParameterCommand({ Name: '/spigot/token', WithDecryption: true }));
    expect(shown.Parameter!.Value).toBe('s3cret-value');
    expect(shown.Parameter!.ARN).toBe('arn:aws:ssm:us-east-1:123456789012:parameter/spigot/token');
    expect(JSON.stringify(ssm.calls)).not.toContain('s3cret');
    expect(ssm.calls.map((c) => c.action)).toEqual(['PutParameter', 'GetParameter', 'GetParameter']);
  });

  it('when a parameter is deleted, it is gone and a second delete is ParameterNotFound', async () => {
    ssm.putDirect('spigot', 'open');
    await client.send(new DeleteParameterCommand({ Name: 'spigot' }));
    expect(ssm.parameter('spigot')).toBeUndefined();
    await expect(client.send(new DeleteParameterCommand({ Name: 'spigot' }))).rejects.toBeInstanceOf(ParameterNotFound);
  });

  it('when set unavailable, it answers 500 InternalServerError until cleared (and the SDK retries it by default)', async () => {
    ssm.putDirect('spigot', 'open');
    ssm.setFailure('unavailable');
    const error = await client.send(new GetParameterCommand({ Name: 'spigot' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 500 }, $fault: 'server' });

    const retrying = new SSMClient({ endpoint: ssm.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 3 });
    try {
      const before = ssm.calls.length;
      await expect(retrying.send(new GetParameterCommand({ Name: 'spigot' }))).rejects.toBeInstanceOf(InternalServerError);
      expect(ssm.calls.length - before).toBe(3);
    } finally {
      retrying.destroy();
    }

    ssm.setFailure(null);
    expect((await client.send(new GetParameterCommand({ Name: 'spigot' }))).Parameter!.Value).toBe('open');
  });

  it('when a garbage value is stored, it is returned verbatim', async () => {
    ssm.putDirect('spigot', '{"not":"a state"} \u0000 ☃');
    const got = await client.send(new GetParameterCommand({ Name: 'spigot' }));
    expect(got.Parameter!.Value).toBe('{"not":"a state"} \u0000 ☃');
  });

  it('when the client finds it through AWS_ENDPOINT_URL_SSM, it talks to the loopback', async () => {
    const saved = process.env.AWS_ENDPOINT_URL_SSM;
    process.env.AWS_ENDPOINT_URL_SSM = ssm.endpoint;
    const fromEnv = new SSMClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    try {
      ssm.putDirect('spigot', 'closed');
      const got = await fromEnv.send(new GetParameterCommand({ Name: 'spigot' }));
      expect(got.Parameter!.Value).toBe('closed');
    } finally {
      fromEnv.destroy();
      if (saved === undefined) delete process.env.AWS_ENDPOINT_URL_SSM;
      else process.env.AWS_ENDPOINT_URL_SSM = saved;
    }
  });
});
