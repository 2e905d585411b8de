/**
 * What a Jenkins upgrade really does to the drain, end to end: webhooks accepted by the Edge
 * into an SQS emulator (fauxqs, or LocalStack, which returns several messages of a repository
 * per receive as SQS does), released by the BUNDLED drain to a loopback Jenkins, the spigot in a
 * loopback SSM. Each case here is one way the first cut turned good webhooks into dead letters,
 * burnt receive counts, or overrode an operator.
 */
import type { SqsBackend } from '../../support/sqs-backends';
import { deadLetters, depth, drainToEmpty, enqueue, invoke, ledger, useWorld, type Cell } from './world';

/** Registers every case against one SQS emulator (one thin test file per backend). */
export function upgradeFailures(backend: SqsBackend): void {
  const { world: current, cell } = useWorld(backend);
  const dlq = (c: Cell) => deadLetters(current().emulator.sqs, c.queues.dlqUrl);
  const spigot = (c: Cell) => current().ssm.parameter(c.parameterName);
  const puts = (c: Cell) => current().ssm.calls.filter((call) => call.name === c.parameterName && call.action === 'PutParameter');

  describe('a Jenkins whose probe passes but which refuses every webhook', () => {
    it.each([
      [404, /is the GitHub plugin .* loaded\?/],
      [403, /proxy, CSRF or authorization rule/],
      [302, /redirects webhooks: check jenkinsUrl/],
    ])('when Jenkins answers %i to every webhook, it closes the spigot saying what to check and dead-letters nothing', async (status, hint) => {
      const c = await cell(`refusing-${status}`, { jenkinsBehaviour: { kind: 'refusing', status } });
      const sent = await enqueue(c, 24, 6);
      const { result } = await invoke(c);
      expect(result.action).toBe('auto-closed');
      expect(result.reason).toMatch(new RegExp(`Jenkins answered ${status} to \\d+ webhooks from \\d+ repositories in a row`));
      expect(result.reason).toMatch(hint);
      expect(await dlq(c)).toEqual([]);
      expect(spigot(c)).toMatchObject({ value: 'closed', description: expect.stringContaining(`Jenkins answered ${status}`) });
      // At most one webhook per repository was tried; the rest never left the buffer.
      expect(c.jenkins.deliveries.length).toBeLessThanOrEqual(6);

      // After the fix, an operator reopens and everything arrives, in order, from the head of each repository.
      await c.jenkins.setBehaviour('healthy');
      current().ssm.putDirect(c.parameterName, 'open', { description: 'plugin fixed' });
      await drainToEmpty(current(), c);
      expect(ledger(sent, c.jenkins)).toMatchObject({ delivered: 24, lost: [], outOfOrder: [], corrupted: [] });
    });

    it('when Jenkins\' secret was rotated (400 to every signature), it closes the spigot and dead-letters nothing', async () => {
      const c = await cell('jenkins-secret-rotated', { jenkinsSecret: 'the new secret' });
      await enqueue(c, 20, 5);
      const { result } = await invoke(c);
      expect(result.action).toBe('auto-closed');
      expect(result.reason).toMatch(/Jenkins answered 400 .* webhook secret/);
      expect(await dlq(c)).toEqual([]);
      expect(await depth(current(), c)).toBe(20);
    });

    it('when the drain\'s own secret parameter no longer matches the hooks, it closes the spigot with "check the webhook secret", sends nothing and dead-letters nothing', async () => {
      const c = await cell('drain-secret-rotated', { webhookSecret: true, drainSecretValue: 'rotated in SSM only' });
      await enqueue(c, 20, 5);
      const { result } = await invoke(c);
      expect(result.action).toBe('auto-closed');
      expect(result.reason).toMatch(/signature check failed .* check the webhook secret/);
      expect(c.jenkins.deliveries).toEqual([]);
      expect(await dlq(c)).toEqual([]);
      expect(await depth(current(), c)).toBe(20);
    });

    it('when only one webhook is refused while other repositories succeed around it, only that one is dead-lettered and its repository carries on in order', async () => {
      const c = await cell('standalone-refusal');
      const sent = await enqueue(c, 12, 4);
      const poison = sent[5]; // the second webhook of repo-1
      await c.jenkins.setBehaviour({ kind: 'rejecting', deliveryIds: [poison.deliveryId] });
      await drainToEmpty(current(), c);
      const letters = await dlq(c);
      expect(letters.map((l) => l.deliveryId)).toEqual([poison.deliveryId]);
      expect(letters[0]).toMatchObject({ status: '400', reason: 'Jenkins answered 400' });
      expect(ledger(sent, c.jenkins, new Set([poison.deliveryId]))).toMatchObject({ delivered: 11, lost: [], outOfOrder: [] });
    });
  });

  describe('holds never burn receive counts', () => {
    it('when a message was first received more than 12 hours ago, a 503 with Retry-After: 120 still holds it 120 s and the spigot stays open', async () => {
      const c = await cell('first-received-long-ago', { jenkinsBehaviour: { kind: 'flaky', failureRate: 1, retryAfterSeconds: 120 } });
      await enqueue(c, 1, 1);
      // What SQS reports for a message first received before a weekend with the spigot closed.
      const longAgo = String(Date.now() - 13 * 3600 * 1000);
      current().proxy.setRewrite('ReceiveMessage', (output) => {
        const messages = (output.Messages ?? []) as Array<{ Attributes?: Record<string, string> }>;
        for (const m of messages) m.Attributes = { ...m.Attributes, ApproximateFirstReceiveTimestamp: longAgo, ApproximateReceiveCount: '40' };
        return output;
      });
      try {
        const { result } = await invoke(c);
        expect(result.action).toBe('released');
        expect(c.jenkins.deliveries).toHaveLength(1);
        const holds = current().proxy.calls.filter((call) => call.action === 'ChangeMessageVisibilityBatch' && call.queueUrl === c.queues.queueUrl);
        const seconds = holds.flatMap((call) => ((call.input?.Entries ?? []) as Array<{ VisibilityTimeout: number }>).map((e) => e.VisibilityTimeout));
        expect(seconds.length).toBeGreaterThan(0);
        expect(Math.min(...seconds)).toBeGreaterThanOrEqual(120);
        expect(spigot(c)?.value).toBe('open');
      } finally {
        current().proxy.setRewrite('ReceiveMessage', null);
      }
    });

    it('when Jenkins answers one repository 503 with Retry-After: 1, the drain retries it inside the run without receiving it again', async () => {
      const c = await cell('retry-after-one', { jenkinsBehaviour: { kind: 'flaky', failureRate: 1, retryAfterSeconds: 1 }, extra: { MAX_RUN_SECONDS: '4' } });
      const sent = await enqueue(c, 1, 1);
      const before = current().proxy.calls.length;
      const run = invoke(c);
      // Two busy answers, then Jenkins takes it.
      while (c.jenkins.deliveries.length < 2) await new Promise((r) => setTimeout(r, 20));
      await c.jenkins.setBehaviour('healthy');
      await run;
      const received = current().proxy.calls.slice(before).filter((call) => call.action === 'ReceiveMessage' && call.queueUrl === c.queues.queueUrl);
      expect(received.length).toBeGreaterThan(0);
      expect(c.jenkins.deliveries.length).toBeGreaterThanOrEqual(3);
      expect(ledger(sent, c.jenkins)).toMatchObject({ delivered: 1, lost: [] });
      // The message was received once: the retries happened with it still in flight.
      expect(current().proxy.calls.slice(before).filter((call) => call.action === 'ChangeMessageVisibilityBatch' && call.queueUrl === c.queues.queueUrl)).toEqual([]);
      expect(await depth(current(), c)).toBe(0);
    });
  });

  describe('an operator\'s word always wins', () => {
    it('when an operator closes the spigot between the drain\'s re-read and its auto-close write, the operator\'s close and reason stand and auto-reopen never reopens it', async () => {
      const c = await cell('close-race', { extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '1' } });
      await enqueue(c, 4, 2);
      await c.jenkins.setBehaviour('down');
      // The operator's write lands exactly between the drain's GetParameter and its PutParameter.
      current().ssm.beforeAction('PutParameter', (input) => {
        if (input.Name !== c.parameterName) return;
        current().ssm.beforeAction('PutParameter', null);
        current().ssm.putDirect(c.parameterName, 'closed', { description: 'closed by jane: Jenkins 2.480 upgrade', user: 'arn:aws:iam::123456789012:user/jane' });
      });
      expect((await invoke(c)).result.action).toBe('auto-closed');
      expect(spigot(c)).toMatchObject({ value: 'closed', description: 'closed by jane: Jenkins 2.480 upgrade' });

      await c.jenkins.setBehaviour('healthy');
      for (let run = 0; run < 3; run += 1) expect((await invoke(c)).result).toMatchObject({ spigot: 'closed', action: 'held (spigot closed)' });
      expect(spigot(c)).toMatchObject({ value: 'closed', description: 'closed by jane: Jenkins 2.480 upgrade' });
      expect(c.jenkins.deliveries).toEqual([]);
    });

    it('when an operator closes with put-parameter and no description after an auto-close, the drain does not take it for its own', async () => {
      const c = await cell('close-without-description', { extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '1' } });
      await enqueue(c, 2, 2);
      await c.jenkins.setBehaviour('down');
      expect((await invoke(c)).result.action).toBe('auto-closed');
      // `aws ssm put-parameter --overwrite --value closed`: the description carries over.
      current().ssm.putDirect(c.parameterName, 'closed', { user: 'arn:aws:iam::123456789012:user/jane' });
      expect(spigot(c)?.description).toMatch(/^auto-closed by drain/);
      await c.jenkins.setBehaviour('healthy');
      for (let run = 0; run < 3; run += 1) expect((await invoke(c)).result.action).toBe('held (spigot closed)');
      expect(spigot(c)?.value).toBe('closed');
      expect(c.jenkins.deliveries).toEqual([]);
    });

    it('when an operator reopens while the drain is closing, the reopen stands', async () => {
      const c = await cell('reopen-race');
      await c.jenkins.setBehaviour('down');
      current().ssm.beforeAction('PutParameter', (input) => {
        if (input.Name !== c.parameterName) return;
        current().ssm.beforeAction('PutParameter', null);
        current().ssm.putDirect(c.parameterName, 'open', { description: 'opened by jane after the upgrade' });
      });
      expect((await invoke(c)).result.action).toBe('auto-closed');
      expect(spigot(c)).toMatchObject({ value: 'open', description: 'opened by jane after the upgrade' });
    });

    it('when the spigot is closed by an operator and the secret parameter is unreadable, a scheduled run with auto-reopen does not fail', async () => {
      const c = await cell('operator-closed-no-secret', {
        spigot: 'closed', spigotDescription: 'closed by jane', webhookSecret: true,
        extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '1' },
      });
      current().ssm.deleteDirect(`${c.parameterName}/webhook-secret`);
      const { result } = await invoke(c);
      expect(result).toMatchObject({ spigot: 'closed', action: 'held (spigot closed)' });
      expect(current().ssm.calls.filter((call) => call.name === `${c.parameterName}/webhook-secret`)).toEqual([]);
      expect(puts(c)).toEqual([]);
    });

    it('when the drain closed the spigot itself and nobody wrote since, auto-reopen still reopens it', async () => {
      const c = await cell('own-close-reopens', { extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '1' }, webhookSecret: true });
      const sent = await enqueue(c, 4, 2);
      await c.jenkins.setBehaviour('down');
      expect((await invoke(c)).result.action).toBe('auto-closed');
      await c.jenkins.setBehaviour('healthy');
      expect((await invoke(c)).result.action).toBe('reopened');
      await drainToEmpty(current(), c);
      expect(ledger(sent, c.jenkins)).toMatchObject({ delivered: 4, lost: [] });
    });
  });
}
