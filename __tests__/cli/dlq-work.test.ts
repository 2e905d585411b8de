import { matchFilter } from '../../cli/commands/dlq-redrive';
import type { DeadLetter } from '../../cli/commands/dlq-list';
import { queueDepth, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { BODY_MARKER, deadLetter, drainBuffer, envelope } from './dead-letters';
import { cliEnv, runCli, runCliInTerminal, useCliEmulators } from './harness';

const NO_JOB = { status: '404', reason: 'Jenkins answered 404: no job for this repository' };

describe('spigot dlq show, drop and filtered redrive', () => {
  const emulators = useCliEmulators('cli-dlq-work');
  let fauxqs: Fauxqs;
  let queues: BufferQueues;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    fauxqs = emulators.fauxqs();
    queues = emulators.queues();
    env = cliEnv({ SPIGOT_QUEUE_URL: queues.queueUrl, SPIGOT_DLQ_URL: queues.dlqUrl });
  });

  const listIds = async (): Promise<string[]> =>
    JSON.parse((await runCli(['dlq', 'list', '--json'], { env })).stdout).deadLetters.map((d: { deliveryId: string }) => d.deliveryId);

  it('when shown, a dead letter has its headers with signatures and tokens redacted, and no body unless --body', async () => {
    const body = envelope('octo/cat', 1, 'push', 'req-cat-1', {
      headers: [['X-Hub-Signature-256', 'sha256=abc123'], ['X-Gitlab-Token', 'glpat-secret'], ['User-Agent', 'GitHub-Hookshot/1']],
      query: [['token', 'generic-trigger-token'], ['job', 'build']],
    });
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, NO_JOB, { body });
    const shown = await runCli(['dlq', 'show', 'delivery-octo-cat-1'], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('dead letter delivery-octo-cat-1');
    expect(shown.stdout).toMatch(/^ {2}repository: {2}octo\/cat \(group repo:octo\/cat\)$/m);
    expect(shown.stdout).toMatch(/^ {2}status: {6}404$/m);
    expect(shown.stdout).toContain('  reason:      Jenkins answered 404: no job for this repository');
    expect(shown.stdout).toContain('  request id:  req-cat-1');
    expect(shown.stdout).toContain('  X-Hub-Signature-256: (redacted)');
    expect(shown.stdout).toContain('  X-Gitlab-Token: (redacted)');
    expect(shown.stdout).toContain('  User-Agent: GitHub-Hookshot/1');
    expect(shown.stdout).toContain('  token=(redacted)');
    expect(shown.stdout).toContain('  job=build');
    expect(shown.stdout).toMatch(/^body: {10}\d+ bytes \(--body prints it\)$/m);
    for (const secret of [BODY_MARKER, 'abc123', 'glpat-secret', 'generic-trigger-token']) expect(shown.stdout + shown.stderr).not.toContain(secret);

    const withBody = await runCli(['dlq', 'show', 'req-cat-1', '--body'], { env });
    expect(withBody.stdout).toContain(BODY_MARKER);
    expect(withBody.stdout).not.toContain('abc123');
    const json = JSON.parse((await runCli(['dlq', 'show', 'req-cat-1', '--json'], { env })).stdout);
    expect(json.body).toBeUndefined();
    expect(json.deadLetter).toMatchObject({ requestId: 'req-cat-1', repository: 'octo/cat', status: '404' });
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('when the dead letter sits behind others of its repository, show still finds it; an unknown id exits 1', async () => {
    for (const n of [1, 2, 3]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n, NO_JOB);
    const shown = await runCli(['dlq', 'show', 'delivery-octo-cat-3'], { env });
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('  request id:  req-octo/cat-3');
    expect(await listIds()).toEqual(['delivery-octo-cat-1', 'delivery-octo-cat-2', 'delivery-octo-cat-3']);
    const missing = await runCli(['dlq', 'show', 'no-such-delivery'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no dead letter has the delivery id, request id or message id no-such-delivery');
  });

  it('when dropping one with --yes, only it is deleted; the rest of its repository stays in order and others are untouched', async () => {
    for (const n of [1, 2, 3, 4]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n, NO_JOB);
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/dog', 1, NO_JOB);
    const result = await runCli(['dlq', 'drop', 'delivery-octo-cat-3', '--yes'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^dropped push from octo\/cat received 2025-01-02T03:04:03.000Z \(delivery delivery-octo-cat-3, Jenkins answered 404: no job for this repository\); 3 other dead letter\(s\) of its repository kept, in order\n$/);
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 4, inFlight: 0 });
    expect((await runCli(['dlq', 'redrive', '--yes'], { env })).code).toBe(0);
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual(
      expect.arrayContaining([['repo:octo/cat', 1], ['repo:octo/cat', 2], ['repo:octo/cat', 4], ['repo:octo/dog', 1]]),
    );
  });

  it('when dropping without --yes, it asks on a terminal and refuses on a pipe; a delivery id that matches twice needs the request id', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, NO_JOB);
    // GitHub's "Redeliver" reuses the delivery id: another accepted request, another request id.
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, NO_JOB, { dedupId: 'again', body: envelope('octo/cat', 1, 'push', 'req-redelivered') });
    const ambiguous = await runCli(['dlq', 'drop', 'delivery-octo-cat-1', '--yes'], { env });
    expect(ambiguous.code).toBe(1);
    expect(ambiguous.stderr).toContain('2 dead letters match delivery-octo-cat-1 (a redelivery reuses the delivery id): name one by its request id: request req-octo/cat-1 (octo/cat, push');
    expect(ambiguous.stderr).toContain('request req-redelivered');

    const piped = await runCli(['dlq', 'drop', 'req-redelivered'], { env });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('pass --yes to confirm (no terminal to ask on)');
    const declined = await runCliInTerminal(['dlq', 'drop', 'req-redelivered'], { env, input: 'n\n' });
    expect(declined.stdout).toContain('for good? [y/N]');
    expect(declined.code).toBe(1);
    expect(declined.stdout).toContain('drop cancelled; nothing was deleted');
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
    const accepted = await runCliInTerminal(['dlq', 'drop', 'req-redelivered'], { env, input: 'y\n' });
    expect(accepted.code).toBe(0);
    const left = JSON.parse((await runCli(['dlq', 'list', '--json'], { env })).stdout).deadLetters;
    expect(left.map((d: { requestId: string }) => d.requestId)).toEqual(['req-octo/cat-1']);
  });

  it('when redrive is filtered by --repo, only that repository moves, in order; the others stay as they were', async () => {
    for (const n of [1, 2, 3]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n, NO_JOB);
    for (const n of [1, 2]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/dog', n, NO_JOB);
    const result = await runCli(['dlq', 'redrive', '--repo', 'Octo/Cat', '--yes'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('moved 3 dead letter(s) matching --repo Octo/Cat back to the buffer');
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual([['repo:octo/cat', 1], ['repo:octo/cat', 2], ['repo:octo/cat', 3]]);
    expect(await listIds()).toEqual(['delivery-octo-dog-1', 'delivery-octo-dog-2']);
  });

  it('when redrive is filtered by --event, --status and --since, the matches move in order and the rest of the repository stays, in order', async () => {
    const at = (n: number) => Date.UTC(2026, 4, 4, 10, n);
    const events = ['push', 'issue_comment', 'push', 'push', 'issue_comment'];
    for (const [i, event] of events.entries()) {
      const n = i + 1;
      const copy = n === 4 ? { status: '500', reason: 'Jenkins 500 after 3 attempts' } : NO_JOB;
      await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n, copy, { body: envelope('octo/cat', n, event, `req-${n}`, { receivedAt: at(n) }) });
    }
    const byEvent = await runCli(['dlq', 'redrive', '--event', 'push', '--status', '4xx', '--yes', '--json'], { env });
    expect(byEvent.code).toBe(0);
    expect(JSON.parse(byEvent.stdout)).toMatchObject({ moved: 2, kept: 3, filter: { event: 'push', status: '4xx' } });
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual([['repo:octo/cat', 1], ['repo:octo/cat', 3]]);
    expect(await listIds()).toEqual(['delivery-octo-cat-2', 'delivery-octo-cat-4', 'delivery-octo-cat-5']);

    const since = await runCli(['dlq', 'redrive', '--since', new Date(at(4)).toISOString(), '--yes'], { env });
    expect(since.stdout).toContain('moved 2 dead letter(s) matching --since 2026-05-04T10:04:00.000Z back to the buffer');
    expect(since.stdout).toContain('kept 1 dead letter(s) of those repositories that did not match, in order');
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual([['repo:octo/cat', 4], ['repo:octo/cat', 5]]);
    expect(await listIds()).toEqual(['delivery-octo-cat-2']);
    const bad = await runCli(['dlq', 'redrive', '--since', 'last tuesday', '--yes'], { env });
    expect(bad.code).toBe(2);
  });
  const FORGED = { reason: 'signature mismatch: X-Hub-Signature-256 does not match the webhook secret; a delivery sent after it verified' };

  it('when dropping by --reason, every matching dead letter goes, in every repository, and the others stay in their order', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, NO_JOB);
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 2, FORGED);
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 3, NO_JOB);
    for (const n of [1, 2, 3]) await deadLetter(fauxqs.sqs, queues.dlqUrl, `mallory/random-${n}`, 1, FORGED);
    const result = await runCli(['dlq', 'drop', '--reason', 'Signature Mismatch', '--yes', '--json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ dropped: 4, kept: 2, remaining: 2, filter: { reason: 'Signature Mismatch' } });
    expect(Object.keys(JSON.parse(result.stdout).groups).sort()).toEqual(['repo:mallory/random-1', 'repo:mallory/random-2', 'repo:mallory/random-3', 'repo:octo/cat']);
    expect(await listIds()).toEqual(['delivery-octo-cat-1', 'delivery-octo-cat-3']);
  });

  it('when dropping with a filter on a pipe without --yes, it refuses and deletes nothing; with neither an id nor a filter, or with both, it says what to give', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'mallory/random-1', 1, FORGED);
    const piped = await runCli(['dlq', 'drop', '--reason', 'signature mismatch'], { env });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toContain('dlq drop would delete every dead letter matching --reason "signature mismatch" for good; pass --yes');
    const bare = await runCli(['dlq', 'drop', '--yes'], { env });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('say which dead letters to drop: an id, or filters such as --reason "signature mismatch"');
    const both = await runCli(['dlq', 'drop', 'delivery-mallory-random-1-1', '--reason', 'signature', '--yes'], { env });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('name one dead letter by its id, or filter (--reason "signature"), not both');
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('when redrive is filtered by --reason, only the matching dead letters move, in order', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, FORGED);
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 2, NO_JOB);
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 3, FORGED);
    const result = await runCli(['dlq', 'redrive', '--reason', 'signature mismatch', '--yes'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('moved 2 dead letter(s) matching --reason "signature mismatch" back to the buffer');
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual([['repo:octo/cat', 1], ['repo:octo/cat', 3]]);
    expect(await listIds()).toEqual(['delivery-octo-cat-2']);
  });
});

