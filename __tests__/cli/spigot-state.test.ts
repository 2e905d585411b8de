import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createBufferQueues, startFauxqs, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';

describe('spigot open / close / status', () => {
  let fauxqs: Fauxqs;
  let ssm: LoopbackSsm;
  let queues: BufferQueues;
  const parameter = '/cli-state/spigot';
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    [fauxqs, ssm] = await Promise.all([startFauxqs(), startLoopbackSsm()]);
    useEmulatorEnvironment({ sqs: fauxqs.endpoint, ssm: ssm.endpoint });
    queues = await createBufferQueues(fauxqs.sqs, 'cli-state');
    env = cliEnv({ SPIGOT_PARAMETER_NAME: parameter, SPIGOT_QUEUE_URL: queues.queueUrl, SPIGOT_DLQ_URL: queues.dlqUrl });
  });
  afterAll(async () => {
    await Promise.all([fauxqs?.stop(), ssm?.stop()]);
  });
  beforeEach(() => {
    ssm.putDirect(parameter, 'open', { description: 'created open by Terraform', user: 'arn:aws:iam::123456789012:user/terraform' });
  });

  it('when an operator closes with a reason, it writes closed with who/why and status shows them', async () => {
    const closed = await runCli(['close', '--reason', 'Jenkins 2.462 upgrade'], { env });
    expect(closed.code).toBe(0);
    expect(closed.stdout).toContain('the spigot is now closed (was open)');
    const p = ssm.parameter(parameter)!;
    expect(p.value).toBe('closed');
    expect(p.type).toBe('String');
    expect(p.description).toBe('closed by alice via spigot CLI: Jenkins 2.462 upgrade');
    expect(ssm.calls.some((c) => c.action === 'PutParameter' && c.overwrite === true)).toBe(true);

    const status = await runCli(['status'], { env });
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^spigot:\s+closed/m);
    expect(status.stdout).toContain('by arn:aws:iam::123456789012:user/test'); // the access key the SDK signed with
    expect(status.stdout).toContain('why:         closed by alice via spigot CLI: Jenkins 2.462 upgrade');
    expect(status.stdout).toContain('last drain:    unknown');
  });

  it('when the spigot is opened again, it records who opened it and status shows open', async () => {
    await runCli(['close', '--reason', 'maintenance'], { env });
    const opened = await runCli(['open'], { env });
    expect(opened.code).toBe(0);
    expect(opened.stdout).toContain('the spigot is now open (was closed)');
    expect(ssm.parameter(parameter)!.description).toBe('opened by alice via spigot CLI');
    const status = await runCli(['status'], { env });
    expect(status.stdout).toMatch(/^spigot:\s+open/m);
    expect(status.stdout).toContain('opened by alice via spigot CLI');
  });

  it('when close has no reason, it refuses with a usage error and leaves the spigot alone', async () => {
    const missing = await runCli(['close'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--reason <text>'");
    const blank = await runCli(['close', '--reason', '   '], { env });
    expect(blank.code).toBe(2);
    expect(blank.stderr).toContain('close needs --reason');
    expect(ssm.parameter(parameter)!.value).toBe('open');
  });

  it('when the value is not open/closed, it reports closed (unrecognised value) and parses aliases case-insensitively', async () => {
    ssm.putDirect(parameter, 'maybe');
    const odd = await runCli(['status', '--json'], { env });
    expect(JSON.parse(odd.stdout).spigot).toMatchObject({ state: 'closed', recognised: false, value: 'maybe' });
    const human = await runCli(['status'], { env });
    expect(human.stdout).toContain('closed (unrecognised value "maybe")');
    ssm.putDirect(parameter, ' ON ');
    expect(JSON.parse((await runCli(['status', '--json'], { env })).stdout).spigot).toMatchObject({ state: 'open', recognised: true });
    ssm.putDirect(parameter, 'Off');
    expect(JSON.parse((await runCli(['status', '--json'], { env })).stdout).spigot).toMatchObject({ state: 'closed', recognised: true });
  });

  it('when asked for --json, it prints the spigot, buffer and dead-letter depths in a stable shape', async () => {
    await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: '{}', MessageGroupId: 'repo:a/b', MessageDeduplicationId: 'status-1' }));
    await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{}', MessageGroupId: 'repo:a/b', MessageDeduplicationId: 'status-2' }));
    await runCli(['close', '--reason', 'json shape'], { env });
    const result = await runCli(['status', '--json'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toEqual({
      spigot: {
        state: 'closed',
        recognised: true,
        value: 'closed',
        parameterName: parameter,
        version: expect.any(Number),
        changedBy: 'arn:aws:iam::123456789012:user/test',
        changedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
        reason: 'closed by alice via spigot CLI: json shape',
      },
      buffer: {
        queueUrl: queues.queueUrl,
        visible: 1,
        inFlight: 0,
        oldestMessageAgeSeconds: null,
        // the harness points CloudWatch at a refusing endpoint: status still succeeds
        oldestMessageAge: { seconds: null, at: null, queueName: queues.queueUrl.split('/').pop(), unavailable: expect.stringMatching(/^CloudWatch GetMetricData failed: .*ECONNREFUSED/) },
      },
      deadLetters: { queueUrl: queues.dlqUrl, visible: 1, inFlight: 0 },
      lastDrain: { status: 'unknown', parameterName: null, reason: expect.stringContaining('no drain status parameter configured') },
    });
  });

  it('when the parameter has more history than one page, it still reports the latest change', async () => {
    for (let i = 0; i < 60; i++) ssm.putDirect(parameter, i % 2 ? 'open' : 'closed', { description: `change ${i}` });
    const report = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(report.spigot).toMatchObject({ state: 'open', reason: 'change 59' });
  });

  it('when the parameter does not exist, it fails with a one-line operational error', async () => {
    const result = await runCli(['status'], { env: { ...env, SPIGOT_PARAMETER_NAME: '/nope/spigot' } });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('the spigot parameter /nope/spigot does not exist');
  });

  it('when SSM is unavailable, it fails with exit 1 and names the call', async () => {
    ssm.setFailure('unavailable');
    try {
      const result = await runCli(['open'], { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^spigot: reading the history of \/cli-state\/spigot \(ssm:GetParameterHistory\) failed: InternalServerError/);
    } finally {
      ssm.setFailure(null);
    }
  });
});
