/**
 * S1 Jenkins-bound backlog: a warm drain container releases a backlog into a Jenkins that takes
 * 30 ms per webhook. What matters is how busy it keeps Jenkins: the mean number of webhooks in flight at
 * Jenkins while at least `cap` repositories still had webhooks to come, next to the cap. Each round
 * also runs, in a rotating order against the same Jenkins, the `--baseline` drain (its own queue
 * and warm container) and bare HTTP posts of the same deliveries (bench/lib/bare-posts.ts): what any
 * consumer reaches against that Jenkins on this machine at that moment. Differences are paired by round.
 */
import { queueDepth } from '../../__tests__/support/fauxqs';
import { WEBHOOK_SECRET } from '../../__tests__/support/webhooks';
import { benchQueues, CONCURRENCY, cpuMeter, drainEnvFor, drainUntil, HANG_NOTE, okText, REPOS, warmDrain, type Bench } from '../lib/context';
import { busyWindow, maxOverlap, rampUp, spread, steadyCpuPerWebhook, type Visit } from '../lib/measures';
import { barePosts } from '../lib/bare-posts';
import { variantName, type DrainVariant, type LoadedDrain } from '../lib/drain';
import { startJenkinsProcess, type DeliveryRecord, type JenkinsProcess } from '../lib/procs';
import { mean, progress, round } from '../lib/stats';
import { checkDeliveries, enqueueThroughEdge, fill, makeDeliveries, recordsOf, type SentWebhook } from '../lib/workload';

const SERVICE_MS = 30;
export const EFFECTIVE_SHARE_TARGET = 0.95;

export function visitsOf(records: readonly DeliveryRecord[]): Visit[] {
  return records
    .filter((d) => d.status === 200 && d.answeredAt !== undefined)
    .map((d) => ({ repo: d.repo, receivedAt: d.receivedAt, answeredAt: d.answeredAt! }));
}

interface S1Run {
  readonly effective: number;
  readonly rampUpMs: number;
  /** Of the cap over the busy window: what the ramp-up's idle slots cost the effective figure. */
  readonly rampUpCost: number;
  readonly sqsCallsPerWebhook: number;
  readonly wholeRun: number;
  readonly throughput: number;
  readonly meanServiceMs: number;
  readonly cpuMsPerWebhook: number;
  readonly coresUsed: number;
  readonly ok: boolean;
  readonly problems: string;
  readonly detail: Record<string, unknown>;
}