describe('redrive filters without AWS', () => {
  const dl = (over: Partial<DeadLetter>): DeadLetter => ({
    messageId: 'm', event: 'push', group: 'repo:octo/cat', repository: 'octo/cat', status: '404', reason: 'r',
    deliveryId: 'd', requestId: 'q', originalMessageId: null, receivedAt: '2026-05-04T10:00:00.000Z', route: '/github-webhook/', receiveCount: 1, ...over,
  });

  it('when statuses are given as a class, a code or none, each matches what it says', () => {
    expect(matchFilter(dl({}), { status: '4xx' })).toBe('match');
    expect(matchFilter(dl({}), { status: '5xx' })).toBe('no');
    expect(matchFilter(dl({}), { status: '404' })).toBe('match');
    expect(matchFilter(dl({ status: null }), { status: 'none' })).toBe('match');
    expect(matchFilter(dl({ status: null }), { status: '4xx' })).toBe('no');
  });

  it('when the repository differs, the whole repository is left alone; a route-level group never matches --repo', () => {
    expect(matchFilter(dl({}), { repo: 'octo/dog', event: 'push' })).toBe('other-repository');
    expect(matchFilter(dl({ repository: null, group: 'route:/github-webhook/' }), { repo: 'octo/cat' })).toBe('other-repository');
    expect(matchFilter(dl({ event: 'PUSH' }), { event: 'push', since: Date.parse('2026-05-04T10:00:00.000Z') })).toBe('match');
    expect(matchFilter(dl({ receivedAt: null }), { since: 0 })).toBe('no');
  });

  it('when filtered by reason, any dead letter whose reason contains the text matches, in any case', () => {
    expect(matchFilter(dl({ reason: 'signature mismatch: forged' }), { reason: 'SIGNATURE mismatch' })).toBe('match');
    expect(matchFilter(dl({ reason: 'Jenkins answered 404' }), { reason: 'signature mismatch' })).toBe('no');
  });
});
