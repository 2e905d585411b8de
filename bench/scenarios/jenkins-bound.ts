/**
 * S1 Jenkins-bound backlog: a warm drain container releases a backlog into a Jenkins that takes
 * 30 ms per webhook. What matters is how busy it keeps Jenkins: the mean number of webhooks in flight at
 * Jenkins while at least `cap` repositories still had webhooks to come, next to the cap.
 */
import { queueDepth } from '../../__tests__/support/fauxqs';
import { WEBHOOK_SECRET } from '../../__tests__/support/webhooks';
import { benchQueues, CONCURRENCY, cpuMeter, drainEnvFor, drainUntil, HANG_NOTE, okText, REPOS, warmDrain, type Bench } from '../lib/context';
import { busyWindow, maxOverlap, spread, steadyCpuPerWebhook, type Visit } from '../lib/measures';
import type { LoadedDrain } from '../lib/drain';
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

/** Measured invocations of the one warm container: S1 reports their median and range. */
export const S1_RUNS = 3;

interface S1Run {
  readonly effective: number;
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
  const ok = outcome.reached && !outcome.hung && !outcome.stalled && left === 0 && maxInFlight <= CONCURRENCY
    && check.lost === 0 && check.outOfOrder === 0 && check.duplicates === 0 && check.badSignatures === 0;
  return {
    effective: busy?.effectiveConcurrency ?? NaN,
    wholeRun: (throughput * meanServiceMs) / 1000,
    throughput, meanServiceMs,
    cpuMsPerWebhook: steady?.msPerWebhook ?? NaN,
    coresUsed: cpu.coresUsed.drain,
    ok,
    problems: `lost ${check.lost}, out of order ${check.outOfOrder}, duplicates ${check.duplicates}, bad signatures ${check.badSignatures}, ${okText(outcome)}, ${left} left`,
    detail: {
      webhooksPerSecond: round(throughput), meanJenkinsServiceMs: round(meanServiceMs, 3), effectiveConcurrency: round(busy?.effectiveConcurrency ?? NaN, 3),
      busyWindowMs: busy ? busy.endMs - busy.startMs : null, ...check, maxInFlightFromTimestamps: maxInFlight, hung: outcome.hung, stalled: outcome.stalled,
      cpuMsPerWebhookSteady: steady ? round(steady.msPerWebhook, 4) : null, drainCpuMs: invocation ? round(invocation.cpuMs) : null,
      stats: invocation?.result.stats ?? null, sqsCallsByAction: invocation?.sqsCalls ?? null, queueAfter: after, cpu,
    },
  };
}

export async function jenkinsBound(bench: Bench): Promise<void> {
  const n = bench.options.n1;
  progress(`S1 Jenkins-bound backlog: ${n} deliveries across ${REPOS} repositories, Jenkins ${SERVICE_MS} ms/webhook, CONCURRENCY=${CONCURRENCY}, ${bench.sqs.name}`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: SERVICE_MS });
  const runs: S1Run[] = [];
  let maxInFlight = 0;
  try {
    const source = await benchQueues(bench, 's1-edge');
    const sent = makeDeliveries(n, REPOS, 's1');
    const enq = await enqueueThroughEdge(bench.edgeFor(source.queueUrl), sent);
    progress(`  enqueued through the Edge in ${(enq.ms / 1000).toFixed(1)} s; warming a drain container up on copies of it`);
    const queues = await benchQueues(bench, 's1');
    const refill = (suffix: string) => fill(bench.sqs.sqs, queues.queueUrl, enq.captured, suffix);
    const env = drainEnvFor(bench, jenkins.url, queues.queueUrl, queues.dlqUrl, { CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '0', MAX_RUN_SECONDS: '240' });
    const { drain, cold } = await warmDrain(env, bench.options.variant, jenkins, n, refill, SERVICE_MS);
    try {
      if (!cold.reached) throw new Error('the warm-up invocation did not release its backlog');
      for (let i = 0; i < S1_RUNS; i += 1) {
        if (i > 0) {
          await jenkins.reset(SERVICE_MS);
          await refill(`:run${i}`);
        }
        const r = await measuredRun(bench, drain, jenkins, sent, queues.queueUrl);
        runs.push(r);
        progress(`  run ${i + 1}/${S1_RUNS}: ${r.throughput.toFixed(1)}/s; in flight at Jenkins while ${CONCURRENCY}+ repositories had work: ${r.effective.toFixed(2)} of ${CONCURRENCY}`);
      }
    } finally {
      await drain.stop();
    }
    maxInFlight = (await jenkins.snapshot()).maxInFlight;
  } finally {
    await jenkins.stop();
  }
  report(bench, runs, maxInFlight);
}

