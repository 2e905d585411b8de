import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { parseDrainStatus, readOldestMessageAge, type StatusReport } from '../../cli/commands/status';
import { formatStatus } from '../../cli/format';
import { createBufferQueues, startFauxqs, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';
import { startLoopbackCloudWatch, type LoopbackCloudWatch } from './loopback-cloudwatch';

const minutesAgo = (minutes: number, from: Date = new Date()): Date => new Date(from.getTime() - minutes * 60_000);

const drainRecord = (overrides: Record<string, unknown> = {}): string =>
  JSON.stringify({
    at: minutesAgo(3).toISOString(),
    trigger: 'schedule',
    spigot: 'open',
    action: 'released',
    released: 12,
    held: 0,
    retried: 0,
    deadLettered: 0,
    discarded: 0,
    oldestMessageAgeSeconds: 95,
    durationMs: 1234,
    ...overrides,
  });

describe('spigot status: last drain and oldest message age', () => {
  let fauxqs: Fauxqs;
  let ssm: LoopbackSsm;
  let cloudwatch: LoopbackCloudWatch;
  let queues: BufferQueues;
  const parameter = '/cli-status/spigot';
  const drainStatus = '/cli-status/drain-status';
  let env: NodeJS.ProcessEnv;
  let queueName: string;

  beforeAll(async () => {
    [fauxqs, ssm, cloudwatch] = await Promise.all([startFauxqs(), startLoopbackSsm(), startLoopbackCloudWatch()]);
    useEmulatorEnvironment({ sqs: fauxqs.endpoint, ssm: ssm.endpoint, cloudwatch: cloudwatch.endpoint });
    queues = await createBufferQueues(fauxqs.sqs, 'cli-status');
    queueName = queues.queueUrl.split('/').pop()!;
    env = cliEnv({
      SPIGOT_PARAMETER_NAME: parameter,
      SPIGOT_QUEUE_URL: queues.queueUrl,
      SPIGOT_DLQ_URL: queues.dlqUrl,
      SPIGOT_DRAIN_STATUS_PARAMETER: drainStatus,
    });
  });
  afterAll(async () => {
    await Promise.all([fauxqs?.stop(), ssm?.stop(), cloudwatch?.stop()]);
  });
  beforeEach(() => {
    ssm.putDirect(parameter, 'open', { description: 'created open by Terraform' });
    ssm.putDirect(drainStatus, '{}');
    cloudwatch.setFailure(null);
    cloudwatch.setOldestAge(queueName, []);
  });

  it('when the drain has recorded a run and CloudWatch has datapoints, it shows both, the latest datapoint winning', async () => {
    ssm.putDirect(drainStatus, drainRecord());
    const latest = minutesAgo(1);
    cloudwatch.setOldestAge(queueName, [
      { at: minutesAgo(3), value: 900 },
      { at: latest, value: 420 },
      { at: minutesAgo(2), value: 600 },
      { at: minutesAgo(60), value: 99_999 }, // outside the 15-minute window
    ]);
    const before = cloudwatch.queries.length;
    const result = await runCli(['status'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^last drain: {4}\d{4}-\d\d-\d\dT\S+Z \(3m ago\) released 12, held 0, dead-lettered 0 \(schedule; spigot open; took 1\.2s\)$/m);
    expect(result.stdout).toContain('  action:      released');
    expect(result.stdout).toContain(`  oldest:      7m (CloudWatch ApproximateAgeOfOldestMessage, ${latest.toISOString()});`);
    expect(result.stdout).toContain('; last drain (3m ago) saw 1m');

    const queries = cloudwatch.queries.slice(before);
    expect(queries).toHaveLength(1);
    const q = queries[0]!;
    expect(q).toMatchObject({ namespace: 'AWS/SQS', metricName: 'ApproximateAgeOfOldestMessage', stat: 'Maximum', dimensions: [{ Name: 'QueueName', Value: queueName }] });
    expect(q.endTime.getTime() - q.startTime.getTime()).toBe(15 * 60_000);
    expect(Math.abs(q.endTime.getTime() - Date.now())).toBeLessThan(30_000);

    const json = JSON.parse((await runCli(['status', '--json'], { env })).stdout);
    expect(json.buffer.oldestMessageAgeSeconds).toBe(420);
    expect(json.buffer.oldestMessageAge).toEqual({ seconds: 420, at: latest.toISOString(), queueName, unavailable: null });
    expect(json.lastDrain).toEqual({
      status: 'recorded',
      parameterName: drainStatus,
      run: {
        at: expect.any(String),
        trigger: 'schedule',
        spigot: 'open',
        action: 'released',
        reason: null,
        released: 12,
        held: 0,
        retried: 0,
        deadLettered: 0,
        discarded: 0,
        oldestMessageAgeSeconds: 95,
        durationMs: 1234,
      },
    });
  });

  it('when the drain auto-closed, it shows the action and the reason; nonzero retried/discarded are listed', async () => {
    ssm.putDirect(drainStatus, drainRecord({ trigger: 'spigot-changed', spigot: 'closed', action: 'auto-closed', reason: '5 consecutive failures, last: 503', released: 2, retried: 5, discarded: 1 }));
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('released 2, held 0, retried 5, dead-lettered 0, discarded 1 (spigot-changed; spigot closed; took 1.2s)');
    expect(result.stdout).toContain('  action:      auto-closed: 5 consecutive failures, last: 503');
  });

  it('when no drain has run yet ({}), it says so', async () => {
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`last drain:    none recorded yet (${drainStatus} is {})`);
    expect(JSON.parse((await runCli(['status', '--json'], { env })).stdout).lastDrain).toEqual({ status: 'never', parameterName: drainStatus });
  });

  it('when the drain status is malformed, it shows "unreadable" and still exits 0', async () => {
    ssm.putDirect(drainStatus, '{"at": "2026-');
    const broken = await runCli(['status'], { env });
    expect(broken.code).toBe(0);
    expect(broken.stdout).toMatch(new RegExp(`^last drain: {4}unreadable \\(${drainStatus}: not JSON`, 'm'));
    ssm.putDirect(drainStatus, '[1,2]');
    expect(JSON.parse((await runCli(['status', '--json'], { env })).stdout).lastDrain).toEqual({ status: 'unreadable', parameterName: drainStatus, reason: 'not a JSON object' });
    ssm.putDirect(drainStatus, '{"released": 3}');
    expect((await runCli(['status'], { env })).stdout).toContain('unreadable (/cli-status/drain-status: no valid "at" time)');
  });

  it('when the drain status parameter is not configured or does not exist, it shows "unknown" as before', async () => {
    const { SPIGOT_DRAIN_STATUS_PARAMETER: _omit, ...withoutIt } = env;
    const unconfigured = await runCli(['status'], { env: withoutIt });
    expect(unconfigured.code).toBe(0);
    expect(unconfigured.stdout).toContain(
      'last drain:    unknown (no drain status parameter configured (--drain-status-parameter, SPIGOT_DRAIN_STATUS_PARAMETER or output drain_status_parameter_name)',
    );
    const missing = await runCli(['status', '--drain-status-parameter', '/nope/drain-status'], { env });
    expect(missing.code).toBe(0);
    expect(missing.stdout).toContain('last drain:    unknown (the parameter /nope/drain-status does not exist;');
  });

  it('when CloudWatch denies access, oldest shows n/a with the reason, the last drain\'s age as a hint, and status exits 0', async () => {
    ssm.putDirect(drainStatus, drainRecord({ oldestMessageAgeSeconds: 300 }));
    cloudwatch.setFailure('denied');
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^ {2}oldest: {6}n\/a \(CloudWatch GetMetricData failed: AccessDenied: User: .* not authorized .*\); last drain \(3m ago\) saw 5m$/m);
  });

  it('when CloudWatch keeps failing with 5xx, it gives up after a retry and shows n/a', async () => {
    cloudwatch.setFailure('unavailable');
    const result = await runCli(['status', '--json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).buffer.oldestMessageAge).toMatchObject({ seconds: null, unavailable: expect.stringContaining('InternalServiceFault') });
  });

  it('when CloudWatch has no datapoints (idle queue), it shows n/a (no datapoints)', async () => {
    await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: '{}', MessageGroupId: 'repo:a/b', MessageDeduplicationId: 'status-none' }));
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  oldest:      n/a (no CloudWatch datapoints in the last 15 minutes)');
  });

  it('when the drain status parameter is only in a saved outputs file, it is read from there', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spigot-status-'));
    const file = path.join(dir, 'outputs.json');
    writeFileSync(file, JSON.stringify({ drain_status_parameter_name: { sensitive: false, type: 'string', value: drainStatus } }));
    ssm.putDirect(drainStatus, drainRecord());
    const { SPIGOT_DRAIN_STATUS_PARAMETER: _omit, ...withoutIt } = env;
    const result = await runCli(['status', '--outputs-file', file, '--json'], { env: withoutIt, cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).lastDrain).toMatchObject({ status: 'recorded', parameterName: drainStatus });
  });

  it('when everything required comes from flags or environment, it does not run terraform just for the drain status', async () => {
    const { SPIGOT_DRAIN_STATUS_PARAMETER: _omit, ...withoutIt } = env;
    const dir = mkdtempSync(path.join(tmpdir(), 'spigot-status-'));
    const marker = path.join(dir, 'terraform-ran');
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'terraform'), `#!/bin/sh\ntouch '${marker}'\necho '{}'\n`);
    chmodSync(path.join(dir, 'bin', 'terraform'), 0o755);
    const result = await runCli(['status', '--state-dir', '.'], { env: { ...withoutIt, PATH: `${dir}/bin:${process.env.PATH}` }, cwd: dir });
    expect(result.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(result.stdout).toContain('last drain:    unknown (no drain status parameter configured');
  });
});

