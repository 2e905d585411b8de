/**
 * Forged deliveries cannot reach Jenkins, close the spigot, or starve real ones: floods of
 * deliveries with bad signatures, for random repositories or naming the real ones, interleaved
 * with real ones, through the Edge into an SQS emulator (fauxqs, or LocalStack, which hands out
 * several messages of a repository per receive as SQS does) and the BUNDLED drain.
 */
import type { SqsBackend } from '../../support/sqs-backends';
import { signatureOf, githubDelivery, WEBHOOK_SECRET } from '../../support/webhooks';
import { deadLetters, depth, drainToEmpty, invoke, ledger, useWorld, type Cell, type SentDelivery } from './world';

/** What the stack sets for `allowedSources: ["anyone"]` with the drain verifying (stacks/source-policy.ts). */
const ANYONE_VERIFYING = { REFUSALS_UNTRUSTED_STATUSES: 'signature' };

/** Accepts one delivery through the Edge, signed with `secret`; records it as sent when it is real. */
async function accept(c: Cell, repo: string, secret: string, real: boolean): Promise<SentDelivery> {
  const delivery = githubDelivery({ event: 'push', repo, contentType: 'json' });
  const headers = delivery.headers.map(([k, v]): [string, string] => [k, k === 'X-Hub-Signature-256' ? signatureOf(delivery.body, secret) : v]);
  const answer = await c.edge.accept({ path: '/github-webhook/', headers, body: delivery.body });
  if (answer.status !== 202) throw new Error(`the edge refused a delivery for ${repo}: ${answer.status}`);
  const entry = { repo, deliveryId: delivery.deliveryId, body: delivery.body };
  if (real) c.sent.push(entry);
  return entry;
}

/** `pattern` spelled out: `r` a real delivery, `f` a forged one naming the same repository. */
async function interleave(c: Cell, repos: readonly string[], pattern: string): Promise<{ real: SentDelivery[]; forgedIds: Set<string> }> {
  const real: SentDelivery[] = [];
  const forgedIds = new Set<string>();
  for (const kind of pattern) {
    for (const repo of repos) {
      const entry = await accept(c, repo, kind === 'r' ? WEBHOOK_SECRET : 'not the secret', kind === 'r');
      if (kind === 'r') real.push(entry);
      else forgedIds.add(entry.deliveryId);
    }
  }
  return { real, forgedIds };
}

