import { accessLogFormat } from '../../stacks/constructs/webhook-api';
import { drainEvent, verdictOf, type TraceEvent } from '../../cli/commands/trace-events';
import { jsonPattern } from '../../cli/commands/trace';
import { createCell, drainToEmpty, startWorld, type Cell, type World } from '../drain/integration/world';
import { githubDelivery } from '../support/webhooks';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';
import { startLoopbackCloudWatch, type LoopbackCloudWatch } from './loopback-cloudwatch';

const DRAIN_LOG = '/aws/lambda/cli-trace-drain';
const ACCESS_LOG = '/aws/apigateway/cli-trace/access';

/** An access log line as API Gateway writes it with the stack's format. */
function accessLine(context: { requestId: string; at: number; status: number; errorType?: string; integrationStatus?: string }): string {
  const values: Record<string, string> = {
    '$context.requestId': context.requestId,
    '$context.identity.sourceIp': '192.0.2.10',
    '$context.requestTimeEpoch': String(context.at),
    '$context.httpMethod': 'POST',
    '$context.resourcePath': '/github-webhook/',
    '$context.status': String(context.status),
    '$context.responseLength': '60',
    '$context.integration.status': context.integrationStatus ?? (context.status === 202 ? '200' : '-'),
    '$context.error.responseType': context.errorType ?? '-',
    '$context.identity.userAgent': 'GitHub-Hookshot/a1b2c3d',
  };
  const line = Object.fromEntries(Object.entries(accessLogFormat('cli-trace')).map(([k, v]) => [k, values[v] ?? v]));
  return JSON.stringify(line);
}

describe('spigot trace, over the real drain\'s log lines', () => {
  let world: World;
  let cloudwatch: LoopbackCloudWatch;
  let cell: Cell;
  let env: NodeJS.ProcessEnv;
  const sent: Record<string, { deliveryId: string; requestId: string }> = {};
  let refusedRequestId: string;

  beforeAll(async () => {
    [world, cloudwatch] = await Promise.all([startWorld(), startLoopbackCloudWatch()]);
    useEmulatorEnvironment({ sqs: world.emulator.endpoint, ssm: world.ssm.endpoint, logs: cloudwatch.endpoint });
    cell = await createCell(world, 'cli-trace');
    const accept = async (name: string, repo: string) => {
      const delivery = githubDelivery({ event: 'push', repo, contentType: 'json' });
      const answer = await cell.edge.accept({ path: '/github-webhook/', headers: delivery.headers, body: delivery.body });
      expect(answer.status).toBe(202);
      cloudwatch.putLogEvents(ACCESS_LOG, [{ timestamp: Date.now(), message: accessLine({ requestId: answer.requestId, at: Date.now(), status: 202 }) }]);
      sent[name] = { deliveryId: delivery.deliveryId, requestId: answer.requestId };
      return delivery;
    };
    const poison = await accept('poison', 'octo-org/no-job');
    for (let i = 0; i < 4; i++) await accept(`good-${i}`, 'octo-org/has-job');
    // A delivery API Gateway refused (unsupported media type): only the access log knows it.
    const refused = githubDelivery({ event: 'push', repo: 'octo-org/has-job', contentType: 'json' });
    const answer = await cell.edge.accept({ path: '/github-webhook/', headers: [...refused.headers.filter(([k]) => k !== 'Content-Type'), ['Content-Type', 'text/plain']], body: refused.body });
    expect(answer.status).toBe(415);
    refusedRequestId = answer.requestId;
    cloudwatch.putLogEvents(ACCESS_LOG, [{ timestamp: Date.now(), message: accessLine({ requestId: answer.requestId, at: Date.now(), status: 415, errorType: 'UNSUPPORTED_MEDIA_TYPE' }) }]);

    await cell.jenkins.setBehaviour({ kind: 'rejecting', deliveryIds: [poison.deliveryId] });
    await drainToEmpty(world, cell);
    // What the drain printed becomes its log group, as Lambda's JSON log format ingests it.
    const lines = cell.output.filter((l) => l.trim().startsWith('{"level"'));
    expect(lines.some((l) => l.includes('"dead-lettered webhook"'))).toBe(true);
    cloudwatch.putLogEvents(DRAIN_LOG, lines.map((message) => ({ timestamp: Date.parse(JSON.parse(message).timestamp), message: message.trim() })));
    env = cliEnv({
      SPIGOT_QUEUE_URL: cell.queues.queueUrl,
      SPIGOT_DLQ_URL: cell.queues.dlqUrl,
      SPIGOT_PARAMETER_NAME: cell.parameterName,
      SPIGOT_DRAIN_LOG_GROUP: DRAIN_LOG,
      SPIGOT_ACCESS_LOG_GROUP: ACCESS_LOG,
    });
  });
  afterAll(async () => {
    await cell?.jenkins.stop();
    await Promise.all([world?.stop(), cloudwatch?.stop()]);
  });

  it('when a poison webhook is traced by its delivery id, it shows its acceptance, the refusal, the dead-lettering and where it is now', async () => {
    const result = await runCli(['trace', sent.poison!.deliveryId], { env });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^trace of ${sent.poison!.deliveryId} since \\S+Z:$`));
    const what = lines.slice(2).filter((l) => /^\S+\s+(api|drain|dlq)\s/.test(l));
    expect(what[0]).toMatch(new RegExp(`^\\S+Z\\s+api\\s+API Gateway accepted it: 202, queued \\(request ${sent.poison!.requestId}, POST /github-webhook/\\)$`));
    expect(what.some((l) => /\bdrain\s+Jenkins refused it \(400: /.test(l))).toBe(true);
    expect(what.some((l) => /\bdrain\s+dead-lettered: 400, /.test(l))).toBe(true);
    expect(what[what.length - 1]).toMatch(/^now\s+dlq\s+in the dead-letter queue now: 400, /);
    expect(result.stdout).toMatch(new RegExp(`^now: in the dead-letter queue: .*\\(\`spigot dlq show ${sent.poison!.deliveryId}\`\\)$`, 'm'));
    const json = JSON.parse((await runCli(['trace', sent.poison!.deliveryId, '--json'], { env })).stdout);
    expect(json.verdict.state).toBe('dead-letter');
    expect(json.events.map((e: TraceEvent) => e.kind)).toEqual(['accepted', 'refused-by-jenkins', 'dead-lettered', 'in-dlq']);
    // Searched by the delivery id, then by the ids the DLQ names, then the access log by request id.
    expect(cloudwatch.logQueries.some((q) => q.logGroupName === ACCESS_LOG && q.filterPattern?.includes(sent.poison!.requestId))).toBe(true);
  });

  it('when a webhook was released by the drain, trace shows when and what Jenkins answered, from the drain\'s own release line', async () => {
    const result = await runCli(['trace', sent['good-1']!.requestId, '--json'], { env });
    expect(result.code).toBe(0);
    const traced = JSON.parse(result.stdout);
    expect(traced.events.map((e: TraceEvent) => e.kind)).toEqual(['accepted', 'released']);
    expect(traced.verdict).toEqual({ state: 'released', text: expect.stringMatching(/^released to Jenkins at \S+; Jenkins answered 200$/) });
  });

  it('when API Gateway refused the delivery, trace by request id says it was never queued and why', async () => {
    const result = await runCli(['trace', refusedRequestId], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('API Gateway refused it: 415 (UNSUPPORTED_MEDIA_TYPE); it was never queued');
    expect(result.stdout).toContain('now: never queued: API Gateway answered 415; the sender has to redeliver it');
  });

  it('when --repo is given, it lists what the drain logged for that repository and its dead letters', async () => {
    const result = await runCli(['trace', '--repo', 'octo-org/No-Job', '--since', '1h'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^webhooks of octo-org\/No-Job the drain logged since \S+Z:$/m);
    expect(result.stdout).toMatch(/dead-lettered: 400, /);
    expect(result.stdout).toContain('dead letters of octo-org/No-Job now: 1 (`spigot dlq list`)');
    expect(cloudwatch.logQueries.some((q) => q.filterPattern === '{ ($.group = "repo:octo-org/no-job") }')).toBe(true);
  });

  it('when nothing names the id, it exits 1; a malformed id or a missing argument is a usage error', async () => {
    const unknown = await runCli(['trace', 'no-such-delivery'], { env });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^spigot: no trace of no-such-delivery since \S+: older \(--since\), not logged yet/);
    expect((await runCli(['trace', 'bad"id'], { env })).code).toBe(2);
    expect((await runCli(['trace'], { env })).code).toBe(2);
  });

  it('when CloudWatch Logs denies access, it fails in one line naming the call', async () => {
    cloudwatch.setLogsFailure('denied');
    try {
      const result = await runCli(['trace', sent.poison!.deliveryId], { env });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^spigot: searching \/aws\/lambda\/cli-trace-drain \(logs:FilterLogEvents\) failed: AccessDeniedException: .*\n$/);
    } finally {
      cloudwatch.setLogsFailure(null);
    }
  });
});

