import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerOf } from '../../cli/commands/smoke-end-to-end';
import { createCell, depth, invoke, startWorld, type Cell, type World } from '../drain/integration/world';
import { WEBHOOK_SECRET } from '../support/webhooks';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';
import { startLoopbackCloudWatch, type LoopbackCloudWatch } from './loopback-cloudwatch';

const DRAIN_LOG = '/aws/lambda/cli-smoke-drain';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('spigot smoke --end-to-end', () => {
  let world: World;
  let cloudwatch: LoopbackCloudWatch;
  let cell: Cell;
  let server: Server;
  let webhookUrl: string;
  let counter = 0;

  beforeAll(async () => {
    [world, cloudwatch] = await Promise.all([startWorld(), startLoopbackCloudWatch()]);
    useEmulatorEnvironment({ sqs: world.emulator.endpoint, ssm: world.ssm.endpoint, logs: cloudwatch.endpoint });
    cloudwatch.putLogEvents(DRAIN_LOG, []);
    // The deployed API in front of the Edge (the synthesized templates), over HTTP as the CLI posts.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const headers: Array<[string, string]> = [];
        for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
        const answer = await cell.edge.accept({ path: new URL(req.url!, 'http://x').pathname.replace(/^\/prod/, ''), headers, body: Buffer.concat(chunks) });
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    webhookUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod/github-webhook/`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await cell?.jenkins.stop();
    await Promise.all([world?.stop(), cloudwatch?.stop()]);
  });
  beforeEach(async () => {
    if (cell) await cell.jenkins.stop();
    cell = await createCell(world, `cli-smoke-${++counter}`);
  });

  const env = () => cliEnv({ GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET, SPIGOT_PARAMETER_NAME: cell.parameterName, SPIGOT_DRAIN_LOG_GROUP: DRAIN_LOG, SPIGOT_WEBHOOK_URL: webhookUrl });
  const args = ['smoke', '--end-to-end', '--secret-env', 'GITHUB_WEBHOOK_SECRET', '--interval', '0.2s', '--wait', '30s'];

  /** Runs the real drain once the ping is queued and ships what it logged to the loopback CloudWatch Logs. */
  async function drainAndLog(): Promise<void> {
    while ((await depth(world, cell)) === 0) await sleep(50);
    const run = await invoke(cell);
    const drainLines = run.output.filter((l) => l.trim().startsWith('{"level"')).map((m) => ({ timestamp: Date.now(), message: m.trim() }));
    cloudwatch.putLogEvents(DRAIN_LOG, drainLines);
  }

  it('when Jenkins takes the signed ping the drain released, it prints Jenkins\' answer and exits 0', async () => {
    const [result] = await Promise.all([runCli(args, { env: env() }), drainAndLog()]);
    expect(result.stderr).toContain('waiting up to 30s for the drain to release it');
    expect(result.code).toBe(0);
    const ping = cell.jenkins.deliveries.find((d) => d.event === 'ping')!;
    expect(ping.signatureValid).toBe(true);
    expect(ping.headers['x-spigot-smoke']).toBeUndefined();
    expect(result.stdout).toContain(`  delivery:  ${ping.deliveryId} (X-GitHub-Delivery of a signed ping: the drain releases it to Jenkins)`);
    expect(result.stdout).toMatch(/^released to Jenkins at \S+Z, \d+s after it was queued: Jenkins answered 200$/m);
    expect(await depth(world, cell)).toBe(0);
  });

  it('when Jenkins refuses the ping, it prints the refusal and exits 3', async () => {
    await cell.jenkins.setBehaviour({ kind: 'refusing', status: 404 });
    const [result] = await Promise.all([runCli([...args, '--json'], { env: env() }), drainAndLog()]);
    expect(result.code).toBe(3);
    expect(JSON.parse(result.stdout).jenkins).toMatchObject({ outcome: 'refused', status: '404', reason: 'Jenkins answered 404' });
    expect(result.stderr).toContain('spigot: Jenkins did not take the ping: refused, 404 (Jenkins answered 404)');
  });

  it('when the spigot is closed, it refuses before posting anything', async () => {
    world.ssm.putDirect(cell.parameterName, 'closed', { description: 'closed by bob via spigot CLI: upgrade' });
    const result = await runCli(args, { env: env() });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('the spigot is closed (closed by bob via spigot CLI: upgrade): an end-to-end ping would wait in the buffer');
    expect(await depth(world, cell)).toBe(0);
  });

  it('when no drain line names the ping in time, it exits 3 saying what to check', async () => {
    const result = await runCli([...args.slice(0, -2), '--wait', '1s'], { env: env() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/no drain line names the ping \S+ after 1s in \/aws\/lambda\/cli-smoke-drain: is the drain running/);
    expect(await depth(world, cell)).toBe(1); // queued, waiting for a drain
  });

  it('when several lines name the ping, the first one that says what Jenkins did is the answer', () => {
    const at = (s: number) => 1_000_000 + s * 1000;
    const answer = answerOf(
      [
        { at: at(9), source: 'drain', kind: 'released', text: '', status: '200' },
        { at: at(5), source: 'drain', kind: 'received-again', text: '' },
        { at: at(7), source: 'drain', kind: 'refused-by-jenkins', text: '', status: '503', reason: 'busy' },
      ],
      at(1),
    );
    expect(answer).toEqual({ outcome: 'refused', status: '503', reason: 'busy', at: at(7), afterMs: 6000 });
    expect(answerOf([], 0)).toBeUndefined();
  });
});