function report(bench: Bench, runs: readonly S1Run[], maxInFlight: number): void {
  const n = bench.options.n1;
  const of = (f: (r: S1Run) => number) => spread(runs.map(f));
  const fmt = (x: ReturnType<typeof spread>, digits = 2) => `${x.median.toFixed(digits)} (${x.min.toFixed(digits)}-${x.max.toFixed(digits)})`;
  const effective = of((r) => r.effective);
  const cpu = of((r) => r.cpuMsPerWebhook);
  const service = of((r) => r.meanServiceMs);
  const bad = runs.filter((r) => !r.ok);
  const all = (bench.results.jenkinsBound ??= {}) as Record<string, unknown>;
  all[bench.sqs.key] = {
    emulator: bench.sqs.name, deliveries: n, repositories: REPOS, concurrency: CONCURRENCY, serviceTimeMs: SERVICE_MS, runs: runs.map((r) => r.detail),
    effectiveConcurrency: effective, maxInFlight,
  };
  const s = `S1 Jenkins-bound, ${bench.sqs.name}`;
  const { rows } = bench;
  rows.push({ scenario: s, metric: `throughput (${n} webhooks, ${SERVICE_MS} ms Jenkins; median (range) of ${runs.length} warm runs)`, value: fmt(of((r) => r.throughput), 1), unit: '/s' });
  rows.push({
    scenario: s, metric: `effective concurrency (mean in flight at Jenkins while >= ${CONCURRENCY} repositories had work)`, value: fmt(effective), unit: `of ${CONCURRENCY}`,
    target: `>= ${(EFFECTIVE_SHARE_TARGET * CONCURRENCY).toFixed(2)} (${EFFECTIVE_SHARE_TARGET * 100}%)`, pass: effective.median >= EFFECTIVE_SHARE_TARGET * CONCURRENCY,
    why: `between one webhook's answer and the next POST on the same slot the drain spends its per-webhook CPU (${cpu.median.toFixed(3)} ms here) plus any wait for ` +
      `the event loop and for a CPU (the machine is shared), against ${service.median.toFixed(1)} ms of Jenkins; the drain process used ${of((r) => r.coresUsed).median} cores.`,
  });
  rows.push({ scenario: s, metric: 'the same over the whole run (throughput x mean Jenkins latency)', value: fmt(of((r) => r.wholeRun)), unit: `of ${CONCURRENCY}` });
  rows.push({ scenario: s, metric: 'drain CPU per webhook at steady state, Jenkins-bound', value: fmt(cpu, 3), unit: 'ms' });
  rows.push({ scenario: s, metric: 'max in flight at Jenkins (counted by Jenkins, warm-up included)', value: maxInFlight, target: `<= ${CONCURRENCY}`, pass: maxInFlight > 0 && maxInFlight <= CONCURRENCY });
  rows.push({ scenario: s, metric: 'every run: lost / out of order / duplicates / bad signatures 0, ended when told, queue empty', value: bad.length === 0 && runs.length === S1_RUNS ? 'ok' : `${bad.length} bad: ${bad.map((r) => r.problems).join('; ')}`,
    target: 'ok', pass: bad.length === 0 && runs.length === S1_RUNS, why: HANG_NOTE });
}
