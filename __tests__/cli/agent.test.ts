/**
 * `spigot agent`: the CLI as a real child process (bin/spigot.js) running the drain next to
 * Jenkins, with the environment the synthesized agent stack outputs (agent_environment), against
 * fauxqs, the loopback SSM and a loopback Jenkins; and `--print-env` from an outputs file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { queueDepth } from '../support/sqs-queues';
import { synthStack } from '../support/synth';
import { enqueue, ledger, sleep, useWorld, type Cell } from '../drain/integration/world';
import { cliEnv, runCli, SPIGOT_BIN } from './harness';

const { world, cell } = useWorld('fauxqs');
const children: ChildProcess[] = [];
let dir: string;

beforeAll(() => (dir = mkdtempSync(path.join(tmpdir(), 'spigot-cli-agent-'))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

/** The agent stack's agent_environment output, as `terraform output -json` would give it for this cell. */
async function outputsFileFor(c: Cell, name: string): Promise<{ file: string; environment: Record<string, string> }> {
  const synthesized = synthStack({ drain: { mode: 'agent', agent: { assumeRolePrincipals: ['arn:aws:iam::123456789012:role/jenkins-host'] } } }).parsed;
  const lease = await world().emulator.sqs.send(new CreateQueueCommand({ QueueName: `${name}-lease-${Date.now()}.fifo`, Attributes: { FifoQueue: 'true' } }));
  const resolved: Record<string, string> = {
    JENKINS_URL: c.jenkins.url,
    QUEUE_URL: c.queues.queueUrl,
    DLQ_URL: c.queues.dlqUrl,
    LEASE_QUEUE_URL: lease.QueueUrl!,
    SPIGOT_PARAMETER_NAME: c.parameterName,
    DRAIN_STATUS_PARAMETER_NAME: `${c.parameterName}-drain-status`,
    // Runs of seconds here (production: 55 s).
    MAX_RUN_SECONDS: '5',
    METRICS_SINK: 'emf',
  };
  const environment = Object.fromEntries(
    Object.entries(synthesized.output!.agent_environment.value as Record<string, string>).map(([key, value]) => [key, resolved[key] ?? value]),
  );
  expect(Object.values(environment).filter((v) => v.includes('${'))).toEqual([]);
  const file = path.join(dir, `${name}.outputs.json`);
  writeFileSync(file, JSON.stringify({ agent_environment: { value: environment, type: ['map', 'string'], sensitive: false }, queue_url: { value: c.queues.queueUrl } }));
  return { file, environment };
}

