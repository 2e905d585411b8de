/**
 * Forged deliveries cannot reach Jenkins, close the spigot, or starve real ones: a flood of
 * deliveries with bad signatures for random repositories, interleaved with real ones, through
 * the Edge into fauxqs and the BUNDLED drain.
 */
import { signatureOf, githubDelivery } from '../../support/webhooks';
import { deadLetters, drainToEmpty, invoke, ledger, useWorld, type Cell, type SentDelivery } from './world';

const { world, cell } = useWorld('fauxqs');

/** Accepts `forged` deliveries with a wrong signature for random repositories, with a real one every `every`. */
async function flood(c: Cell, forged: number, real: number): Promise<{ real: SentDelivery[]; forgedIds: Set<string> }> {
  const sentReal: SentDelivery[] = [];
  const forgedIds = new Set<string>();
  const every = Math.floor((forged + real) / real);
  for (let i = 0; i < forged + real; i += 1) {
    const isReal = i % every === every - 1 && sentReal.length < real;
    const repo = isReal ? `octo-org/real-${sentReal.length % 5}` : `mallory/random-${i}`;
    const delivery = githubDelivery({ event: 'push', repo, contentType: 'json' });
    const headers = isReal ? delivery.headers : delivery.headers.map(([k, v]): [string, string] => [k, k === 'X-Hub-Signature-256' ? signatureOf(delivery.body, 'not the secret') : v]);
    const answer = await c.edge.accept({ path: '/github-webhook/', headers, body: delivery.body });
    if (answer.status !== 202) throw new Error(`the edge refused delivery ${i}: ${answer.status}`);
    if (isReal) {
      const entry = { repo, deliveryId: delivery.deliveryId, body: delivery.body };
      sentReal.push(entry);
      c.sent.push(entry);
    } else {
      forgedIds.add(delivery.deliveryId);
    }
  }
  return { real: sentReal, forgedIds };
}

describe('a flood of forged deliveries', () => {
  it('when 1000 forged deliveries are interleaved with 50 real ones and the drain verifies, all 50 arrive byte-exact and in order, none forged reaches Jenkins, the spigot never closes, and the DLQ holds exactly the forged ones', async () => {
    const c = await cell('forged-flood-verifying', { webhookSecret: true, extra: { MAX_RUN_SECONDS: '3' } });
    const { real, forgedIds } = await flood(c, 1000, 50);
    await drainToEmpty(world(), c, 30);
    expect(ledger(real, c.jenkins)).toEqual({ delivered: 50, lost: [], outOfOrder: [], duplicates: 0, corrupted: [] });
    expect(c.jenkins.deliveries.filter((d) => forgedIds.has(d.deliveryId ?? ''))).toEqual([]);
    expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
    const letters = await deadLetters(world().emulator.sqs, c.queues.dlqUrl, 200);
    expect(letters).toHaveLength(1000);
    expect(new Set(letters.map((l) => l.deliveryId))).toEqual(forgedIds);
    expect(letters.every((l) => l.reason?.startsWith('signature mismatch'))).toBe(true);
    const metrics = c.output.flatMap((line) => (line.includes('"SignatureMismatches"') ? [JSON.parse(line) as { SignatureMismatches: number }] : []));
    expect(metrics.reduce((sum, m) => sum + m.SignatureMismatches, 0)).toBeGreaterThanOrEqual(1000);
  });

  it('when anyone may send and the drain does not verify (REFUSALS_UNTRUSTED_STATUSES=400), Jenkins\' 400s for forged deliveries never close the spigot and every real one arrives in order', async () => {
    const c = await cell('forged-flood-unverified', { extra: { MAX_RUN_SECONDS: '3', REFUSALS_UNTRUSTED_STATUSES: '400' } });
    const { real, forgedIds } = await flood(c, 200, 20);
    for (let run = 0; run < 6; run += 1) {
      const { result } = await invoke(c);
      expect(result.action).not.toBe('auto-closed');
    }
    expect(world().ssm.parameter(c.parameterName)?.value).toBe('open');
    expect(ledger(real, c.jenkins)).toMatchObject({ delivered: 20, lost: [], outOfOrder: [] });
    const letters = await deadLetters(world().emulator.sqs, c.queues.dlqUrl, 50);
    expect(letters.every((l) => forgedIds.has(l.deliveryId ?? ''))).toBe(true);
  });

  it('when the hooks start signing with a secret the drain does not have (a rotated secret) for repositories it verified before, it closes the spigot saying to check the webhook secret and dead-letters nothing', async () => {
    const c = await cell('rotated-after-history', { webhookSecret: true });
    const before: SentDelivery[] = [];
    for (let i = 0; i < 10; i += 1) {
      const repo = `octo-org/repo-${i % 5}`;
      const delivery = githubDelivery({ event: 'push', repo, contentType: 'json' });
      await c.edge.accept({ path: '/github-webhook/', headers: delivery.headers, body: delivery.body });
      before.push({ repo, deliveryId: delivery.deliveryId, body: delivery.body });
    }
    await drainToEmpty(world(), c);
    expect(ledger(before, c.jenkins).delivered).toBe(10);
    for (let i = 0; i < 10; i += 1) {
      const delivery = githubDelivery({ event: 'push', repo: `octo-org/repo-${i % 5}`, contentType: 'json' });
      const headers = delivery.headers.map(([k, v]): [string, string] => [k, k === 'X-Hub-Signature-256' ? signatureOf(delivery.body, 'the new secret') : v]);
      await c.edge.accept({ path: '/github-webhook/', headers, body: delivery.body });
    }
    const { result } = await invoke(c);
    expect(result.action).toBe('auto-closed');
    expect(result.reason).toMatch(/check the webhook secret/);
    expect(await deadLetters(world().emulator.sqs, c.queues.dlqUrl)).toEqual([]);
  });
});
