import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhookSignature } from '../support/loopback-jenkins';
import { cliEnv, runCli } from './harness';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

const SECRET = 'smoke-secret-value-123';

describe('spigot smoke', () => {
  let server: Server;
  let base: string;
  const received: Received[] = [];
  let answer: { status: number; body: string; delayMs?: number } = { status: 202, body: '' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        setTimeout(() => {
          res.writeHead(answer.status, { 'Content-Type': 'application/json' });
          res.end(answer.body);
        }, answer.delayMs ?? 0).unref();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    received.length = 0;
    answer = { status: 202, body: '{"queued":true,"requestId":"req-abc-123"}' };
  });

  const env = () => cliEnv({ SPIGOT_WEBHOOK_SECRET: SECRET });

  it('when the API queues the delivery, it posts a signed ping with X-Spigot-Smoke and reports the requestId', async () => {
    const result = await runCli(['smoke', '--webhook-url', `${base}/prod/github-webhook/`, '--secret-env', 'SPIGOT_WEBHOOK_SECRET'], { env: env() });
    expect(result.code).toBe(0);
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/prod/github-webhook/');
    expect(req!.headers['x-github-event']).toBe('ping');
    expect(req!.headers['content-type']).toBe('application/json');
    const smokeId = req!.headers['x-spigot-smoke'] as string;
    expect(smokeId).toMatch(/^[0-9a-f-]{36}$/);
    expect(req!.headers['x-github-delivery']).toBe(smokeId);
    expect(verifyWebhookSignature(SECRET, req!.body, req!.headers['x-hub-signature-256'] as string)).toBe(true);
    expect(result.stdout).toContain('smoke delivery queued: 202');
    expect(result.stdout).toContain('requestId: req-abc-123');
    expect(result.stdout).toContain(smokeId);
    for (const out of [result.stdout, result.stderr]) expect(out).not.toContain(SECRET);
  });

  it('when the webhook URL comes from SPIGOT_WEBHOOK_URL and --json is asked, it prints the result as JSON', async () => {
    const result = await runCli(['smoke', '--secret-env', 'SPIGOT_WEBHOOK_SECRET', '--json'], {
      env: { ...env(), SPIGOT_WEBHOOK_URL: `${base}/prod/github-webhook/` },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      webhookUrl: `${base}/prod/github-webhook/`,
      smokeId: received[0]!.headers['x-spigot-smoke'],
      status: 202,
      queued: true,
      requestId: 'req-abc-123',
      elapsedMs: expect.any(Number),
      queuedAt: expect.any(Number),
      endToEnd: false,
    });
  });

  it('when the API does not queue it, it exits 1 with the status and the API message', async () => {
    answer = { status: 502, body: '{"queued":false,"requestId":"r","message":"The buffer queue is unavailable; this delivery was NOT queued. Redeliver it."}' };
    const result = await runCli(['smoke', '--webhook-url', `${base}/x`, '--secret-env', 'SPIGOT_WEBHOOK_SECRET'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').pop()).toBe(`spigot: smoke failed: expected 202 from ${base}/x, got 502: The buffer queue is unavailable; this delivery was NOT queued. Redeliver it.`);
  });

  it('when the API answers 202 without queued:true, it fails', async () => {
    answer = { status: 202, body: '{"ok":true}' };
    const result = await runCli(['smoke', '--webhook-url', `${base}/x`, '--secret-env', 'SPIGOT_WEBHOOK_SECRET'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('does not say {"queued":true,"requestId":...}');
  });

  it('when the API is too slow, it fails after --timeout', async () => {
    answer = { status: 202, body: '{"queued":true,"requestId":"late"}', delayMs: 1000 };
    const result = await runCli(['smoke', '--webhook-url', `${base}/x`, '--secret-env', 'SPIGOT_WEBHOOK_SECRET', '--timeout', '200'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('did not answer within 200 ms');
  });

  it('when the secret variable is unset or the secret is passed instead of a name, it is a usage error that never echoes a secret', async () => {
    const unset = await runCli(['smoke', '--webhook-url', `${base}/x`, '--secret-env', 'NOT_SET_ANYWHERE'], { env: env() });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('environment variable NOT_SET_ANYWHERE (named by --secret-env) is unset or empty');
    const literal = await runCli(['smoke', '--webhook-url', `${base}/x`, '--secret-env', 'my secret!'], { env: env() });
    expect(literal.code).toBe(2);
    expect(literal.stderr).toContain('--secret-env takes the NAME of an environment variable');
    const none = await runCli(['smoke', '--webhook-url', `${base}/x`], { env: env() });
    expect(none.code).toBe(2);
    expect(received).toHaveLength(0);
  });
});
