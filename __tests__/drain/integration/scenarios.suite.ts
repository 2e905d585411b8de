/**
 * The drain's required scenarios, end to end: webhooks accepted by the Edge (API Gateway
 * emulated from the synthesized templates) into an SQS emulator (fauxqs or LocalStack),
 * released by the BUNDLED drain handler to a loopback Jenkins, with the spigot in a loopback
 * SSM. SQS calls are counted by a proxy in front of the emulator, independently of the
 * drain's own metrics.
 */
import type { SqsBackend } from '../../support/sqs-backends';
import { queueDepth } from '../../support/sqs-queues';
import { WEBHOOK_SECRET, githubDelivery } from '../../support/webhooks';
import {
  deadLetters,
  depth,
  drainToEmpty,
  enqueue,
  invoke,
  ledger,
  useWorld,
  type Cell,
  type SentDelivery,
} from './world';

/** Registers every scenario against one SQS emulator (one thin test file per backend). */
export function drainScenarios(backend: SqsBackend): void {
  const { world: current, cell, cells } = useWorld(backend);

  const receives = (c: Cell) => current().proxy.count('ReceiveMessage', c.queues.queueUrl);
  /** The EMF records (one per run) among the drain's output lines. */
  const emf = (output: readonly string[]) =>
    output.flatMap((line) => {
      try {
        const record = JSON.parse(line) as Record<string, unknown>;
        return record._aws !== undefined ? [record] : [];
      } catch {
        return [];
      }
    });

  describe('spigot closed', () => {
    it.each([
      ['closed', 'closed'],
      ['OFF (alias, any case)', 'OFF'],
      ['an unrecognised value', 'garbage'],
      ['unreadable (SSM unavailable)', 'open'],
    ])('when the spigot is %s, the drain never calls ReceiveMessage and delivers nothing', async (label, value) => {
      const c = await cell(`closed-${value}`, { spigot: value });
      await enqueue(c, 6, 2);
      if (label.startsWith('unreadable')) current().ssm.setFailure('unavailable');
      let invocation;
      try {
        invocation = await invoke(c);
      } finally {
        current().ssm.setFailure(null);
      }
      expect(invocation.result.action).toBe('held (spigot closed)');
      expect(invocation.result.spigot).toBe('closed');
      expect(receives(c)).toBe(0);
      expect(current().proxy.calls.filter((call) => call.queueUrl === c.queues.queueUrl)).toEqual([]);
      // The drain's own EMF count agrees with the proxy.
      expect(emf(invocation.output).map((r) => r.SqsCalls)).toEqual([0]);
      expect(c.jenkins.deliveries).toHaveLength(0);
      expect(c.jenkins.probeCount).toBe(0);
      expect(await queueDepth(current().emulator.sqs, c.queues.queueUrl)).toEqual({ visible: 6, inFlight: 0 });
      // Nothing rewrote the operator's value.
      expect(current().ssm.parameter(c.parameterName)?.value).toBe(value);
      if (value === 'garbage') expect(invocation.output.join('\n')).toContain('unrecognised value');
      if (label.startsWith('unreadable')) expect(invocation.output.join('\n')).toContain('could not read the spigot parameter');
    });
  });

  describe('spigot open', () => {
    it('with Jenkins healthy, every webhook arrives byte-exact, correctly signed, in order per repository', async () => {
      const c = await cell('open-healthy', { spigot: 'On', webhookSecret: true });
      const sent = await enqueue(c, 24, 4);
      const { result } = await invoke(c);
      expect(result.action).toBe('released');
      expect(result.stats?.released).toBe(24);
      const accepted = c.jenkins.accepted();
      expect(accepted).toHaveLength(24);
      expect(accepted.every((d) => d.signatureValid === true)).toBe(true);
      for (const s of sent) expect(accepted.find((d) => d.deliveryId === s.deliveryId)?.body.equals(s.body)).toBe(true);
      for (const repo of new Set(sent.map((s) => s.repo))) {
        expect(accepted.filter((d) => d.repo === repo).map((d) => d.deliveryId)).toEqual(sent.filter((s) => s.repo === repo).map((s) => s.deliveryId));
      }
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 24, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(await depth(current(), c)).toBe(0);
      expect(await deadLetters(current().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
    });

    // The batch paths (several messages of one repository in hand at once) run only where a receive hands them out.
    const several = backend === 'localstack';
    it(`when a repository has several webhooks queued, one receive hands the drain ${several ? 'several of them (as SQS does)' : 'one of them (fauxqs)'}, and all arrive in order`, async () => {
      const c = await cell('group-batch');
      const sent = await enqueue(c, 12, 2);
      await drainToEmpty(current(), c, 4);
      const batches = current().proxy.calls.filter((call) => call.queueUrl === c.queues.queueUrl && call.largestGroupBatch !== undefined);
      const largest = Math.max(0, ...batches.map((call) => call.largestGroupBatch!));
      if (several) expect(largest).toBeGreaterThan(1);
      else expect(largest).toBe(1);
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 12, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    });

    it('when Jenkins is the bottleneck (a backlog over many repositories, 20 ms a webhook), the drain receives ahead yet Jenkins never has more than CONCURRENCY webhooks at once, and every repository arrives in order', async () => {
      const c = await cell('jenkins-bound', { serviceTimeMs: 20, extra: { CONCURRENCY: '4' } });
      const sent = await enqueue(c, 48, 12);
      await drainToEmpty(current(), c, 4);
      expect(c.jenkins.maxInFlight).toBeLessThanOrEqual(4);
      // The cap was used, not just respected.
      expect(c.jenkins.maxInFlight).toBeGreaterThan(1);
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 48, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(await depth(current(), c)).toBe(0);
      expect(await deadLetters(current().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
    });

    it('with Jenkins down, the drain auto-closes the spigot saying why, and loses nothing', async () => {
      const c = await cell('jenkins-down', { jenkinsBehaviour: { kind: 'down' } });
      await enqueue(c, 9, 3);
      const { result } = await invoke(c);
      expect(result.action).toBe('auto-closed');
      const parameter = current().ssm.parameter(c.parameterName)!;
      expect(parameter.value).toBe('closed');
      expect(parameter.description).toMatch(/^auto-closed by drain/);
      expect(parameter.description).toContain('/whoAmI/api/json');
      expect(parameter.description).toMatch(/ECONNREFUSED/);
      expect(receives(c)).toBe(0);
      expect(await queueDepth(current().emulator.sqs, c.queues.queueUrl)).toEqual({ visible: 9, inFlight: 0 });
      expect(await deadLetters(current().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
    });

    it('with Jenkins answering 503 (Retry-After: 1) to 30% of webhooks, repeated runs deliver everything in order and dead-letter nothing', async () => {
      const c = await cell('flaky-503', { jenkinsBehaviour: { kind: 'flaky', failureRate: 0.3, seed: 7, retryAfterSeconds: 1 } });
      const sent = await enqueue(c, 18, 3);
      const runs = await drainToEmpty(current(), c, 15);
      const busy = c.jenkins.deliveries.filter((d) => d.status === 503).length;
      expect(busy).toBeGreaterThan(0); // the fault really happened
      expect(current().ssm.parameter(c.parameterName)?.value).toBe('open');
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 18, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(await deadLetters(current().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
      expect(runs).toBeGreaterThanOrEqual(1);
    });

    it('a poison delivery (400) goes to the DLQ with status, reason and its group, and the rest of its repository follows in order', async () => {
      const c = await cell('poison-400');
      const sent = await enqueue(c, 15, 3);
      const repo1 = sent.filter((s) => s.repo === 'octo-org/repo-1');
      const poison = repo1[1];
      await c.jenkins.setBehaviour({ kind: 'rejecting', deliveryIds: [poison.deliveryId] });
      await drainToEmpty(current(), c, 4);
      const dlq = await deadLetters(current().emulator.sqs, c.queues.dlqUrl);
      expect(dlq).toHaveLength(1);
      expect(dlq[0]).toMatchObject({ deliveryId: poison.deliveryId, status: '400', groupId: 'repo:octo-org/repo-1' });
      expect(dlq[0].reason).toContain('400');
      expect(dlq[0].body.equals(poison.body)).toBe(true);
      // Jenkins saw it once, and every later delivery of that repository after it.
      const seen = c.jenkins.deliveries.filter((d) => d.repo === 'octo-org/repo-1').map((d) => `${d.deliveryId}:${d.status}`);
      expect(seen).toEqual(repo1.map((s) => `${s.deliveryId}:${s === poison ? 400 : 200}`));
      expect(ledger(sent, c.jenkins, new Set([poison.deliveryId]))).toEqual({ delivered: 14, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    });

    it('at its deadline mid-batch the drain stops starting webhooks, leaves the rest visible, and a later run delivers them in order', async () => {
      // Each webhook may take HTTP_TIMEOUT_MS x MAX_ATTEMPTS + backoff = 5250 ms, plus a 3000 ms margin:
      // with 9 s left there is room for about 0.75 s of sending. One receive brings a batch spanning
      // eight repositories; two workers at 300 ms a delivery cannot finish it before the deadline.
      // The timeout is five times Jenkins' 300 ms, so a loaded machine does not time out (and resend) a POST.
      const c = await cell('deadline', { serviceTimeMs: 300, extra: { HTTP_TIMEOUT_MS: '1500', MAX_ATTEMPTS: '3', CONCURRENCY: '2' } });
      const sent = await enqueue(c, 24, 8);
      const first = await invoke(c, { remainingMs: 9000 });
      const stats = first.result.stats!;
      expect(first.result.action).toBe('released');
      expect(stats.released).toBeLessThan(24);
      expect(stats.held).toBeGreaterThan(0); // received, not started: handed back
      expect(first.output.join('\n')).toContain('deadline near');
      const left = await queueDepth(current().emulator.sqs, c.queues.queueUrl);
      expect(left).toEqual({ visible: 24 - stats.released, inFlight: 0 }); // held with visibility 0, not stranded
      await drainToEmpty(current(), c, 4);
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 24, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(await deadLetters(current().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
    });

    it('a smoke delivery (X-Spigot-Smoke) is deleted without reaching Jenkins', async () => {
      const c = await cell('smoke');
      const before = await enqueue(c, 2, 1);
      const smoke = await enqueue(c, 2, 1, { smoke: true });
      const after = await enqueue(c, 2, 1);
      const { result } = await invoke(c);
      expect(result.stats?.discarded).toBe(2);
      expect(c.jenkins.deliveries.map((d) => d.deliveryId)).toEqual([...before, ...after].map((s) => s.deliveryId));
      expect(c.jenkins.deliveries.some((d) => smoke.some((s) => s.deliveryId === d.deliveryId))).toBe(false);
      expect(await depth(current(), c)).toBe(0);
      expect(await deadLetters(current().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
    });

    it('a real event carrying the smoke header is still delivered: only pings are discarded', async () => {
      const c = await cell('smoke-header-on-push');
      const sent: SentDelivery[] = [];
      for (let i = 0; i < 2; i += 1) {
        const delivery = githubDelivery({ event: 'push', repo: 'octo-org/repo-0', contentType: 'json' });
        const headers: Array<[string, string]> = [...delivery.headers, ['X-Spigot-Smoke', 'not really']];
        expect((await c.edge.accept({ path: '/github-webhook/', headers, body: delivery.body })).status).toBe(202);
        sent.push({ repo: 'octo-org/repo-0', deliveryId: delivery.deliveryId, body: delivery.body });
      }
      const { result } = await invoke(c);
      expect(result.stats?.discarded).toBe(0);
      expect(c.jenkins.accepted().map((d) => d.deliveryId)).toEqual(sent.map((s) => s.deliveryId));
    });

    it('runs end on their own even when SQS is slow to answer ReceiveMessage (no lost wake-up), and deliver everything', async () => {
      const c = await cell('slow-receive');
      const sent = await enqueue(c, 12, 3);
      current().proxy.setDelay('ReceiveMessage', 300);
      try {
        // MAX_RUN_SECONDS is 2: invoke() fails any run that has not returned after 10 s.
        await drainToEmpty(current(), c, 6);
      } finally {
        current().proxy.setDelay('ReceiveMessage', 0);
      }
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 12, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    });
  });

  describe('auto-reopen (AUTO_REOPEN_AFTER_HEALTHY_PROBES=2)', () => {
    it('a spigot the drain closed reopens after two scheduled runs with healthy probes, then releases', async () => {
      const c = await cell('auto-reopen', { extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '2' } });
      const sent = await enqueue(c, 6, 2);
      await c.jenkins.setBehaviour('down');
      expect((await invoke(c)).result.action).toBe('auto-closed');
      await c.jenkins.setBehaviour('healthy');

      const firstHealthy = await invoke(c);
      expect(firstHealthy.result).toMatchObject({ spigot: 'closed', action: 'held (spigot closed)' });
      expect(current().ssm.parameter(c.parameterName)).toMatchObject({ value: 'closed', description: expect.stringMatching(/^auto-closed by drain.*healthy probes since: 1$/) });

      const secondHealthy = await invoke(c);
      expect(secondHealthy.result).toMatchObject({ spigot: 'open', action: 'reopened' });
      expect(current().ssm.parameter(c.parameterName)?.value).toBe('open');
      expect(receives(c)).toBe(0); // nothing moved while closed
      expect(c.jenkins.deliveries).toHaveLength(0);

      await drainToEmpty(current(), c, 3);
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: 6, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    });

    it('an unhealthy probe resets the count', async () => {
      const c = await cell('auto-reopen-reset', { extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '2' }, jenkinsBehaviour: { kind: 'starting' } });
      expect((await invoke(c)).result.action).toBe('auto-closed');
      await c.jenkins.setBehaviour('healthy');
      await invoke(c);
      expect(current().ssm.parameter(c.parameterName)?.description).toMatch(/healthy probes since: 1$/);
      await c.jenkins.setBehaviour('starting');
      await invoke(c);
      expect(current().ssm.parameter(c.parameterName)).toMatchObject({ value: 'closed', description: expect.stringMatching(/healthy probes since: 0$/) });
      await c.jenkins.setBehaviour('healthy');
      await invoke(c);
      expect(current().ssm.parameter(c.parameterName)?.value).toBe('closed');
      await invoke(c);
      expect(current().ssm.parameter(c.parameterName)?.value).toBe('open');
    });

    it('a spigot an operator closed is never reopened by the drain', async () => {
      const c = await cell('operator-closed', {
        spigot: 'closed',
        spigotDescription: 'closed by jane for the Jenkins upgrade',
        extra: { AUTO_REOPEN_AFTER_HEALTHY_PROBES: '2' },
      });
      await enqueue(c, 4, 2);
      for (let run = 0; run < 4; run += 1) {
        const { result } = await invoke(c);
        expect(result).toMatchObject({ spigot: 'closed', action: 'held (spigot closed)' });
      }
      expect(current().ssm.parameter(c.parameterName)).toMatchObject({ value: 'closed', description: 'closed by jane for the Jenkins upgrade', version: 1 });
      expect(current().ssm.calls.filter((call) => call.name === c.parameterName && call.action === 'PutParameter')).toEqual([]);
      expect(receives(c)).toBe(0);
      expect(c.jenkins.deliveries).toHaveLength(0);
      expect(await depth(current(), c)).toBe(4);
    });
  });

  describe('logs', () => {
    it('never contain a webhook body, the Jenkins API token or the webhook secret', async () => {
      const c = await cell('log-hygiene', { credentials: true, webhookSecret: true });
      const sent = await enqueue(c, 9, 3);
      await enqueue(c, 1, 1, { smoke: true });
      await c.jenkins.setBehaviour({ kind: 'rejecting', deliveryIds: [sent[4].deliveryId] });
      await drainToEmpty(current(), c, 3);
      await c.jenkins.setBehaviour('quiet-down');
      await enqueue(c, 3, 3);
      expect((await invoke(c)).result.action).toBe('auto-closed');
      expect(c.jenkins.accepted().length).toBe(8);

      // Everything this file's drains printed so far, this cell's included.
      const text = cells().flatMap((x) => x.output).join('\n');
      expect(text).toContain('dead-lettered webhook');
      const secrets = [c.jenkins.apiToken, Buffer.from(`${c.jenkins.user}:${c.jenkins.apiToken}`).toString('base64'), WEBHOOK_SECRET];
      for (const secret of secrets) expect(text).not.toContain(secret);
      for (const s of cells().flatMap((x) => x.sent)) {
        const utf8 = s.body.toString('utf8');
        for (const fragment of [utf8.slice(0, 40), utf8.slice(200, 260), s.body.toString('base64').slice(0, 40), s.body.toString('base64').slice(400, 460)]) {
          expect(text).not.toContain(fragment);
        }
      }
    });
  });
}