function startCliAgent(c: Cell, outputsFile: string) {
  const child = spawn(process.execPath, [SPIGOT_BIN, 'agent', '--outputs-file', outputsFile], {
    env: cliEnv({
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_SQS: c.variables.AWS_ENDPOINT_URL_SQS,
      AWS_ENDPOINT_URL_SSM: c.variables.AWS_ENDPOINT_URL_SSM,
      AWS_EC2_METADATA_DISABLED: 'true',
      AGENT_IDLE_PAUSE_MS: '200',
      IDLE_WAIT_SECONDS: '1',
      STATE_RECHECK_MS: '200',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function until(what: string, condition: () => boolean, limitMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe('spigot agent', () => {
  it('when run with the stack\'s agent_environment, it releases every webhook byte-exact and in order per repository, and exits 0 on SIGTERM', async () => {
    const c = await cell('cli-agent');
    const sent = await enqueue(c, 16, 4);
    const { file } = await outputsFileFor(c, 'cli-agent');
    const agent = startCliAgent(c, file);
    await until('Jenkins accepted all 16', () => c.jenkins.accepted().length >= 16);
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(ledger(sent, c.jenkins)).toEqual({ delivered: 16, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    expect(await queueDepth(world().emulator.sqs, c.queues.queueUrl)).toMatchObject({ visible: 0, inFlight: 0 });
    expect(agent.output()).toContain('spigot agent: releasing to');
    expect(agent.output()).toContain('agent stopped');
    expect(agent.output()).not.toContain(sent[0].body.toString('utf8').slice(0, 40));
    // The run record `spigot status` reads.
    expect(JSON.parse(world().ssm.parameter(`${c.parameterName}-drain-status`)!.value)).toMatchObject({ action: 'released', deadLettered: 0, spigot: 'open' });
  });

  it('when --print-env is given an outputs file, it prints the agent_environment as sorted KEY=VALUE lines and runs nothing', async () => {
    const c = await cell('cli-agent-env', { spigot: 'closed' });
    const { file, environment } = await outputsFileFor(c, 'cli-agent-env');
    const result = await runCli(['agent', '--print-env', '--outputs-file', file], { env: cliEnv() });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toEqual(Object.keys(environment).sort().map((key) => `${key}=${environment[key]}`));
    expect(lines).toEqual(expect.arrayContaining([`QUEUE_URL=${c.queues.queueUrl}`, 'METRICS_SINK=emf', 'AWS_REGION=us-east-1']));
    expect(world().proxy.count('ReceiveMessage', c.queues.queueUrl)).toBe(0);
  });

  it('when a value could not be read alike by systemd and docker, --print-env refuses it by name', async () => {
    const file = path.join(dir, 'quoted.outputs.json');
    writeFileSync(file, JSON.stringify({ agent_environment: { value: { PROBE_PATH: '/whoAmI/"x"' } } }));
    const result = await runCli(['agent', '--print-env', '--outputs-file', file], { env: cliEnv() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PROBE_PATH's value cannot be written to an environment file/);
  });

  it('when the outputs are a Lambda stack\'s and no config names the stack, it says what it needs', async () => {
    const file = path.join(dir, 'lambda.outputs.json');
    writeFileSync(file, JSON.stringify({ queue_url: { value: 'https://sqs.us-east-1.amazonaws.com/1/x.fifo' }, drain_function_name: { value: 'spigot-drain' } }));
    const result = await runCli(['agent', '--print-env', '--outputs-file', file], { env: cliEnv(), cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/spigot agent needs the stack's environment: the agent_environment output of a drain\.mode "agent" stack .*or the stack's spigot\.config\.json .*\[the outputs have no agent_environment; no spigot\.config\.json\]/);
  });
});

describe('commands that need the drain function, on an agent-mode stack', () => {
  const project = () => {
    const folder = mkdtempSync(path.join(dir, 'project-'));
    writeFileSync(path.join(folder, 'spigot.config.json'), JSON.stringify({ name: 'acme', region: 'us-east-1', jenkinsUrl: 'https://10.0.0.5', drain: { mode: 'agent', agent: { createUser: true } } }));
    return folder;
  };
  const agentOutputs = () => {
    const file = path.join(dir, `agent-stack-${Date.now()}.outputs.json`);
    const value = (v: unknown) => ({ value: v });
    writeFileSync(file, JSON.stringify({
      queue_url: value('https://sqs.us-east-1.amazonaws.com/123456789012/acme-buffer.fifo'),
      dlq_url: value('https://sqs.us-east-1.amazonaws.com/123456789012/acme-dlq.fifo'),
      spigot_parameter_name: value('/acme/spigot'),
      drain_status_parameter_name: value('/acme/drain-status'),
      agent_environment: value({ QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/acme-buffer.fifo' }),
    }));
    return file;
  };

  it('when the config says drain.mode "agent", spigot drain says there is no drain Lambda and what to use, and calls nothing', async () => {
    const result = await runCli(['drain'], { env: cliEnv({ AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:9' }), cwd: project() });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^spigot: stack acme runs the drain as an agent \(drain\.mode "agent", per .*spigot\.config\.json\), so it has no drain Lambda to invoke or probe: .*`npx spigot agent`.*`spigot status` shows its last run/);
  });

  it('when only the outputs show an agent stack, spigot drain says the same, naming the outputs', async () => {
    const result = await runCli(['drain', '--stack', 'acme', '--outputs-file', agentOutputs()], { env: cliEnv(), cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/stack acme runs the drain as an agent \(drain\.mode "agent", per its Terraform outputs\)/);
  });

  it('when the stack runs an agent, spigot env leaves out SPIGOT_DRAIN_FUNCTION and prints the rest', async () => {
    const result = await runCli(['env', '--outputs-file', agentOutputs()], { env: cliEnv(), cwd: project() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('export SPIGOT_QUEUE_URL=https://sqs.us-east-1.amazonaws.com/123456789012/acme-buffer.fifo');
    expect(result.stdout).toContain('export SPIGOT_DRAIN_LOG_GROUP=/aws/lambda/acme-drain');
    expect(result.stdout).not.toContain('SPIGOT_DRAIN_FUNCTION');
  });
});
