import type { HeldWebhook } from '../../../functions/drain/adapters/buffer-queue';
import type { Outcome } from '../../../functions/drain/core/outcome';
import type { HoldPolicy } from '../../../functions/drain/core/hold';
import { RateLimiter } from '../../../functions/drain/core/rate-limiter';
import { defaultRefusalStatuses, type RefusalPolicy } from '../../../functions/drain/core/refusal-judge';
import { totalBackoffMs } from '../../../functions/drain/core/retry';
import { TimeBudget } from '../../../functions/drain/core/time-budget';
import { releaseHeldWebhooks, type Disposition, type ReleaseStats } from '../../../functions/drain/release';
import {
  FakeClock,
  FakeFifoQueue,
  RecordingLog,
  ScriptedJenkins,
  budgetFor,
  busy,
  delivered,
  poison,
  ticks,
  transient,
  within,
} from './release-fakes';

interface Setup {
  concurrency?: number;
  maxAttempts?: number;
  autoCloseAfterFailures?: number;
  /** Default hold; the floor is one second unless `hold` says otherwise. */
  holdSeconds?: number;
  hold?: Partial<HoldPolicy>;
  refusals?: Partial<RefusalPolicy>;
  idleWaitSeconds?: number;
  script?: Record<string, Outcome[]>;
  attemptTicks?: (id: string) => number;
  /** The spigot's answer to its nth check (1-based). */
  spigot?: (call: number) => boolean;
  inspect?: (message: HeldWebhook) => Disposition;
  queue?: (clock: FakeClock) => FakeFifoQueue;
  /** Paces releases; gets the fake clock. */
  rateLimiter?: (clock: FakeClock) => RateLimiter;
}

function drainWith(setup: Setup = {}) {
  const clock = new FakeClock();
  const queue = setup.queue ? setup.queue(clock) : new FakeFifoQueue(clock);
  const jenkins = new ScriptedJenkins(clock, setup.script, setup.attemptTicks);
  const log = new RecordingLog();
  const maxAttempts = setup.maxAttempts ?? 3;
  let spigotChecks = 0;
  const run = (realTimeLimitMs = 5000): Promise<ReleaseStats> =>
    within(
      releaseHeldWebhooks(
        {
          queue: queue.asClient(),
          inspect: setup.inspect ?? (() => ({ kind: 'send' })),
          identify: (m) => ({ deliveryId: `delivery-of-${m.messageId}`, requestId: `request-of-${m.messageId}` }),
          attempt: jenkins.attempt,
          budget: budgetFor(clock, maxAttempts),
          spigotOpen: async () => {
            spigotChecks += 1;
            return setup.spigot ? setup.spigot(spigotChecks) : true;
          },
          log,
          sleep: clock.sleep,
          now: clock.now,
          rateLimiter: setup.rateLimiter?.(clock),
        },
        {
          concurrency: setup.concurrency ?? 2,
          maxAttempts,
          autoCloseAfterFailures: setup.autoCloseAfterFailures ?? 100,
          hold: { defaultHoldSeconds: setup.holdSeconds ?? 30, minHoldSeconds: 1, maxHoldSeconds: 1, ...setup.hold },
          refusals: { afterWebhooks: 5, fromRepositories: 2, statuses: defaultRefusalStatuses(), ...setup.refusals },
          idleWaitSeconds: setup.idleWaitSeconds ?? 0,
        },
      ),
      realTimeLimitMs,
      'releaseHeldWebhooks',
    );
  return { clock, queue, jenkins, log, run, spigotChecks: () => spigotChecks };
}

/** Sends `perGroup` messages to each group, interleaving groups like concurrent pushes. */
function fill(queue: FakeFifoQueue, groups: string[], perGroup: number): Map<string, string[]> {
  const sent = new Map<string, string[]>(groups.map((g) => [g, []]));
  for (let i = 1; i <= perGroup; i += 1) {
    for (const g of groups) {
      const id = `${g}${i}`;
      queue.send(g, id);
      sent.get(g)!.push(id);
    }
  }
  return sent;
}

const attemptsOfGroup = (jenkins: ScriptedJenkins, group: string) => jenkins.attempts.filter((a) => a.group === group).map((a) => a.id);

