import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { drainRows } from '../../cli/format';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';

/** A fake Lambda endpoint: POST /2015-03-31/functions/<name>/invocations (restJson1). */
describe('spigot drain', () => {
  let server: Server;
  const invoked: Array<{ path: string; invocationType: string | undefined }> = [];
  let reply: { status: number; headers?: Record<string, string>; body: string } = { status: 200, body: '{}' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        invoked.push({ path: req.url!, invocationType: req.headers['x-amz-invocation-type'] as string | undefined });
        res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
        res.end(reply.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    useEmulatorEnvironment({ lambda: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    invoked.length = 0;
  });

  const env = () => cliEnv({ SPIGOT_DRAIN_FUNCTION: 'spigot-drain' });

  it('when the drain returns its result, it invokes synchronously and prints it as a table', async () => {
    reply = {
      status: 200,
      headers: { 'X-Amz-Executed-Version': '$LATEST' },
      body: JSON.stringify({ state: 'open', released: 12, held: 0, deadLettered: 1, durationMs: 5300, groups: { 'repo:a/b': 3 } }),
    };
    const result = await runCli(['drain'], { env: env() });
    expect(result.code).toBe(0);
    expect(invoked).toEqual([{ path: '/2015-03-31/functions/spigot-drain/invocations', invocationType: 'RequestResponse' }]);
    expect(result.stderr).toContain('invoking spigot-drain and waiting');
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toBe('drain run of spigot-drain (version $LATEST) finished:');
    expect(lines.slice(1)).toEqual([
      'field            value',
      'state            open',
      'released         12',
      'held             0',
      'deadLettered     1',
      'durationMs       5300',
      'groups.repo:a/b  3',
    ]);
    const json = await runCli(['drain', '--json'], { env: env() });
    expect(JSON.parse(json.stdout)).toEqual({ functionName: 'spigot-drain', executedVersion: '$LATEST', result: expect.objectContaining({ released: 12 }) });
  });

  it('when a drain is already running (throttled), it says so and exits 1 without retrying', async () => {
    reply = {
      status: 429,
      headers: { 'x-amzn-ErrorType': 'TooManyRequestsException' },
      body: JSON.stringify({ Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', Type: 'User', message: 'Rate Exceeded.' }),
    };
    const result = await runCli(['drain'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('spigot: a drain is already running');
    expect(invoked).toHaveLength(1);
  });

  it('when the run lease is held by another run, the drain answers "skipped" and the CLI says a drain is already running', async () => {
    reply = { status: 200, body: JSON.stringify({ skipped: true, reason: 'another drain run is in progress' }) };
    const result = await runCli(['drain'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('spigot: a drain is already running (the run lease allows one run at a time)');
  });

  it('when the drain function fails, it exits 1 with its error message', async () => {
    reply = { status: 200, headers: { 'X-Amz-Function-Error': 'Unhandled' }, body: JSON.stringify({ errorType: 'Error', errorMessage: 'Jenkins probe\nfailed', trace: [] }) };
    const result = await runCli(['drain'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n').pop()).toBe('spigot: the drain run failed (Unhandled): Error: Jenkins probe failed');
  });

  it('when the function does not exist, it says so', async () => {
    reply = { status: 404, headers: { 'x-amzn-ErrorType': 'ResourceNotFoundException' }, body: JSON.stringify({ Type: 'User', Message: 'Function not found' }) };
    const result = await runCli(['drain'], { env: env() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the drain function spigot-drain does not exist');
  });

  it('when the result has arrays or is not an object, the table still shows it', () => {
    expect(drainRows({ held: 2, state: 'closed', reasons: ['probe 503'], extra: [{ a: 1 }] })).toEqual([
      ['state', 'closed'],
      ['held', '2'],
      ['reasons', 'probe 503'],
      ['extra', '[{"a":1}]'],
    ]);
    expect(drainRows(null)).toEqual([['result', 'null']]);
  });
});