async function measuredRun(bench: Bench, drain: LoadedDrain, jenkins: JenkinsProcess, sent: readonly SentWebhook[], queueUrl: string): Promise<S1Run> {
  const meter = cpuMeter({ sqs: bench.sqs.pid, jenkins: jenkins.pid, drain: drain.pid });
  const outcome = await drainUntil(drain, jenkins, sent.length, 180_000);
  const cpu = meter();
  const { invocation } = outcome;
  const records = recordsOf(sent, (await jenkins.snapshot()).deliveries);
  const check = checkDeliveries(sent, records);
  const visits = visitsOf(records);
  const busy = busyWindow(visits, CONCURRENCY);
  const first = Math.min(...visits.map((v) => v.receivedAt));
  const last = Math.max(...visits.map((v) => v.answeredAt));
  const meanServiceMs = mean(visits.map((v) => v.answeredAt - v.receivedAt));
  const throughput = visits.length / ((last - first) / 1000);
  const steady = invocation ? steadyCpuPerWebhook(invocation.samples) : undefined;
  const after = await queueDepth(bench.sqs.sqs, queueUrl);
  const left = after.visible + after.inFlight;
  const maxInFlight = maxOverlap(visits);
  const ramp = rampUp(visits, CONCURRENCY);
  const ok = outcome.reached && !outcome.hung && !outcome.stalled && left === 0 && maxInFlight <= CONCURRENCY
    && check.lost === 0 && check.outOfOrder === 0 && check.duplicates === 0 && check.badSignatures === 0;
  const sqsCalls = invocation ? Object.values(invocation.sqsCalls).reduce((a, b) => a + b, 0) : NaN;
  return {
    effective: busy?.effectiveConcurrency ?? NaN,
    rampUpMs: ramp.ms,
    rampUpCost: busy ? ramp.idleSlotMs / (busy.endMs - busy.startMs) : NaN,
    sqsCallsPerWebhook: sqsCalls / sent.length,
    wholeRun: (throughput * meanServiceMs) / 1000,
    throughput, meanServiceMs,
    cpuMsPerWebhook: steady?.msPerWebhook ?? NaN,
    coresUsed: cpu.coresUsed.drain,
    ok,
    problems: `lost ${check.lost}, out of order ${check.outOfOrder}, duplicates ${check.duplicates}, bad signatures ${check.badSignatures}, ${okText(outcome)}, ${left} left`,
    detail: {
      webhooksPerSecond: round(throughput), meanJenkinsServiceMs: round(meanServiceMs, 3), effectiveConcurrency: round(busy?.effectiveConcurrency ?? NaN, 3),
      busyWindowMs: busy ? busy.endMs - busy.startMs : null, rampUpMs: ramp.ms, rampUpIdleSlotMs: ramp.idleSlotMs, ...check, maxInFlightFromTimestamps: maxInFlight, hung: outcome.hung, stalled: outcome.stalled,
      cpuMsPerWebhookSteady: steady ? round(steady.msPerWebhook, 4) : null, drainCpuMs: invocation ? round(invocation.cpuMs) : null,
      stats: invocation?.result.stats ?? null, sqsCallsByAction: invocation?.sqsCalls ?? null, queueAfter: after, cpu,
    },
  };
}

type S1Consumer = 'drain' | 'baseline' | 'bare';

/** What bare HTTP posts of the backlog kept in flight at Jenkins (no SQS at all). */
async function bareRun(jenkins: JenkinsProcess, sent: readonly SentWebhook[]): Promise<number> {
  await barePosts(jenkins.url, sent, CONCURRENCY);
  const visits = visitsOf(recordsOf(sent, (await jenkins.snapshot()).deliveries));
  if (visits.length !== sent.length) throw new Error(`bare posts: Jenkins accepted ${visits.length} of ${sent.length}`);
  return busyWindow(visits, CONCURRENCY)?.effectiveConcurrency ?? NaN;
}