/** Registers every case against one SQS emulator (one thin test file per backend). */
export function forgedDeliveries(backend: SqsBackend): void {
  const { world, cell } = useWorld(backend);
  const dlq = (c: Cell, pages = 50, take = false) => deadLetters(world().emulator.sqs, c.queues.dlqUrl, pages, { take });

  /** Accepts `forged` deliveries with a wrong signature for random repositories, with a real one every `every`. */
  async function flood(c: Cell, forged: number, real: number): Promise<{ real: SentDelivery[]; forgedIds: Set<string> }> {
    const sentReal: SentDelivery[] = [];
    const forgedIds = new Set<string>();
    const every = Math.floor((forged + real) / real);
    for (let i = 0; i < forged + real; i += 1) {
      const isReal = i % every === every - 1 && sentReal.length < real;
      const repo = isReal ? `octo-org/real-${sentReal.length % 5}` : `mallory/random-${i}`;
      const entry = await accept(c, repo, isReal ? WEBHOOK_SECRET : 'not the secret', isReal);
      if (isReal) sentReal.push(entry);
      else forgedIds.add(entry.deliveryId);
    }
    return { real: sentReal, forgedIds };
  }

  describe('a flood of forged deliveries for random repositories', () => {
    // The full 1000 on fauxqs; LocalStack is about 4x slower per message, so a third of it there.
    const [forged, realCount] = backend === 'localstack' ? [300, 15] : [1000, 50];
    it(`when ${forged} forged deliveries are interleaved with ${realCount} real ones and the drain verifies, all ${realCount} arrive byte-exact and in order, none forged reaches Jenkins, the spigot never closes, and the DLQ holds exactly the forged ones`, async () => {
      const c = await cell('forged-flood-verifying', { webhookSecret: true, extra: { MAX_RUN_SECONDS: '3' } });
      const { real, forgedIds } = await flood(c, forged, realCount);
      await drainToEmpty(world(), c, 30);
      expect(ledger(real, c.jenkins)).toEqual({ delivered: realCount, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(c.jenkins.deliveries.filter((d) => forgedIds.has(d.deliveryId ?? ''))).toEqual([]);
      expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
      const letters = await dlq(c, 200);
      expect(letters).toHaveLength(forged);
      expect(new Set(letters.map((l) => l.deliveryId))).toEqual(forgedIds);
      expect(letters.every((l) => l.reason?.startsWith('signature mismatch'))).toBe(true);
      const metrics = c.output.flatMap((line) => (line.includes('"SignatureMismatches"') ? [JSON.parse(line) as { SignatureMismatches: number }] : []));
      expect(metrics.reduce((sum, m) => sum + m.SignatureMismatches, 0)).toBeGreaterThanOrEqual(forged);
    }, 180_000);

    it('when anyone may send and the drain does not verify (REFUSALS_UNTRUSTED_STATUSES=400), Jenkins\' 400s for forged deliveries never close the spigot and every real one arrives in order', async () => {
      const c = await cell('forged-flood-unverified', { extra: { MAX_RUN_SECONDS: '3', REFUSALS_UNTRUSTED_STATUSES: '400' } });
      const { real, forgedIds } = await flood(c, 200, 20);
      for (let run = 0; run < 6; run += 1) {
        const { result } = await invoke(c);
        expect(result.action).not.toBe('auto-closed');
      }
      expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
      expect(ledger(real, c.jenkins)).toMatchObject({ delivered: 20, lost: [], outOfOrder: [] });
      const letters = await dlq(c);
      expect(letters.every((l) => forgedIds.has(l.deliveryId ?? ''))).toBe(true);
    });
  });

  describe('forged deliveries naming real repositories', () => {
    it('when forged deliveries name the real repositories, between their real deliveries, every real one arrives in order, none forged reaches Jenkins, the DLQ holds exactly the forged ones, and the spigot stays open', async () => {
      const c = await cell('forged-claims', { webhookSecret: true, extra: { MAX_RUN_SECONDS: '3', ...ANYONE_VERIFYING } });
      const repos = ['octo-org/alpha', 'octo-org/beta', 'octo-org/gamma', 'octo-org/delta'];
      const { real, forgedIds } = await interleave(c, repos, 'rffrfrffrr');
      // A forged head is exposed by a genuine delivery sent after it verifying. SQS (LocalStack)
      // hands out the genuine ones queued behind it in the same receive. fauxqs hands out one
      // message per repository, so when every repository has a forged head only a genuine
      // delivery from elsewhere (ordinary traffic, here a bystander repository) settles them.
      let bystanders = 0;
      let runs = 0;
      for (; runs < 16 && (await depth(world(), c)) > 0; runs += 1) {
        expect((await invoke(c)).result.action).not.toBe('auto-closed');
        if (backend === 'fauxqs' && (await depth(world(), c)) > 0) {
          real.push(await accept(c, 'octo-org/bystander', WEBHOOK_SECRET, true));
          bystanders += 1;
        }
      }
      expect(ledger(real, c.jenkins)).toEqual({ delivered: real.length, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(c.jenkins.deliveries.filter((d) => forgedIds.has(d.deliveryId ?? ''))).toEqual([]);
      expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
      const letters = await dlq(c, 50, true);
      expect(letters).toHaveLength(forgedIds.size);
      expect(new Set(letters.map((l) => l.deliveryId))).toEqual(forgedIds);
      expect(letters.every((l) => l.reason?.startsWith('signature mismatch'))).toBe(true);
      if (backend === 'localstack') expect({ runs, bystanders }).toEqual({ runs: expect.any(Number), bystanders: 0 });
      expect(runs).toBeLessThanOrEqual(backend === 'localstack' ? 4 : 12);
    });

    it('when forged deliveries name the only repository with traffic, its real deliveries still arrive in order and every forged one is dead-lettered', async () => {
      const c = await cell('forged-claims-one-repository', { webhookSecret: true, extra: { MAX_RUN_SECONDS: '2', ...ANYONE_VERIFYING } });
      // fauxqs hands out one message of a repository at a time, so each forged head waits for the
      // end of a run; SQS (and LocalStack) hand out the genuine ones behind it, which expose it at once.
      const pattern = backend === 'localstack' ? 'rfrffrfrffrr' : 'rfrfrr';
      const { real, forgedIds } = await interleave(c, ['octo-org/solo'], pattern);
      const runs = await drainToEmpty(world(), c, 10);
      expect(ledger(real, c.jenkins)).toEqual({ delivered: real.length, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(c.jenkins.deliveries.filter((d) => forgedIds.has(d.deliveryId ?? ''))).toEqual([]);
      expect(new Set((await dlq(c, 50, true)).map((l) => l.deliveryId))).toEqual(forgedIds);
      expect(runs).toBeLessThanOrEqual(backend === 'localstack' ? 3 : forgedIds.size + 1);
    });

    it('when anyone may send and every delivery fails the drain\'s check, nobody can tell a rotated secret from forgeries: the spigot stays open and the deliveries are held, none dead-lettered', async () => {
      const c = await cell('anyone-all-failing', { webhookSecret: true, drainSecretValue: 'a secret nobody signs with', extra: ANYONE_VERIFYING });
      await interleave(c, ['octo-org/alpha', 'octo-org/beta', 'octo-org/gamma'], 'rrr');
      for (let run = 0; run < 3; run += 1) expect((await invoke(c)).result.action).not.toBe('auto-closed');
      expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
      expect(await dlq(c)).toEqual([]);
      expect(c.jenkins.deliveries).toEqual([]);
    });
  });

  describe('a rotated webhook secret', () => {
    it('when the hooks start signing with a secret the drain does not have (a rotated secret) for repositories it verified before, it closes the spigot saying to check the webhook secret and dead-letters nothing', async () => {
      const c = await cell('rotated-after-history', { webhookSecret: true });
      const before = await interleave(c, ['octo-org/repo-0', 'octo-org/repo-1', 'octo-org/repo-2', 'octo-org/repo-3', 'octo-org/repo-4'], 'rr');
      await drainToEmpty(world(), c);
      expect(ledger(before.real, c.jenkins).delivered).toBe(10);
      for (let i = 0; i < 10; i += 1) await accept(c, `octo-org/repo-${i % 5}`, 'the new secret', false);
      const { result } = await invoke(c);
      expect(result.action).toBe('auto-closed');
      expect(result.reason).toMatch(/check the webhook secret/);
      expect(await dlq(c)).toEqual([]);
    });

    it('when the parameter holds the new and the old secret during a rotation, deliveries signed with either arrive in order and none is dead-lettered', async () => {
      const c = await cell('rotation-two-secrets', { webhookSecret: true, drainSecretValue: `the new secret\n${WEBHOOK_SECRET}\n`, jenkinsSecret: ['the new secret', WEBHOOK_SECRET] });
      const repos = ['octo-org/alpha', 'octo-org/beta'];
      const sent: SentDelivery[] = [];
      for (const secret of [WEBHOOK_SECRET, WEBHOOK_SECRET, 'the new secret', 'the new secret']) {
        for (const repo of repos) sent.push(await accept(c, repo, secret, true));
      }
      await drainToEmpty(world(), c);
      expect(ledger(sent, c.jenkins)).toEqual({ delivered: sent.length, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
      expect(await dlq(c)).toEqual([]);
      expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
    });
  });
}
