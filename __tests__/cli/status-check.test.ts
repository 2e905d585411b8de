import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { checkStatus } from '../../cli/commands/status-check';
import type { StatusReport } from '../../cli/commands/status';
import { parseDuration, sinceOption } from '../../cli/duration';
import type { BufferQueues, Fauxqs } from '../support/fauxqs';
import type { LoopbackSsm } from '../support/loopback-ssm';
import { cliEnv, runCli, useCliEmulators } from './harness';

const minutesAgo = (minutes: number): string => new Date(Date.now() - minutes * 60_000).toISOString();

describe('spigot status --check', () => {
  const emulators = useCliEmulators('cli-check', { ssm: true });
  let fauxqs: Fauxqs;
  let ssm: LoopbackSsm;
  let queues: BufferQueues;
  const parameter = '/cli-check/spigot';
  const drainStatus = '/cli-check/drain-status';
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    [fauxqs, ssm, queues] = [emulators.fauxqs(), emulators.ssm(), emulators.queues()];
    env = cliEnv({ SPIGOT_PARAMETER_NAME: parameter, SPIGOT_QUEUE_URL: queues.queueUrl, SPIGOT_DLQ_URL: queues.dlqUrl, SPIGOT_DRAIN_STATUS_PARAMETER: drainStatus });
    ssm.putDirect(parameter, 'open', { description: 'opened by alice via spigot CLI' });
    ssm.putDirect(drainStatus, JSON.stringify({ at: minutesAgo(1), trigger: 'schedule', spigot: 'open', action: 'released', released: 3 }));
  });

  it('when the spigot is open, the DLQ empty and the drain ran a minute ago, it exits 0 and says ok', async () => {
    const result = await runCli(['status', '--check'], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^check: {9}ok \(open, no dead letters, drain ran within the last 5m\)$/m);
  });

  it('when all three are wrong, it exits 3, lists each on stdout and names them in one stderr line', async () => {
    ssm.putDirect(parameter, 'closed', { description: 'closed by bob via spigot CLI: upgrade' });
    ssm.putDirect(drainStatus, JSON.stringify({ at: minutesAgo(12), trigger: 'schedule', spigot: 'closed', action: 'held (spigot closed)' }));
    for (const n of [1, 2]) {
      await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{}', MessageGroupId: 'repo:a/b', MessageDeduplicationId: `check-${n}` }));
    }
    const result = await runCli(['status', '--check'], { env });
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('check:         NOT OK');
    expect(result.stdout).toContain('  - spigot: the spigot is closed (closed by bob via spigot CLI: upgrade)');
    expect(result.stdout).toContain('  - dead-letters: 2 dead letter(s) in the DLQ (`spigot dlq list`)');
    expect(result.stdout).toMatch(/ {2}- drain: the drain last ran 12m ago, more than 5m/);
    expect(result.stderr).toMatch(/^spigot: status check failed: the spigot is closed \(.*\); 2 dead letter\(s\) in the DLQ .*; the drain last ran 12m ago, more than 5m .*\n$/);

    const json = await runCli(['status', '--check', '--json'], { env });
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout).check).toMatchObject({ ok: false, maxDrainAgeSeconds: 300, problems: [{ check: 'spigot' }, { check: 'dead-letters' }, { check: 'drain' }] });
  });

  it('when --max-drain-age allows the last run\'s age, the drain check passes; a bad duration is a usage error', async () => {
    ssm.putDirect(drainStatus, JSON.stringify({ at: minutesAgo(12), trigger: 'schedule', spigot: 'open', action: 'released' }));
    expect((await runCli(['status', '--check'], { env })).code).toBe(3);
    expect((await runCli(['status', '--check', '--max-drain-age', '15m'], { env })).code).toBe(0);
    const bad = await runCli(['status', '--check', '--max-drain-age', 'soon'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('must be a duration such as 90s, 5m, 2h or 1d');
  });

  it('when --allow-dead-letters covers the dead letters known from before, the dead-letter check passes until there are more', async () => {
    for (const n of [1, 2]) {
      await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.dlqUrl, MessageBody: '{}', MessageGroupId: 'repo:a/b', MessageDeduplicationId: `known-${n}` }));
    }
    expect((await runCli(['status', '--check', '--allow-dead-letters', '2'], { env })).code).toBe(0);
    const more = await runCli(['status', '--check', '--allow-dead-letters', '1'], { env });
    expect(more.code).toBe(3);
    expect(more.stderr).toContain('2 dead letter(s) in the DLQ, more than the 1 allowed');
    expect((await runCli(['status', '--check', '--allow-dead-letters', '-1'], { env })).code).toBe(2);
  });

  it('when the drain never recorded a run or its status parameter is missing, the drain check fails', async () => {
    ssm.putDirect(drainStatus, '{}');
    const never = await runCli(['status', '--check'], { env });
    expect(never.code).toBe(3);
    expect(never.stderr).toContain('the drain has not recorded a run yet');
    const unknown = await runCli(['status', '--check', '--drain-status-parameter', '/nope/drain-status'], { env });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('cannot tell when the drain last ran: the parameter /nope/drain-status does not exist');
  });

  it('without --check, a closed spigot and dead letters still exit 0', async () => {
    ssm.putDirect(parameter, 'closed', { description: 'closed by bob via spigot CLI: upgrade' });
    const result = await runCli(['status'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('check:');
  });
});