export async function jenkinsBound(bench: Bench): Promise<void> {
  const n = bench.options.n1;
  const { variant, baseline } = bench.options;
  progress(`S1 Jenkins-bound backlog: ${n} deliveries across ${REPOS} repositories, Jenkins ${SERVICE_MS} ms/webhook, CONCURRENCY=${CONCURRENCY}, ${bench.sqs.name}${baseline ? `, beside ${variantName(baseline)}` : ''}`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: SERVICE_MS });
  const runs: Record<S1Consumer, S1Run[]> = { drain: [], baseline: [], bare: [] };
  const bare: number[] = [];
  let maxInFlight = 0;
  const drains: Array<{ consumer: 'drain' | 'baseline'; drain: LoadedDrain; queueUrl: string; refill: (suffix: string) => Promise<void> }> = [];
  try {
    const source = await benchQueues(bench, 's1-edge');
    const sent = makeDeliveries(n, REPOS, 's1');
    const enq = await enqueueThroughEdge(bench.edgeFor(source.queueUrl), sent);
    progress(`  enqueued through the Edge in ${(enq.ms / 1000).toFixed(1)} s; warming drain containers up on copies of it`);
    const wanted: Array<['drain' | 'baseline', DrainVariant]> = [['drain', variant], ...(baseline ? [['baseline', baseline] as ['baseline', DrainVariant]] : [])];
    for (const [consumer, v] of wanted) {
      // Each drain its own queue: a warm-up leaves one copy of the backlog for its first measured run.
      const queues = await benchQueues(bench, `s1-${consumer}`);
      const refill = (suffix: string) => fill(bench.sqs.sqs, queues.queueUrl, enq.captured, suffix);
      const env = drainEnvFor(bench, jenkins.url, queues.queueUrl, queues.dlqUrl, { CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '0', MAX_RUN_SECONDS: '240' });
      const { drain, cold } = await warmDrain(env, v, jenkins, n, refill, SERVICE_MS);
      drains.push({ consumer, drain, queueUrl: queues.queueUrl, refill });
      if (!cold.reached) throw new Error(`the ${consumer} warm-up invocation did not release its backlog`);
    }
    const consumers: S1Consumer[] = [...drains.map((d) => d.consumer), 'bare'];
    for (let i = 0; i < bench.options.s1Runs; i += 1) {
      // Rotated, so no consumer always runs right after the same one.
      const order = consumers.map((_, k) => consumers[(k + i) % consumers.length]);
      for (const consumer of order) {
        await jenkins.reset(SERVICE_MS);
        if (consumer === 'bare') {
          bare.push(await bareRun(jenkins, sent));
          continue;
        }
        const d = drains.find((x) => x.consumer === consumer)!;
        if (i > 0) await d.refill(`:run${i}`);
        const r = await measuredRun(bench, d.drain, jenkins, sent, d.queueUrl);
        runs[consumer].push(r);
      }
      const line = consumers.map((c) => `${c} ${(c === 'bare' ? bare[i] : runs[c][i].effective).toFixed(2)}`).join(', ');
      progress(`  round ${i + 1}/${bench.options.s1Runs}: in flight at Jenkins while ${CONCURRENCY}+ repositories had work, of ${CONCURRENCY}: ${line}`);
    }
    maxInFlight = (await jenkins.snapshot()).maxInFlight;
  } finally {
    for (const d of drains) await d.drain.stop();
    await jenkins.stop();
  }
  report(bench, runs, bare, maxInFlight);
}