describe('status pieces without AWS', () => {
  const send = (impl: () => Promise<unknown>) => ({ send: jest.fn(impl) }) as unknown as Pick<CloudWatchClient, 'send'> & { send: jest.Mock };

  it('when the CloudWatch client throws (e.g. no credentials), readOldestMessageAge returns a short one-line reason', async () => {
    const error = Object.assign(new Error('Could not load credentials from any providers\nsecond line'), { name: 'CredentialsProviderError' });
    const age = await readOldestMessageAge(send(async () => Promise.reject(error)), 'https://sqs.us-east-1.amazonaws.com/123456789012/spigot-buffer.fifo');
    expect(age).toEqual({
      seconds: null,
      at: null,
      queueName: 'spigot-buffer.fifo',
      unavailable: 'CloudWatch GetMetricData failed: CredentialsProviderError: Could not load credentials from any providers second line',
    });
  });

  it('when a result is partial with messages and no values, it reports them; a queue URL without a name is n/a without a call', async () => {
    const cw = send(async () => ({ MetricDataResults: [{ Id: 'oldest', Values: [], Timestamps: [], StatusCode: 'Forbidden', Messages: [{ Code: 'Forbidden', Value: 'no access to AWS/SQS' }] }] }));
    expect((await readOldestMessageAge(cw, 'https://sqs.example/1/q.fifo')).unavailable).toBe(
      'no CloudWatch datapoints in the last 15 minutes, status Forbidden: no access to AWS/SQS',
    );
    const none = send(async () => ({}));
    expect((await readOldestMessageAge(none, 'not a url')).unavailable).toBe('cannot tell the queue name from not a url');
    expect(none.send).not.toHaveBeenCalled();
  });

  it('when numbers have the wrong type, they read as null and print as ?', () => {
    const parsed = parseDrainStatus('/x', JSON.stringify({ at: '2026-01-01T00:00:00.000Z', released: '12', held: 1, oldestMessageAgeSeconds: null }));
    expect(parsed).toMatchObject({ status: 'recorded', run: { released: null, held: 1, oldestMessageAgeSeconds: null, trigger: null, action: null } });
    const now = new Date('2026-01-01T02:05:00.000Z');
    const report: StatusReport = {
      spigot: { state: 'open', recognised: true, value: 'open', parameterName: '/x/spigot', version: 1, changedBy: null, changedAt: null, reason: null },
      buffer: { queueUrl: 'q', visible: 0, inFlight: 0, oldestMessageAgeSeconds: null, oldestMessageAge: { seconds: null, at: null, queueName: 'q', unavailable: 'why' } },
      deadLetters: { queueUrl: 'd', visible: 0, inFlight: 0 },
      lastDrain: parsed,
    };
    const text = formatStatus(report, now);
    expect(text).toContain('last drain:    2026-01-01T00:00:00.000Z (2h 5m ago) released ?, held 1, dead-lettered ? (unknown trigger; spigot ?)');
    expect(text).toContain('  oldest:      n/a (why)\n'); // no hint: the run saw no message age
    expect(text).not.toContain('action:');
  });
});