describe('trace events without AWS', () => {
  const line = (fields: Record<string, unknown>) => JSON.stringify({ level: 'INFO', timestamp: '2026-05-04T10:00:00.000Z', service: 'spigot-drain', ...fields });

  it('when the drain logs a release with the delivery id (the line asked of the drain), the verdict is released with Jenkins\' answer', () => {
    const events = [
      drainEvent(line({ message: 'webhook received again; Jenkins may have seen it before', messageId: 'm1', deliveryId: 'd1', receiveCount: 2 }), 0)!,
      drainEvent(line({ message: 'released webhook', messageId: 'm1', deliveryId: 'd1', requestId: 'r1', group: 'repo:a/b', status: 200 }), 0)!,
    ];
    expect(events.map((e) => e.kind)).toEqual(['received-again', 'released']);
    expect(events[1]).toMatchObject({ deliveryId: 'd1', requestId: 'r1', group: 'repo:a/b', status: '200', text: 'released to Jenkins, which answered 200' });
    expect(verdictOf(events)).toEqual({ state: 'released', text: 'released to Jenkins at 2026-05-04T10:00:00.000Z; Jenkins answered 200' });
  });

  it('when the drain has seen a webhook but not released it and the buffer still holds some, it is held; run-level lines are not webhook events', () => {
    const seen = [drainEvent(line({ message: 'webhook refused; holding its repository until Jenkins accepts another webhook', messageId: 'm1', status: 404, reason: 'no job' }), 0)!];
    expect(verdictOf(seen, { spigot: 'open', waiting: 3, inFlight: 1 })).toMatchObject({ state: 'in-the-drain', text: expect.stringContaining('(spigot open; buffer: 3 waiting, 1 in flight)') });
    expect(drainEvent(line({ message: 'drain run finished', released: 3 }), 0)).toBeUndefined();
    expect(drainEvent('not json', 0)).toBeUndefined();
    expect(drainEvent(line({ message: 'something new', messageId: 'm2' }), 0)).toMatchObject({ kind: 'other', text: 'INFO: something new' });
  });

  it('when ids are combined into a filter pattern, each field is OR-ed with each value', () => {
    expect(jsonPattern(['deliveryId', 'requestId'], ['a', 'b'])).toBe('{ ($.deliveryId = "a") || ($.requestId = "a") || ($.deliveryId = "b") || ($.requestId = "b") }');
  });
});