function report(bench: Bench, all: Record<S1Consumer, S1Run[]>, bare: readonly number[], maxInFlight: number): void {
  const n = bench.options.n1;
  const runs = all.drain;
  const baselineRuns = all.baseline;
  const of = (f: (r: S1Run) => number) => spread(runs.map(f));
  const fmt = (x: ReturnType<typeof spread>, digits = 2) => `${x.median.toFixed(digits)} (${x.min.toFixed(digits)}-${x.max.toFixed(digits)})`;
  const effective = of((r) => r.effective);
  const cpu = of((r) => r.cpuMsPerWebhook);
  const service = of((r) => r.meanServiceMs);
  const bad = runs.filter((r) => !r.ok);
  const bareSpread = spread(bare);
  const results = (bench.results.jenkinsBound ??= {}) as Record<string, unknown>;
  results[bench.sqs.key] = {
    emulator: bench.sqs.name, deliveries: n, repositories: REPOS, concurrency: CONCURRENCY, serviceTimeMs: SERVICE_MS, runs: runs.map((r) => r.detail),
    effectiveConcurrency: effective, maxInFlight, bareHttpEffectiveConcurrency: bareSpread,
    ...(baselineRuns.length > 0 ? { baseline: { runs: baselineRuns.map((r) => r.detail), effectiveConcurrency: spread(baselineRuns.map((r) => r.effective)) } } : {}),
  };
  const s = `S1 Jenkins-bound, ${bench.sqs.name}`;
  const { rows } = bench;
  rows.push({ scenario: s, metric: `throughput (${n} webhooks, ${SERVICE_MS} ms Jenkins; median (range) of ${runs.length} warm runs)`, value: fmt(of((r) => r.throughput), 1), unit: '/s' });
  rows.push({
    scenario: s, metric: `effective concurrency (mean in flight at Jenkins from the first arrival, ramp-up included, while >= ${CONCURRENCY} repositories had work)`, value: fmt(effective), unit: `of ${CONCURRENCY}`,
    target: `>= ${(EFFECTIVE_SHARE_TARGET * CONCURRENCY).toFixed(2)} (${EFFECTIVE_SHARE_TARGET * 100}%)`, pass: effective.median >= EFFECTIVE_SHARE_TARGET * CONCURRENCY,
    why: `bare HTTP posts of the same deliveries (no SQS) reached ${fmt(bareSpread)} against this Jenkins in the same rounds: the HTTP round trip between two processes ` +
      `on this machine costs that much of the cap whatever the consumer. Between one answer and the next POST on a slot the drain adds its per-webhook CPU ` +
      `(${cpu.median.toFixed(3)} ms here) and any wait for its event loop, against ${service.median.toFixed(1)} ms of Jenkins; the drain process used ${of((r) => r.coresUsed).median} cores.`,
  });
  rows.push({ scenario: s, metric: `bare HTTP posts of the same deliveries, ${CONCURRENCY} loops, no SQS (what any consumer reaches here; same rounds)`, value: fmt(bareSpread), unit: `of ${CONCURRENCY}` });
  rows.push({ scenario: s, metric: 'drain minus bare HTTP posts (paired by round)', value: fmt(spread(runs.map((r, i) => r.effective - bare[i]))), unit: 'of the cap' });
  rows.push({ scenario: s, metric: `ramp-up: from the first arrival until ${CONCURRENCY} in flight`, value: fmt(of((r) => r.rampUpMs), 0), unit: 'ms' });
  rows.push({ scenario: s, metric: 'what the ramp-up cost the effective concurrency (idle slots before the cap was reached)', value: fmt(of((r) => r.rampUpCost), 3), unit: 'of the cap' });
  rows.push({ scenario: s, metric: 'SQS calls per webhook, Jenkins-bound', value: fmt(of((r) => r.sqsCallsPerWebhook), 3) });
  if (baselineRuns.length > 0) {
    const name = variantName(bench.options.baseline!);
    rows.push({ scenario: s, metric: `baseline effective concurrency (${name})`, value: fmt(spread(baselineRuns.map((r) => r.effective))), unit: `of ${CONCURRENCY}` });
    rows.push({ scenario: s, metric: `baseline ramp-up (${name})`, value: fmt(spread(baselineRuns.map((r) => r.rampUpMs)), 0), unit: 'ms' });
    rows.push({ scenario: s, metric: 'drain minus baseline effective concurrency (paired by round)', value: fmt(spread(runs.map((r, i) => r.effective - baselineRuns[i].effective))), unit: 'of the cap' });
    rows.push({ scenario: s, metric: `baseline SQS calls per webhook, Jenkins-bound (${name})`, value: fmt(spread(baselineRuns.map((r) => r.sqsCallsPerWebhook)), 3) });
  }
  rows.push({ scenario: s, metric: 'the same over the whole run (throughput x mean Jenkins latency)', value: fmt(of((r) => r.wholeRun)), unit: `of ${CONCURRENCY}` });
  rows.push({ scenario: s, metric: 'drain CPU per webhook at steady state, Jenkins-bound', value: fmt(cpu, 3), unit: 'ms' });
  rows.push({ scenario: s, metric: 'max in flight at Jenkins (counted by Jenkins, warm-up included)', value: maxInFlight, target: `<= ${CONCURRENCY}`, pass: maxInFlight > 0 && maxInFlight <= CONCURRENCY });
  rows.push({ scenario: s, metric: 'every run: lost / out of order / duplicates / bad signatures 0, ended when told, queue empty', value: bad.length === 0 && runs.length === bench.options.s1Runs ? 'ok' : `${bad.length} bad: ${bad.map((r) => r.problems).join('; ')}`,
    target: 'ok', pass: bad.length === 0 && runs.length === bench.options.s1Runs, why: HANG_NOTE });
}