describe('releaseHeldWebhooks', () => {
  describe('ordering', () => {
    it('when several repositories have webhooks queued, each is sent exactly once, in order per repository, and deleted', async () => {
      const d = drainWith({ concurrency: 3, attemptTicks: (id) => 1 + (id.charCodeAt(0) % 3) });
      const sent = fill(d.queue, ['a', 'b', 'c', 'd'], 5);
      const stats = await d.run();
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
      expect(d.jenkins.attempts).toHaveLength(20);
      expect(new Set(d.jenkins.attemptedIds()).size).toBe(20);
      expect(stats.released).toBe(20);
      expect(d.queue.remainingIds()).toEqual([]);
      expect(stats).toMatchObject({ held: 0, retried: 0, deadLettered: 0, deleteFailures: 0, stoppedBecause: 'budget' });
      expect(stats.autoCloseReason).toBeUndefined();
    });

    it('when a receive returns a group\'s messages out of sequence order, they are still sent in sequence order', async () => {
      const d = drainWith({ concurrency: 1 });
      d.queue.reorder = (messages) => [...messages].reverse();
      // Sequence numbers cross from 20 to 21 digits within the group.
      const sent = fill(d.queue, ['repo'], 6);
      await d.run();
      expect(attemptsOfGroup(d.jenkins, 'repo')).toEqual(sent.get('repo'));
    });
  });

  describe('poison messages', () => {
    it('when a message in the middle of a repository is refused and another repository then succeeds, it is dead-lettered and the rest of its repository is still released', async () => {
      const d = drainWith({ concurrency: 1, script: { a2: [poison(422)] } });
      fill(d.queue, ['a'], 3);
      d.queue.send('b', 'b1');
      const stats = await d.run();
      expect(attemptsOfGroup(d.jenkins, 'a')).toEqual(['a1', 'a2', 'a3']);
      expect(d.jenkins.attemptedIds().indexOf('b1')).toBeLessThan(d.jenkins.attemptedIds().indexOf('a3'));
      expect(d.queue.deadLettered).toHaveLength(1);
      expect(d.queue.deadLettered[0].id).toBe('a2');
      expect(d.queue.deadLettered[0].why.status).toBe(422);
      expect(d.queue.deadLettered[0].why.reason).toContain('422');
      expect(d.jenkins.attemptsOf('a2')).toBe(1);
      expect(stats).toMatchObject({ released: 3, deadLettered: 1, held: 0, refused: 1 });
      expect(d.queue.deletedIds.sort()).toEqual(['a1', 'a2', 'a3', 'b1']);
      expect(d.queue.remainingIds()).toEqual([]);
    });

    it('when dead-lettering fails, the poison message and everything after it in its repository are held, not lost', async () => {
      const d = drainWith({ concurrency: 1, holdSeconds: 45, script: { a2: [poison(400)] }, refusals: { statuses: new Set() } });
      d.queue.onDeadLetter = (id) => {
        if (id === 'a2') throw new Error('DLQ unavailable');
      };
      fill(d.queue, ['a'], 4);
      const stats = await d.run();
      expect(d.jenkins.attemptedIds()).toEqual(['a1', 'a2']);
      expect(d.queue.deletedIds).toEqual(['a1']);
      expect(d.queue.visibilityCalls()).toEqual([{ op: 'visibility', ids: ['a2', 'a3', 'a4'], seconds: 45 }]);
      expect(stats).toMatchObject({ released: 1, deadLettered: 0, held: 3 });
      expect(d.log.lines.some((l) => l.level === 'error')).toBe(true);
    });

    it('when a refusal status is not one the policy judges, it is dead-lettered at once', async () => {
      const d = drainWith({ concurrency: 1, script: { a1: [poison(422)] }, refusals: { statuses: new Set([404]) } });
      fill(d.queue, ['a'], 2);
      const stats = await d.run();
      expect(d.queue.deadLettered.map((x) => x.id)).toEqual(['a1']);
      expect(d.jenkins.attemptedIds()).toEqual(['a1', 'a2']);
      expect(stats).toMatchObject({ released: 1, deadLettered: 1, refused: 1 });
    });

    it('when inspection discards or dead-letters a message, it is never sent and the rest are', async () => {
      const d = drainWith({
        concurrency: 1,
        inspect: (m) =>
          m.messageId === 'a2' ? { kind: 'discard', reason: 'smoke test' }
            : m.messageId === 'a3' ? { kind: 'dead-letter', reason: 'bad signature' }
              : { kind: 'send' },
      });
      fill(d.queue, ['a'], 4);
      const stats = await d.run();
      expect(d.jenkins.attemptedIds()).toEqual(['a1', 'a4']);
      expect(d.queue.deadLettered.map((x) => x.id)).toEqual(['a3']);
      expect(stats).toMatchObject({ released: 2, discarded: 1, deadLettered: 1 });
      expect(d.queue.remainingIds()).toEqual([]);
    });
  });

  describe('log lines', () => {
    it('when webhooks are released or dead-lettered, each line names the message, its repository, delivery id and request id, and a release line says what Jenkins answered', async () => {
      const d = drainWith({ concurrency: 1, script: { b1: [poison(404)] }, refusals: { statuses: new Set() } });
      d.queue.send('a', 'a1');
      d.queue.send('b', 'b1');
      await d.run();
      const released = d.log.lines.find((l) => l.message === 'released webhook');
      expect(released?.fields).toEqual({ messageId: 'a1', group: 'a', deliveryId: 'delivery-of-a1', requestId: 'request-of-a1', status: 200 });
      const dead = d.log.lines.find((l) => l.message === 'dead-lettered webhook');
      expect(dead?.fields).toMatchObject({ messageId: 'b1', group: 'b', deliveryId: 'delivery-of-b1', requestId: 'request-of-b1', status: 404 });
    });
  });

  describe('refusals', () => {
    it('when Jenkins answers 404 to every webhook from several repositories, it stops, dead-letters nothing and hands everything back for a systemic close', async () => {
      const script: Record<string, Outcome[]> = {};
      for (const g of ['a', 'b', 'c', 'd', 'e', 'f']) for (let i = 1; i <= 3; i += 1) script[`${g}${i}`] = [poison(404)];
      const d = drainWith({ concurrency: 2, script });
      fill(d.queue, ['a', 'b', 'c', 'd', 'e', 'f'], 3);
      const stats = await d.run();
      expect(d.queue.deadLettered).toEqual([]);
      expect(stats.stoppedBecause).toBe('auto-close');
      expect(stats.systemicRefusal).toBe(true);
      expect(stats.autoCloseReason).toMatch(/Jenkins answered 404 to 5 webhooks from 5 repositories in a row: is the GitHub plugin/);
      // Only the head of each repository was tried, and everything is visible again for after the fix.
      expect(d.jenkins.attempts.every((a) => a.id.endsWith('1'))).toBe(true);
      expect(d.queue.remainingIds()).toHaveLength(18);
      expect(d.queue.hiddenIds()).toEqual([]);
    });

    it('when the drain\'s own signature check refuses every webhook, Jenkins is never called and the close says to check the webhook secret', async () => {
      const d = drainWith({ concurrency: 2, inspect: () => ({ kind: 'refuse', refusal: 'signature', reason: 'signature mismatch' }) });
      fill(d.queue, ['a', 'b', 'c', 'd', 'e', 'f'], 2);
      const stats = await d.run();
      expect(d.jenkins.attempts).toEqual([]);
      expect(d.queue.deadLettered).toEqual([]);
      expect(stats.autoCloseReason).toMatch(/check the webhook secret/);
      expect(d.queue.hiddenIds()).toEqual([]);
    });

    it('when one repository\'s refusal stands alone (other repositories succeed around it), only it is dead-lettered and its repository carries on in order', async () => {
      const d = drainWith({ concurrency: 2, script: { b2: [poison(404)] } });
      const sent = fill(d.queue, ['a', 'b', 'c'], 4);
      const stats = await d.run();
      expect(d.queue.deadLettered.map((x) => x.id)).toEqual(['b2']);
      expect(d.queue.deadLettered[0].why).toEqual({ status: 404, reason: 'Jenkins answered 404' });
      expect(attemptsOfGroup(d.jenkins, 'b')).toEqual(sent.get('b'));
      expect(stats).toMatchObject({ released: 11, deadLettered: 1, refused: 1 });
      expect(stats.autoCloseReason).toBeUndefined();
      expect(d.queue.remainingIds()).toEqual([]);
    });

    it('when 1000 forged deliveries (failing the signature check) are interleaved with 50 real ones, the real ones all arrive in order, no forged one reaches Jenkins, nothing closes, and the DLQ holds exactly the forged', async () => {
      const forged = new Set<string>();
      const d = drainWith({
        concurrency: 4,
        inspect: (m) => (forged.has(m.messageId) ? { kind: 'refuse', refusal: 'signature', reason: 'signature mismatch' } : { kind: 'send' }),
      });
      const real = new Map<string, string[]>();
      for (let i = 0; i < 1050; i += 1) {
        if (i % 21 === 20) {
          const group = `real-${real.size % 5}`;
          const id = `real-${i}`;
          d.queue.send(group, id);
          real.set(group, [...(real.get(group) ?? []), id]);
        } else {
          const id = `forged-${i}`;
          forged.add(id);
          d.queue.send(`forged-repo-${i % 97}`, id);
        }
      }
      const stats = await d.run(20_000);
      expect(stats.autoCloseReason).toBeUndefined();
      expect(d.jenkins.attemptedIds().filter((id) => forged.has(id))).toEqual([]);
      for (const [group, ids] of real) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
      expect(stats.released).toBe(50);
      const deadLettered = d.queue.deadLettered.map((x) => x.id);
      expect(new Set(deadLettered)).toEqual(new Set([...forged].filter((id) => deadLettered.includes(id))));
      expect(deadLettered.every((id) => forged.has(id))).toBe(true);
      // Forged ones parked after the last real one wait for the next run: held, not lost, not sent.
      expect(deadLettered.length + d.queue.remainingIds().length).toBe(1000);
      expect(d.queue.deadLettered.every((x) => x.why.reason === 'signature mismatch')).toBe(true);
    });

    it('when a refusal comes from the only repository queued, it is held for the hold floor, never dead-lettered', async () => {
      const d = drainWith({ concurrency: 1, script: { a1: [poison(404)] }, hold: { minHoldSeconds: 60, maxHoldSeconds: 300 } });
      fill(d.queue, ['a'], 3);
      const stats = await d.run();
      expect(d.queue.deadLettered).toEqual([]);
      expect(d.jenkins.attemptedIds()).toEqual(['a1']);
      expect(d.queue.visibilityCalls()).toEqual([{ op: 'visibility', ids: ['a1', 'a2', 'a3'], seconds: 60 }]);
      expect(stats.autoCloseReason).toBeUndefined();
    });

    it('when the last repository left has its head refused after Jenkins accepted other repositories in the run, the head is dead-lettered at the end of the run and the rest handed back', async () => {
      const d = drainWith({ concurrency: 1, script: { b1: [poison(404)] } });
      for (const id of ['a1', 'a2', 'a3']) d.queue.send('a', id);
      for (const id of ['b1', 'b2']) d.queue.send('b', id);
      const stats = await d.run();
      expect(d.queue.deadLettered.map((x) => x.id)).toEqual(['b1']);
      expect(d.queue.remainingIds()).toEqual(['b2']);
      expect(d.queue.hiddenIds()).toEqual([]);
      expect(stats.autoCloseReason).toBeUndefined();
    });

    it('when refusals from two repositories end the run with nothing accepted, the run closes the spigot', async () => {
      const d = drainWith({ concurrency: 2, script: { a1: [poison(403)], b1: [poison(403)] } });
      fill(d.queue, ['a', 'b'], 2);
      const stats = await d.run();
      expect(d.queue.deadLettered).toEqual([]);
      expect(stats.systemicRefusal).toBe(true);
      expect(stats.autoCloseReason).toMatch(/Jenkins answered 403 to 2 webhooks from 2 repositories/);
      expect(d.queue.hiddenIds()).toEqual([]);
    });
  });

  describe('holds over many runs', () => {
    it('when Jenkins answers one repository 503 with Retry-After: 120 for two hours of one-minute runs, its webhook is received far fewer times than maxReceiveCount and never dead-lettered', async () => {
      const clock = new FakeClock();
      const queue = new FakeFifoQueue(clock, 360_000);
      queue.send('a', 'a1');
      const script = { a1: [busy(503, 120_000)] };
      const jenkins = new ScriptedJenkins(clock, script, () => 1);
      const log = new RecordingLog();
      for (let minute = 0; minute < 120; minute += 1) {
        clock.t = minute * 60_000;
        const startedAt = clock.t;
        await within(
          releaseHeldWebhooks(
            {
              queue: queue.asClient(), inspect: () => ({ kind: 'send' }), attempt: jenkins.attempt, spigotOpen: async () => true, log, sleep: clock.sleep, now: clock.now,
              budget: new TimeBudget({ startedAt, maxRunMs: 55_000, httpTimeoutMs: 1000, maxAttempts: 3, totalBackoffMs: totalBackoffMs(3) }, () => startedAt + 300_000 - clock.now(), clock.now),
            },
            {
              concurrency: 2, maxAttempts: 3, autoCloseAfterFailures: 1000, idleWaitSeconds: 0,
              hold: { defaultHoldSeconds: 30, minHoldSeconds: 60, maxHoldSeconds: 300 },
              refusals: { afterWebhooks: 5, fromRepositories: 2, statuses: defaultRefusalStatuses() },
            },
          ),
          5000,
          'a one-minute run',
        );
      }
      const receives = queue.receiveCallsMade().filter((c) => c.returned.includes('a1')).length;
      expect(receives).toBeGreaterThan(10);
      expect(receives).toBeLessThan(50);
      expect(queue.deadLettered).toEqual([]);
      expect(queue.remainingIds()).toEqual(['a1']);
    });
  });

  describe('busy Jenkins', () => {
    it('when Jenkins answers busy with Retry-After, the rest of that repository is held for that long while other repositories continue', async () => {
      const d = drainWith({ concurrency: 1, script: { a2: [busy(429, 120_000)] } });
      fill(d.queue, ['a', 'b'], 3);
      const stats = await d.run();
      expect(attemptsOfGroup(d.jenkins, 'a')).toEqual(['a1', 'a2']);
      expect(attemptsOfGroup(d.jenkins, 'b')).toEqual(['b1', 'b2', 'b3']);
      expect(d.queue.visibilityCalls()).toEqual([{ op: 'visibility', ids: ['a2', 'a3'], seconds: 120 }]);
      expect(d.queue.remainingIds().sort()).toEqual(['a2', 'a3']);
      expect(d.queue.hiddenIds().sort()).toEqual(['a2', 'a3']);
      expect(stats).toMatchObject({ released: 4, held: 2, retried: 0 });
    });

    it('when Jenkins answers busy without Retry-After, the repository is held for the default hold', async () => {
      const d = drainWith({ concurrency: 2, holdSeconds: 17, script: { a1: [busy(503)] } });
      fill(d.queue, ['a', 'b'], 2);
      const stats = await d.run();
      expect(d.queue.visibilityCalls()).toEqual([{ op: 'visibility', ids: ['a1', 'a2'], seconds: 17 }]);
      expect(attemptsOfGroup(d.jenkins, 'b')).toEqual(['b1', 'b2']);
      expect(d.jenkins.attemptsOf('a1')).toBe(1);
      expect(stats).toMatchObject({ released: 2, held: 2 });
    });

    it('when Retry-After ends inside the run, it waits in the worker with the message still in flight, spending no receive', async () => {
      const d = drainWith({ concurrency: 1, script: { a1: [busy(503, 1000), busy(503, 1000), delivered] } });
      fill(d.queue, ['a'], 2);
      const stats = await d.run();
      expect(d.jenkins.attemptedIds()).toEqual(['a1', 'a1', 'a1', 'a2']);
      expect(d.jenkins.attempts[1].at - d.jenkins.attempts[0].at).toBeGreaterThanOrEqual(1000);
      expect(d.queue.visibilityCalls()).toEqual([]);
      expect(d.queue.receiveCallsMade().filter((c) => c.returned.includes('a1'))).toHaveLength(1);
      expect(stats).toMatchObject({ released: 2, held: 0, redelivered: 0, retried: 2 });
      expect(d.queue.remainingIds()).toEqual([]);
    });

    it('when Retry-After is short but the hold floor is higher, a hold that does not fit the run is never shorter than the floor', async () => {
      // 4 s Retry-After in a 5 s run that has used 2 s already does not fit: hold, at least the 60 s floor.
      const d = drainWith({ concurrency: 1, script: { a1: [busy(503, 4000)] }, hold: { minHoldSeconds: 60, maxHoldSeconds: 300 }, attemptTicks: () => 1 });
      d.clock.t = 2000;
      fill(d.queue, ['a'], 1);
      await d.run();
      expect(d.queue.visibilityCalls()).toEqual([{ op: 'visibility', ids: ['a1'], seconds: 60 }]);
    });
  });

  describe('transient failures', () => {
    it('when a webhook keeps failing, it is tried maxAttempts times with backoff, then it and the rest of its repository are held', async () => {
      const d = drainWith({ concurrency: 1, maxAttempts: 3, holdSeconds: 30, script: { a1: [transient()] } });
      fill(d.queue, ['a', 'b'], 2);
      const stats = await d.run();
      const a1 = d.jenkins.attempts.filter((a) => a.id === 'a1').map((a) => a.at);
      expect(a1).toHaveLength(3);
      expect([a1[1] - a1[0], a1[2] - a1[1]]).toEqual([250, 500]);
      expect(d.jenkins.attemptsOf('a2')).toBe(0);
      expect(d.queue.visibilityCalls()).toEqual([{ op: 'visibility', ids: ['a1', 'a2'], seconds: 30 }]);
      expect(attemptsOfGroup(d.jenkins, 'b')).toEqual(['b1', 'b2']);
      expect(stats).toMatchObject({ released: 2, held: 2, retried: 2 });
      expect(d.queue.hiddenIds().sort()).toEqual(['a1', 'a2']);
    });

    it('when a webhook fails and then succeeds within maxAttempts, it is released and the repository continues', async () => {
      const d = drainWith({ concurrency: 1, maxAttempts: 4, script: { a1: [transient(), transient(), { kind: 'delivered', status: 200 }] } });
      fill(d.queue, ['a'], 2);
      const stats = await d.run();
      expect(d.jenkins.attemptedIds()).toEqual(['a1', 'a1', 'a1', 'a2']);
      expect(stats).toMatchObject({ released: 2, retried: 2, held: 0 });
      expect(d.queue.remainingIds()).toEqual([]);
    });

    it('when maxAttempts is one, a transient failure is not retried', async () => {
      const d = drainWith({ concurrency: 1, maxAttempts: 1, script: { a1: [transient()] } });
      fill(d.queue, ['a'], 1);
      const stats = await d.run();
      expect(d.jenkins.attemptsOf('a1')).toBe(1);
      expect(stats).toMatchObject({ retried: 0, held: 1, released: 0 });
    });
  });

  describe('concurrency', () => {
    it.each([1, 3, 5])('when the concurrency is %i, no more than that many attempts are ever in flight, and the cap is reached', async (concurrency) => {
      const d = drainWith({ concurrency, attemptTicks: (id) => 1 + (id.length % 3) });
      const groups = Array.from({ length: 12 }, (_, i) => `g${String.fromCharCode(97 + i)}`);
      const sent = fill(d.queue, groups, 3);
      const stats = await d.run();
      expect(d.jenkins.maxInFlight).toBeLessThanOrEqual(concurrency);
      expect(d.jenkins.maxInFlight).toBe(concurrency);
      expect(stats.released).toBe(36);
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
    });

    it('when a repository is being sent, no second worker ever sends the same repository at the same time', async () => {
      const d = drainWith({ concurrency: 4, attemptTicks: () => 2 });
      fill(d.queue, ['a', 'b'], 8);
      const active = new Map<string, number>();
      let overlap = false;
      const inner = d.jenkins.attempt;
      const attempt = async (m: HeldWebhook) => {
        active.set(m.groupId, (active.get(m.groupId) ?? 0) + 1);
        if (active.get(m.groupId)! > 1) overlap = true;
        try {
          return await inner(m);
        } finally {
          active.set(m.groupId, active.get(m.groupId)! - 1);
        }
      };
      (d.jenkins as unknown as { attempt: typeof attempt }).attempt = attempt;
      // drainWith captured jenkins.attempt already; run a fresh loop with the wrapper instead.
      const stats = await within(
        releaseHeldWebhooks(
          { queue: d.queue.asClient(), inspect: () => ({ kind: 'send' }), attempt, budget: budgetFor(d.clock, 3), spigotOpen: async () => true, log: d.log, sleep: d.clock.sleep, now: d.clock.now },
          {
            concurrency: 4, maxAttempts: 3, autoCloseAfterFailures: 100, idleWaitSeconds: 0,
            hold: { defaultHoldSeconds: 30, minHoldSeconds: 1, maxHoldSeconds: 1 },
            refusals: { afterWebhooks: 5, fromRepositories: 2, statuses: defaultRefusalStatuses() },
          },
        ),
        5000,
        'releaseHeldWebhooks',
      );
      expect(overlap).toBe(false);
      expect(stats.released).toBe(16);
    });
  });

  describe('the spigot closing', () => {
    it('when the spigot is closed before the first receive, nothing is received or sent', async () => {
      const d = drainWith({ spigot: () => false });
      fill(d.queue, ['a'], 2);
      const stats = await d.run();
      expect(d.queue.receiveCallsMade()).toHaveLength(0);
      expect(d.jenkins.attempts).toHaveLength(0);
      expect(stats).toMatchObject({ stoppedBecause: 'closed', receiveCalls: 0, released: 0 });
    });

    it('when the spigot turns closed during the run, nothing more is received, no new webhook is started and nothing is left hidden', async () => {
      const d = drainWith({ concurrency: 1, spigot: (n) => n === 1 });
      fill(d.queue, ['a', 'b'], 3);
      const stats = await d.run();
      expect(d.queue.receiveCallsMade()).toHaveLength(1);
      expect(stats.receiveCalls).toBe(1);
      expect(stats.stoppedBecause).toBe('closed');
      expect(d.jenkins.attempts.length).toBeLessThanOrEqual(1);
      expect(stats.released + stats.held).toBe(6);
      expect(d.queue.hiddenIds()).toEqual([]);
      for (const call of d.queue.visibilityCalls()) expect(call.seconds).toBe(0);
    });
  });

  describe('auto-close', () => {
    it('when N webhooks in a row fail all their attempts, it stops sending, makes everything visible again and reports why', async () => {
      const d = drainWith({
        concurrency: 1, maxAttempts: 2, autoCloseAfterFailures: 3,
        script: { a1: [transient('ECONNREFUSED: connect ECONNREFUSED')], b1: [transient('ECONNREFUSED: connect ECONNREFUSED')], c1: [transient('ECONNREFUSED: connect ECONNREFUSED')] },
      });
      fill(d.queue, ['a', 'b', 'c'], 1);
      const stats = await d.run();
      expect(d.jenkins.attemptedIds()).toEqual(['a1', 'a1', 'b1', 'b1', 'c1', 'c1']);
      expect(stats.stoppedBecause).toBe('auto-close');
      expect(stats.autoCloseReason).toContain('3 consecutive');
      expect(stats.autoCloseReason).toContain('ECONNREFUSED');
      expect(stats.released).toBe(0);
      expect(d.queue.remainingIds().sort()).toEqual(['a1', 'b1', 'c1']);
    });

    it('when attempts fail but their retries succeed, it does not close the spigot', async () => {
      const d = drainWith({
        concurrency: 1, maxAttempts: 3, autoCloseAfterFailures: 2,
        script: { a1: [transient(), delivered], b1: [transient(), delivered], c1: [transient(), delivered] },
      });
      fill(d.queue, ['a', 'b', 'c'], 1);
      const stats = await d.run();
      expect(stats.autoCloseReason).toBeUndefined();
      expect(stats.released).toBe(3);
      expect(stats.retried).toBe(3);
    });

    it('when failures come from several workers at once, at most the in-flight attempts finish after the closing one', async () => {
      const concurrency = 3;
      const threshold = 4;
      const script: Record<string, Outcome[]> = {};
      for (const g of ['a', 'b', 'c', 'd']) for (let i = 1; i <= 3; i += 1) script[`${g}${i}`] = [transient()];
      const d = drainWith({ concurrency, maxAttempts: 2, autoCloseAfterFailures: threshold, script, attemptTicks: (id) => 1 + (id.charCodeAt(0) % 2) });
      fill(d.queue, ['a', 'b', 'c', 'd'], 3);
      const stats = await d.run();
      expect(stats.stoppedBecause).toBe('auto-close');
      expect(stats.autoCloseReason).toBeDefined();
      // Failures count per webhook (after its retries): the closing one and those already in flight.
      expect(d.jenkins.attempts.length).toBeGreaterThanOrEqual(threshold * 2);
      expect(d.jenkins.attempts.length).toBeLessThanOrEqual((threshold + concurrency - 1) * 2);
      expect(stats.released).toBe(0);
    });

    it('when 4N consecutive busy answers happen, it auto-closes too', async () => {
      const script: Record<string, Outcome[]> = {};
      for (let i = 1; i <= 10; i += 1) script[`g${i}1`] = [busy(429, 60_000)];
      const d = drainWith({ concurrency: 1, autoCloseAfterFailures: 2, script });
      fill(d.queue, Array.from({ length: 10 }, (_, i) => `g${i + 1}`), 1);
      const stats = await d.run();
      expect(stats.stoppedBecause).toBe('auto-close');
      expect(stats.autoCloseReason).toContain('8 consecutive busy');
      expect(d.jenkins.attempts).toHaveLength(8);
    });
  });

  describe('pacing and failure', () => {
    it('when a paced webhook waits for its slot and the spigot closes meanwhile, it is not sent', async () => {
      // One second of pacing lasts ten turns of the event loop; a1's attempt takes one.
      const pacedSleep = (clock: FakeClock) => async (ms: number) => {
        await clock.sleep(ms);
        await ticks(Math.ceil(ms / 100));
      };
      const d = drainWith({
        concurrency: 4, maxAttempts: 1, autoCloseAfterFailures: 1, attemptTicks: () => 1,
        rateLimiter: (clock) => new RateLimiter(1, clock.now, pacedSleep(clock)),
        script: { a1: [transient('ECONNRESET')] },
      });
      fill(d.queue, ['a', 'b', 'c', 'd'], 1);
      const stats = await d.run();
      expect(stats.stoppedBecause).toBe('auto-close');
      // a1 failed and closed the run; b1..d1 were waiting for their rate slot and must not go out.
      expect(d.jenkins.attemptedIds()).toEqual(['a1']);
      expect(d.queue.remainingIds().sort()).toEqual(['a1', 'b1', 'c1', 'd1']);
    });

    it('when part of the loop fails unexpectedly, the run rejects and hands back every message it held', async () => {
      class CorruptSecondBatch extends FakeFifoQueue {
        private batches = 0;
        async receive(maxMessages: number, waitSeconds: number): Promise<HeldWebhook[]> {
          const messages = await super.receive(maxMessages, waitSeconds);
          if (messages.length > 0) this.batches += 1;
          // A second message of the same group with a sequence number SQS would never send.
          return this.batches === 2 && messages.length > 0 ? [...messages, { ...messages[0], messageId: 'corrupt', sequenceNumber: 'not-a-number' }] : messages;
        }
      }
      const d = drainWith({ concurrency: 1, attemptTicks: () => 3, queue: (clock) => new CorruptSecondBatch(clock) });
      fill(d.queue, ['a', 'b', 'c'], 4); // 12 messages: two receives of at most 10
      await expect(d.run()).rejects.toThrow();
      // Nothing is left invisible: whatever was not released is visible again for the next run.
      expect(d.queue.hiddenIds()).toEqual([]);
      expect(d.queue.remainingIds().length + d.queue.deletedIds.length).toBe(12);
    });
  });

  describe('deleting', () => {
    it('when many webhooks are released, they are deleted in calls of at most ten, each exactly once', async () => {
      const d = drainWith({ concurrency: 2 });
      for (let i = 1; i <= 25; i += 1) d.queue.send('big', `big-${i}`);
      for (let i = 1; i <= 7; i += 1) d.queue.send('small', `small-${i}`);
      const stats = await d.run();
      const deletes = d.queue.deleteCallsMade();
      for (const call of deletes) {
        expect(call.ids.length).toBeGreaterThanOrEqual(1);
        expect(call.ids.length).toBeLessThanOrEqual(10);
      }
      const all = deletes.flatMap((c) => c.ids);
      expect(all).toHaveLength(32);
      expect(new Set(all).size).toBe(32);
      expect(stats.released).toBe(32);
      for (const call of d.queue.receiveCallsMade()) expect(call.max).toBeLessThanOrEqual(10);
    });

    it('when one batch holds more than ten finished webhooks, they are deleted in chunks of ten', async () => {
      class GreedyQueue extends FakeFifoQueue {
        async receive(maxMessages: number, waitSeconds: number): Promise<HeldWebhook[]> {
          return super.receive(Math.max(maxMessages, 15), waitSeconds);
        }
      }
      const d = drainWith({ concurrency: 1, queue: (clock) => new GreedyQueue(clock) });
      for (let i = 1; i <= 15; i += 1) d.queue.send('a', `a-${i}`);
      await d.run();
      expect(d.queue.deleteCallsMade().map((c) => c.ids.length)).toEqual([10, 5]);
    });

    it('when a delete call fails once, its webhooks are deleted by an immediate retry and nothing is counted as failed', async () => {
      const d = drainWith({ concurrency: 1 });
      d.queue.onDelete = (_ids, call) => {
        if (call === 1) throw new Error('AWS.SimpleQueueService.ServiceUnavailable');
        return { failed: [] };
      };
      fill(d.queue, ['a', 'b'], 3);
      const stats = await d.run();
      const [failedCall, retry] = d.queue.deleteCallsMade();
      expect(retry.ids).toEqual(failedCall.ids);
      expect(stats.deleteFailures).toBe(0);
      expect(d.queue.remainingIds()).toEqual([]);
    });

    it('when a later message of a repository is slow, the earlier ones are deleted without waiting for it', async () => {
      const d = drainWith({ concurrency: 1 });
      fill(d.queue, ['a'], 3);
      let releaseA3: () => void = () => undefined;
      const a3Answered = new Promise<void>((resolve) => (releaseA3 = resolve));
      const inner = d.jenkins.attempt;
      (d.jenkins as unknown as { attempt: typeof inner }).attempt = async (m) => {
        if (m.messageId === 'a3') await a3Answered;
        return inner(m);
      };
      const run = d.run();
      // Real time: the delete batcher lingers 20 ms at most before sending a partial batch.
      await new Promise((r) => setTimeout(r, 100));
      const deletedWhileA3InFlight = [...d.queue.deletedIds];
      releaseA3();
      await run;
      expect(deletedWhileA3InFlight).toEqual(['a1', 'a2']);
      expect(d.queue.deletedIds).toEqual(['a1', 'a2', 'a3']);
    });

    it('when a delete call fails twice, the failure is counted, logged and not thrown', async () => {
      const d = drainWith({ concurrency: 1 });
      d.queue.onDelete = (_ids, call) => {
        if (call <= 2) throw new Error('AWS.SimpleQueueService.ServiceUnavailable');
        return { failed: [] };
      };
      fill(d.queue, ['a', 'b'], 3);
      const stats = await d.run();
      expect(stats.released).toBe(6);
      // Every webhook in the failed call (and only those) counts as a delete failure.
      const failedCall = d.queue.deleteCallsMade()[1];
      expect(failedCall.ids.length).toBeGreaterThan(0);
      expect(stats.deleteFailures).toBe(failedCall.ids.length);
      expect(d.log.lines.some((l) => l.level === 'warn' && /delete failed/.test(l.message))).toBe(true);
    });

    it('when a delete call reports some messages as failed, exactly those are counted', async () => {
      const d = drainWith({ concurrency: 1 });
      d.queue.onDelete = (ids) => ({ failed: ids.filter((id) => id === 'a2' || id === 'b3') });
      fill(d.queue, ['a', 'b'], 3);
      const stats = await d.run();
      expect(stats.deleteFailures).toBe(2);
      expect(d.queue.remainingIds().sort()).toEqual(['a2', 'b3']);
    });
  });

  describe('receiving', () => {
    it('when idle, it long-polls no longer than the idle wait or the receive window; while workers are busy it does not wait', async () => {
      const d = drainWith({ concurrency: 1, idleWaitSeconds: 20, attemptTicks: () => 3 });
      fill(d.queue, ['a', 'b'], 2);
      await d.run();
      const waits = d.queue.receiveCallsMade().map((c) => c.wait);
      // maxRunMs is 5000 in the fake budget, so the first (idle) receive waits 5 s, not 20.
      expect(waits[0]).toBe(5);
      for (const wait of waits) {
        expect(Number.isInteger(wait)).toBe(true);
        expect(wait).toBeLessThanOrEqual(5);
      }
    });

    it('when a receive comes back short while a batch is still in hand, it makes no further receive until a delete has landed', async () => {
      // One receive hands out all three repositories (six messages: short of ten). Two workers
      // take two of them; the third waits in hand. Every repository is then in hand, so a
      // receive before a delete lands could only come back empty.
      const d = drainWith({ concurrency: 2, attemptTicks: () => 3 });
      const sent = fill(d.queue, ['a', 'b', 'c'], 2);
      const stats = await d.run();
      expect(stats.released).toBe(6);
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
      const ops = d.queue.calls.map((c) => c.op);
      const [first, second] = ops.flatMap((op, i) => (op === 'receive' ? [i] : []));
      expect(d.queue.receiveCallsMade()[0].returned).toHaveLength(6);
      expect(ops.indexOf('delete')).toBeGreaterThan(first);
      expect(second).toBeGreaterThan(ops.indexOf('delete'));
    });

    it('when receives come back short over a long backlog, every repository is still sent in order and the cap is reached but never exceeded', async () => {
      const d = drainWith({ concurrency: 3, attemptTicks: (id) => 1 + (id.length % 4) });
      const groups = Array.from({ length: 5 }, (_, i) => `r${i}`);
      const sent = fill(d.queue, groups, 6);
      const stats = await d.run();
      expect(stats.released).toBe(30);
      expect(d.jenkins.maxInFlight).toBe(3);
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
      expect(d.queue.remainingIds()).toEqual([]);
    });

    /** Counts how many receives are in flight at once; each takes a few event-loop turns. */
    class OverlapCountingQueue extends FakeFifoQueue {
      inFlight = 0;
      maxInFlight = 0;
      /** Times a receive started while another was in flight, after none had been. */
      bursts = 0;
      failCall?: number;
      private made = 0;
      async receive(maxMessages: number, waitSeconds: number): Promise<HeldWebhook[]> {
        this.made += 1;
        const call = this.made;
        this.inFlight += 1;
        if (this.inFlight === 2) this.bursts += 1;
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
        try {
          await ticks(3);
          if (call === this.failCall) throw new Error('AWS.SimpleQueueService.ServiceUnavailable');
          return await super.receive(maxMessages, waitSeconds);
        } finally {
          this.inFlight -= 1;
        }
      }
    }

    it('when SQS fills each receive from one repository over a backlog, after the first full receive it sends one receive per idle worker together', async () => {
      const d = drainWith({ concurrency: 4, attemptTicks: () => 40, queue: (clock) => Object.assign(new OverlapCountingQueue(clock), { fillFromFewestRepositories: true }) });
      const queue = d.queue as OverlapCountingQueue;
      const sent = fill(queue, ['a', 'b', 'c', 'd', 'e', 'f'], 12);
      const stats = await d.run();
      expect(stats.released).toBe(72);
      // The first receive alone, then the three idle workers' receives at once.
      expect(queue.receiveCallsMade()[0].returned).toHaveLength(10);
      expect(queue.maxInFlight).toBe(3);
      // Only in the ramp-up: once every worker has been busy, the poller receives one at a time.
      expect(queue.bursts).toBe(1);
      expect(d.jenkins.maxInFlight).toBe(4);
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
      expect(queue.remainingIds()).toEqual([]);
    });

    it('when the backlog has fewer repositories than workers, it sends receives together once, not every time one comes back full', async () => {
      const d = drainWith({ concurrency: 8, attemptTicks: () => 6, queue: (clock) => Object.assign(new OverlapCountingQueue(clock), { fillFromFewestRepositories: true }) });
      const queue = d.queue as OverlapCountingQueue;
      const sent = fill(queue, ['a', 'b', 'c'], 40);
      const stats = await d.run();
      expect(stats.released).toBe(120);
      expect(queue.bursts).toBe(1);
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
    });

    it('when one deep repository comes first and many single webhooks follow, every webhook is sent in order and the cap holds', async () => {
      const d = drainWith({ concurrency: 8, attemptTicks: () => 4, queue: (clock) => Object.assign(new OverlapCountingQueue(clock), { fillFromFewestRepositories: true }) });
      const queue = d.queue as OverlapCountingQueue;
      const sent = fill(queue, ['deep'], 30);
      for (const [group, ids] of fill(queue, Array.from({ length: 40 }, (_, i) => `single${i}`), 1)) sent.set(group, ids);
      const stats = await d.run();
      expect(stats.released).toBe(70);
      expect(d.jenkins.maxInFlight).toBe(8);
      expect(queue.bursts).toBe(1);
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids);
      expect(queue.remainingIds()).toEqual([]);
    });

    it('when the queue is empty, it never sends receives together', async () => {
      const d = drainWith({ concurrency: 8, queue: (clock) => new OverlapCountingQueue(clock) });
      await d.run();
      expect((d.queue as OverlapCountingQueue).maxInFlight).toBe(1);
    });

    it('when one receive hands out several repositories (fauxqs), the first receive feeds every worker and no receives go together', async () => {
      const d = drainWith({ concurrency: 4, attemptTicks: () => 5, queue: (clock) => new OverlapCountingQueue(clock) });
      fill(d.queue, ['a', 'b', 'c', 'd', 'e', 'f'], 4);
      const stats = await d.run();
      expect(stats.released).toBe(24);
      expect((d.queue as OverlapCountingQueue).maxInFlight).toBe(1);
    });

    it('when one of the receives sent together fails, what the others returned is still sent in order and the run ends', async () => {
      const d = drainWith({ concurrency: 4, attemptTicks: () => 40, queue: (clock) => Object.assign(new OverlapCountingQueue(clock), { fillFromFewestRepositories: true, failCall: 3 }) });
      const queue = d.queue as OverlapCountingQueue;
      const sent = fill(queue, ['a', 'b', 'c', 'd', 'e', 'f'], 12);
      const stats = await d.run();
      const returned = queue.receiveCallsMade().flatMap((c) => c.returned);
      // Receives 1, 2 and 4 landed (30 webhooks); all of them went to Jenkins, in order, and were deleted.
      expect(returned).toHaveLength(30);
      expect(stats.released).toBe(30);
      expect(d.queue.deletedIds.sort()).toEqual([...returned].sort());
      for (const [group, ids] of sent) expect(attemptsOfGroup(d.jenkins, group)).toEqual(ids.filter((id) => returned.includes(id)));
      expect(d.log.lines.some((l) => l.level === 'error' && /receive failed; ending this run/.test(l.message))).toBe(true);
      expect(queue.receiveCallsMade()).toHaveLength(3);
    });

    it.each(Array.from({ length: 12 }, (_, i) => i + 1))(
      'when the last busy worker finishes while an empty receive is in flight (attempt of %i event-loop turns), the run still ends',
      async (attemptTurns) => {
        // SQS answers an empty short poll in tens of milliseconds and a Jenkins POST can finish
        // inside that window. The empty receive here takes 5 turns; sweeping the attempt length
        // makes the worker finish before, during and after it. The poller must not then wait
        // for a wake-up that nobody will send.
        class SlowEmptyReceive extends FakeFifoQueue {
          async receive(maxMessages: number, waitSeconds: number): Promise<HeldWebhook[]> {
            const out = await super.receive(maxMessages, waitSeconds);
            if (out.length === 0) await ticks(5);
            return out;
          }
        }
        const d = drainWith({ concurrency: 1, attemptTicks: () => attemptTurns, queue: (clock) => new SlowEmptyReceive(clock) });
        fill(d.queue, ['a'], 1);
        const stats = await d.run(1000);
        expect(stats.released).toBe(1);
        expect(d.queue.remainingIds()).toEqual([]);
      },
    );
  });
});
