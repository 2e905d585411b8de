import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { stackNames } from '../../cli/stack';
import { createBufferQueues, startFauxqs, TEST_CREDENTIALS, TEST_REGION, type Fauxqs } from '../support/fauxqs';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { resourcesOfType, synthStack } from '../support/synth';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';

/** Queues named as the stack names them, <stack>-buffer.fifo and <stack>-dlq.fifo, in the stack's region (fauxqs keeps regions apart). */
async function deployQueues(fauxqs: Fauxqs, stack: string, region: string): Promise<{ queueUrl: string; dlqUrl: string }> {
  const sqs = new SQSClient({ endpoint: fauxqs.endpoint, region, credentials: TEST_CREDENTIALS, useQueueUrlAsEndpoint: false });
  try {
    const { queueUrl } = await createBufferQueues(sqs, `${stack}-buffer`);
    const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${stack}-dlq.fifo`, Attributes: { FifoQueue: 'true' } }));
    return { queueUrl, dlqUrl: dlq.QueueUrl! };
  } finally {
    sqs.destroy();
  }
}

describe('the stack from spigot.config.json', () => {
  let fauxqs: Fauxqs;
  let ssm: LoopbackSsm;
  const deployed: Record<string, { queueUrl: string; dlqUrl: string }> = {};

  beforeAll(async () => {
    [fauxqs, ssm] = await Promise.all([startFauxqs(), startLoopbackSsm()]);
    useEmulatorEnvironment({ sqs: fauxqs.endpoint, ssm: ssm.endpoint });
    for (const [stack, region] of [['cli-stack-prod', 'eu-west-1'], ['cli-stack-staging', TEST_REGION]] as const) {
      deployed[stack] = await deployQueues(fauxqs, stack, region);
      ssm.putDirect(`/${stack}/spigot`, 'open', { description: `created open for ${stack}` });
      ssm.putDirect(`/${stack}/drain-status`, '{}');
    }
  });
  afterAll(async () => {
    await Promise.all([fauxqs?.stop(), ssm?.stop()]);
  });

  const projectWith = (config: object | string, file = 'spigot.config.json'): string => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spigot-stack-'));
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), typeof config === 'string' ? config : JSON.stringify(config));
    return dir;
  };
  const regionsSince = (before: number): Array<string | undefined> => [...new Set(ssm.calls.slice(before).map((c) => c.signedRegion))];

  it('when spigot.config.json names the stack, status needs nothing else and uses the config\'s region', async () => {
    const cwd = projectWith({ name: 'cli-stack-prod', region: 'eu-west-1', jenkinsUrl: 'https://jenkins.example.com' });
    const before = ssm.calls.length;
    const result = await runCli(['status', '--json'], { cwd });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.spigot).toMatchObject({ parameterName: '/cli-stack-prod/spigot', reason: 'created open for cli-stack-prod' });
    expect(report.buffer.queueUrl).toBe(deployed['cli-stack-prod']!.queueUrl);
    expect(report.deadLetters.queueUrl).toBe(deployed['cli-stack-prod']!.dlqUrl);
    expect(report.lastDrain).toEqual({ status: 'never', parameterName: '/cli-stack-prod/drain-status' });
    expect(regionsSince(before)).toEqual(['eu-west-1']);
  });

  it('when SPIGOT_CONFIG points at a config elsewhere, that config names the stack', async () => {
    const elsewhere = projectWith({ name: 'cli-stack-staging' }, 'deploy/staging.json');
    const cwd = projectWith({ name: 'cli-stack-prod' });
    const result = await runCli(['open', '--json'], { cwd, env: cliEnv({ SPIGOT_CONFIG: path.join(elsewhere, 'deploy/staging.json') }) });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).current.parameterName).toBe('/cli-stack-staging/spigot');
  });

  it('when --stack picks another stack, its names follow and the region is the default chain\'s unless --region says', async () => {
    const cwd = projectWith({ name: 'cli-stack-prod', region: 'eu-west-1' });
    let before = ssm.calls.length;
    const other = await runCli(['status', '--json', '--stack', 'cli-stack-staging'], { cwd });
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout).spigot.parameterName).toBe('/cli-stack-staging/spigot');
    expect(regionsSince(before)).toEqual([TEST_REGION]);

    before = ssm.calls.length;
    const pinned = await runCli(['open', '--json', '--stack', 'cli-stack-staging', '--region', 'ap-south-1'], { cwd });
    expect(pinned.code).toBe(0);
    expect(regionsSince(before)).toEqual(['ap-south-1']);

    const sameAsConfig = await runCli(['status', '--json', '--stack', 'cli-stack-prod'], { cwd });
    expect(JSON.parse(sameAsConfig.stdout).spigot.parameterName).toBe('/cli-stack-prod/spigot');
  });

  it('when the config leaves out name and region, synth\'s defaults apply (stack spigot, us-east-1)', async () => {
    const cwd = projectWith({ jenkinsUrl: 'https://jenkins.example.com' });
    const result = await runCli(['open'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('spigot: the spigot parameter /spigot/spigot does not exist (wrong stack, --parameter or region? deployed?)\n');
  });

  it('when the configured stack has no queues, it says which queue it looked for and where the stack name came from', async () => {
    const cwd = projectWith({ name: 'cli-stack-missing' });
    const result = await runCli(['dlq', 'list'], { cwd });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `spigot: stack cli-stack-missing (from ${path.join(cwd, 'spigot.config.json')}) has no queue cli-stack-missing-dlq.fifo in us-east-1: wrong --stack or --region, or not deployed?\n`,
    );
  });

  it('when the config is not JSON, it fails in one line naming the file, and --stack still works', async () => {
    const cwd = projectWith('{ "name": ');
    const broken = await runCli(['status'], { cwd });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/^spigot: cannot read the stack's name from \S+spigot\.config\.json: .*JSON.*\n$/);
    const picked = await runCli(['open', '--stack', 'cli-stack-prod', '--json'], { cwd });
    expect(picked.code).toBe(0);
    const wrongType = await runCli(['status'], { cwd: projectWith({ name: 7 }) });
    expect(wrongType.stderr).toMatch(/"name" must be a non-empty string/);
  });

  it('when asked for env, it prints export lines a shell can eval, and the CLI then works from them alone', async () => {
    const cwd = projectWith({ name: 'cli-stack-prod', region: 'eu-west-1' });
    const result = await runCli(['env'], { cwd });
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n')).toEqual([
      'export SPIGOT_STACK=cli-stack-prod',
      'export AWS_REGION=eu-west-1',
      'export SPIGOT_PARAMETER_NAME=/cli-stack-prod/spigot',
      `export SPIGOT_QUEUE_URL=${deployed['cli-stack-prod']!.queueUrl}`,
      `export SPIGOT_DLQ_URL=${deployed['cli-stack-prod']!.dlqUrl}`,
      'export SPIGOT_DRAIN_FUNCTION=cli-stack-prod-drain',
      'export SPIGOT_DRAIN_STATUS_PARAMETER=/cli-stack-prod/drain-status',
      'export SPIGOT_DRAIN_LOG_GROUP=/aws/lambda/cli-stack-prod-drain',
      'export SPIGOT_ACCESS_LOG_GROUP=/aws/apigateway/cli-stack-prod/access',
    ]);
    const exported = Object.fromEntries(result.stdout.trim().split('\n').map((l) => l.replace(/^export /, '').split(/=(.*)/s).slice(0, 2) as [string, string]));
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'spigot-env-'));
    const status = await runCli(['status', '--json'], { cwd: elsewhere, env: cliEnv(exported) });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).buffer.queueUrl).toBe(deployed['cli-stack-prod']!.queueUrl);
  });

  it('when a resource is given by flag or environment, it wins over the name the stack gives it', async () => {
    const cwd = projectWith({ name: 'cli-stack-prod' });
    const result = await runCli(['open', '--json'], { cwd, env: cliEnv({ SPIGOT_PARAMETER_NAME: '/cli-stack-staging/spigot' }) });
    expect(JSON.parse(result.stdout).current.parameterName).toBe('/cli-stack-staging/spigot');
  });
});

describe('stack names', () => {
  it('when the stack is synthesized, every name the CLI derives is the name of a resource in it', () => {
    const { parsed } = synthStack({ name: 'acme-ci' });
    const names = stackNames('acme-ci');
    const values = (type: string, key: string): unknown[] => Object.values(resourcesOfType(parsed, type)).map((r) => r[key]);
    expect(values('aws_ssm_parameter', 'name')).toEqual(expect.arrayContaining([names.parameterName, names.drainStatusParameterName]));
    expect(values('aws_sqs_queue', 'name')).toEqual(expect.arrayContaining([names.queueName, names.dlqName, names.leaseQueueName]));
    expect(values('aws_lambda_function', 'function_name')).toContain(names.functionName);
    expect(values('aws_cloudwatch_log_group', 'name')).toEqual(expect.arrayContaining([names.drainLogGroup, names.accessLogGroup]));
  });
});