describe('status checks and durations without AWS', () => {
  const report = (over: Partial<StatusReport> = {}): StatusReport => ({
    spigot: { state: 'open', recognised: true, value: 'open', parameterName: '/x/spigot', version: 1, changedBy: null, changedAt: null, reason: null },
    buffer: { queueUrl: 'q', visible: 7, inFlight: 2, oldestMessageAgeSeconds: null, oldestMessageAge: { seconds: null, at: null, queueName: 'q', unavailable: 'x' } },
    deadLetters: { queueUrl: 'd', visible: 0, inFlight: 1 },
    lastDrain: { status: 'recorded', parameterName: '/x/drain-status', run: { at: '2026-01-01T00:00:00.000Z', trigger: null, spigot: null, action: null, reason: null, released: null, held: null, retried: null, deadLettered: null, discarded: null, oldestMessageAgeSeconds: null, durationMs: null } },
    ...over,
  });

  it('when a dead letter is in flight or the value is unrecognised, those count; a full buffer alone does not', () => {
    const now = new Date('2026-01-01T00:04:00.000Z');
    expect(checkStatus(report(), now).problems).toEqual([{ check: 'dead-letters', message: '1 dead letter(s) in the DLQ (`spigot dlq list`)' }]);
    const odd = report({ spigot: { ...report().spigot, state: 'closed', recognised: false, value: 'paused' }, deadLetters: { queueUrl: 'd', visible: 0, inFlight: 0 } });
    expect(checkStatus(odd, now).problems).toEqual([{ check: 'spigot', message: 'the spigot holds "paused", which counts as closed (no description)' }]);
    expect(checkStatus(report({ deadLetters: { queueUrl: 'd', visible: 0, inFlight: 0 } }), now)).toEqual({ ok: true, maxDrainAgeSeconds: 300, allowedDeadLetters: 0, problems: [] });
  });

  it('when durations are typed, they read as seconds; --since takes a duration back from now or an ISO time', () => {
    expect([parseDuration('90s'), parseDuration('5m'), parseDuration('1h30m'), parseDuration('2d'), parseDuration('45')]).toEqual([90, 300, 5400, 172800, 45]);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('5 m')).toBeUndefined();
    const now = () => Date.parse('2026-05-04T12:00:00Z');
    expect(sinceOption('2h', now)).toBe(Date.parse('2026-05-04T10:00:00Z'));
    expect(sinceOption('2026-05-04T11:00:00Z', now)).toBe(Date.parse('2026-05-04T11:00:00Z'));
    expect(() => sinceOption('yesterday', now)).toThrow('must be a duration back from now');
  });
});
