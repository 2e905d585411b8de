/**
 * The drain as an agent next to Jenkins: the BUNDLED agent (functions/drain/agent-main.ts) as a
 * real child process against fauxqs, the loopback SSM and a loopback Jenkins.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { startLoopbackCloudWatch, type LoopbackCloudWatch } from '../../cli/loopback-cloudwatch';
import { agentBundle } from '../../support/drain-harness';
import { queueDepth } from '../../support/sqs-queues';
import { drainToEmpty, enqueue, ledger, sleep, useWorld, type Cell } from './world';

const { world, cell } = useWorld('fauxqs');
const agents: ChildProcess[] = [];

afterEach(() => {
  for (const agent of agents.splice(0)) if (agent.exitCode === null) agent.kill('SIGKILL');
});

interface RunningAgent {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startAgent(c: Cell, extra: Record<string, string> = {}): RunningAgent {
  const child = spawn(process.execPath, [agentBundle()], {
    env: { ...process.env, ...c.variables, AGENT_IDLE_PAUSE_MS: '200', MAX_RUN_SECONDS: '5', IDLE_WAIT_SECONDS: '1', ...extra },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  agents.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, output: () => output, exited };
}

async function until(what: string, condition: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

async function stopAgent(agent: RunningAgent, limitMs = 15_000): Promise<{ code: number | null; ms: number }> {
  const started = Date.now();
  agent.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const tooSlow = new Promise<{ code: number }>((resolve) => (timer = setTimeout(() => resolve({ code: -1 }), limitMs)));
  const result = await Promise.race([agent.exited, tooSlow]);
  clearTimeout(timer);
  return { code: result.code, ms: Date.now() - started };
}

describe('the drain as an agent', () => {
  it('when the spigot is open, it releases every webhook byte-exact and in order per repository, and exits 0 on SIGTERM', async () => {
    const c = await cell('agent-open');
    const sent = await enqueue(c, 20, 4);
    const agent = startAgent(c);
    await until('Jenkins accepted all 20', () => c.jenkins.accepted().length >= 20);
    const stopped = await stopAgent(agent);
    expect(stopped.code).toBe(0);
    expect(ledger(sent, c.jenkins)).toEqual({ delivered: 20, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    expect(agent.output()).not.toContain(sent[0].body.toString('utf8').slice(0, 40));
    expect(agent.output()).toContain('"SpigotOpen"');
  });

  it('when the spigot is closed, it makes no ReceiveMessage call at all, and opening it releases within seconds', async () => {
    const c = await cell('agent-closed', { spigot: 'closed', spigotDescription: 'closed by jane' });
    const sent = await enqueue(c, 6, 2);
    const agent = startAgent(c);
    await sleep(2500);
    expect(world().proxy.count('ReceiveMessage', c.queues.queueUrl)).toBe(0);
    expect(c.jenkins.deliveries).toEqual([]);
    const openedAt = Date.now();
    world().ssm.putDirect(c.parameterName, 'open', { description: 'opened by jane' });
    await until('Jenkins accepted all 6', () => c.jenkins.accepted().length >= 6);
    expect(Date.now() - openedAt).toBeLessThan(10_000);
    expect((await stopAgent(agent)).code).toBe(0);
    expect(ledger(sent, c.jenkins)).toMatchObject({ delivered: 6, lost: [], outOfOrder: [] });
  });

  it('when it gets SIGTERM mid-batch, it exits 0 promptly, leaves nothing in flight, and a later run delivers the rest with nothing lost or reordered', async () => {
    const c = await cell('agent-sigterm', { serviceTimeMs: 150 });
    const sent = await enqueue(c, 30, 3);
    const agent = startAgent(c, { CONCURRENCY: '2' });
    await until('Jenkins accepted 5', () => c.jenkins.accepted().length >= 5);
    const stopped = await stopAgent(agent);
    expect(stopped.code).toBe(0);
    expect(c.jenkins.accepted().length).toBeLessThan(30);
    // What was not sent was handed back (visibility 0), not left to time out.
    const depth = await queueDepth(world().emulator.sqs, c.queues.queueUrl);
    expect(depth.inFlight).toBe(0);
    expect(depth.visible).toBe(30 - c.jenkins.accepted().length);
    await drainToEmpty(world(), c);
    expect(ledger(sent, c.jenkins)).toMatchObject({ delivered: 30, lost: [], outOfOrder: [] });
  });

  it('when two agents run by mistake, one run lease keeps them to one concurrency cap and per-repository order holds', async () => {
    const c = await cell('agent-pair', { serviceTimeMs: 60 });
    const created = await world().emulator.sqs.send(new CreateQueueCommand({ QueueName: `agent-pair-lease-${Date.now()}.fifo`, Attributes: { FifoQueue: 'true', MessageRetentionPeriod: '1209600' } }));
    const sent = await enqueue(c, 60, 12);
    const lease = { CONCURRENCY: '3', LEASE_QUEUE_URL: created.QueueUrl!, LEASE_WAIT_SECONDS: '1' };
    const first = startAgent(c, lease);
    const second = startAgent(c, lease);
    await until('Jenkins accepted all 60', () => c.jenkins.accepted().length >= 60, 40_000);
    const [a, b] = await Promise.all([stopAgent(first), stopAgent(second)]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(c.jenkins.maxInFlight).toBeLessThanOrEqual(3);
    expect(ledger(sent, c.jenkins)).toMatchObject({ delivered: 60, lost: [], outOfOrder: [] });
  });

  describe('with METRICS_SINK=cloudwatch', () => {
    let cloudwatch: LoopbackCloudWatch;
    beforeAll(async () => (cloudwatch = await startLoopbackCloudWatch()));
    afterAll(() => cloudwatch.stop());
    const sink = () => ({ METRICS_SINK: 'cloudwatch', METRICS_FLUSH_SECONDS: '60', AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint });
    const datums = (name: string) => cloudwatch.putMetricData.flatMap((call) => call.datums.filter((d) => d.MetricName === name));

    it('when it runs, each run counts itself in Runs through PutMetricData, held until the flush and sent on SIGTERM, with no EMF line on stdout', async () => {
      cloudwatch.putMetricData.splice(0);
      const c = await cell('agent-putmetric', { spigot: 'closed', spigotDescription: 'closed by jane' });
      const agent = startAgent(c, sink());
      await until('a few closed runs', () => (agent.output().match(/drain run finished/g) ?? []).length >= 3);
      expect(cloudwatch.putMetricData).toEqual([]);
      expect((await stopAgent(agent)).code).toBe(0);
      const runs = (agent.output().match(/drain run finished/g) ?? []).length;
      expect(new Set(cloudwatch.putMetricData.map((call) => call.namespace))).toEqual(new Set(['Spigot']));
      expect(datums('Runs').map((d) => d.Value)).toEqual(Array(runs).fill(1));
      expect(datums('RunErrors').map((d) => d.Value)).toEqual(Array(runs).fill(0));
      expect(datums('SpigotOpen').map((d) => d.Value)).toEqual(Array(runs).fill(0));
      expect(agent.output()).not.toContain('"_aws"');
    });

    it('when its runs fail (the run lease queue is gone), it counts each in RunErrors, keeps trying and still exits 0 on SIGTERM', async () => {
      cloudwatch.putMetricData.splice(0);
      const c = await cell('agent-run-errors');
      const agent = startAgent(c, { ...sink(), LEASE_QUEUE_URL: `${c.queues.queueUrl.replace(/[^/]+$/, '')}agent-no-such-lease.fifo`, LEASE_WAIT_SECONDS: '0' });
      await until('two failed runs', () => (agent.output().match(/agent run failed; trying again/g) ?? []).length >= 2);
      expect((await stopAgent(agent)).code).toBe(0);
      const failed = (agent.output().match(/agent run failed; trying again/g) ?? []).length;
      expect(datums('RunErrors').map((d) => d.Value)).toEqual(Array(failed).fill(1));
      expect(datums('Runs')).toHaveLength(failed);
      expect(c.jenkins.deliveries).toEqual([]);
    });
  });
});
