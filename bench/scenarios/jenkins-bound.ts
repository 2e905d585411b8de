/**
 * S1 Jenkins-bound backlog: a warm drain container releases a backlog into a Jenkins that takes
 * 30 ms per webhook. What matters is how busy it keeps Jenkins: the mean number of webhooks in flight at
 * Jenkins while at least `cap` repositories still had webhooks to come, next to the cap.
 */
import { queueDepth } from '../../__tests__/support/fauxqs';
import { WEBHOOK_SECRET } from '../../__tests__/support/webhooks';
import { benchQueues, CONCURRENCY, cpuMeter, drainEnvFor, drainUntil, HANG_NOTE, okText, REPOS, warmDrain, type Bench } from '../lib/context';
import { busyWindow, steadyCpuPerWebhook, type Visit } from '../lib/measures';
import { startJenkinsProcess, type DeliveryRecord } from '../lib/procs';
import { mean, progress, round } from '../lib/stats';
import { checkDeliveries, enqueueThroughEdge, fill, makeDeliveries, recordsOf } from '../lib/workload';

const SERVICE_MS = 30;
export const EFFECTIVE_SHARE_TARGET = 0.95;

export function visitsOf(records: readonly DeliveryRecord[]): Visit[] {
  return records
    .filter((d) => d.status === 200 && d.answeredAt !== undefined)
    .map((d) => ({ repo: d.repo, receivedAt: d.receivedAt, answeredAt: d.answeredAt! }));
}

export async function jenkinsBound(bench: Bench): Promise<void> {
  const n = bench.options.n1;
  progress(`S1 Jenkins-bound backlog: ${n} deliveries across ${REPOS} repositories, Jenkins ${SERVICE_MS} ms/webhook, CONCURRENCY=${CONCURRENCY}, ${bench.sqs.name}`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: SERVICE_MS });
  try {
    const source = await benchQueues(bench, 's1-edge');
    const sent = makeDeliveries(n, REPOS, 's1');
    const enq = await enqueueThroughEdge(bench.edgeFor(source.queueUrl), sent);
    progress(`  enqueued through the Edge in ${(enq.ms / 1000).toFixed(1)} s; warming a drain container up on copies of it`);
    const queues = await benchQueues(bench, 's1');
    const env = drainEnvFor(bench, jenkins.url, queues.queueUrl, queues.dlqUrl, { CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '0', MAX_RUN_SECONDS: '240' });
    const { drain, cold } = await warmDrain(env, bench.options.variant, jenkins, n, (suffix) => fill(bench.sqs.sqs, queues.queueUrl, enq.captured, suffix), SERVICE_MS);
    if (!cold.reached) throw new Error('the warm-up invocation did not release its backlog');
    const meter = cpuMeter({ sqs: bench.sqs.pid, jenkins: jenkins.pid, drain: drain.pid });
    const outcome = await drainUntil(drain, jenkins, n, 180_000);
    const cpu = meter();
    await drain.stop();
    const { invocation } = outcome;
    const snap = await jenkins.snapshot();
    const records = recordsOf(sent, snap.deliveries);
    const check = checkDeliveries(sent, records);
    const visits = visitsOf(records);
    const busy = busyWindow(visits, CONCURRENCY);
    const first = Math.min(...visits.map((v) => v.receivedAt));
    const last = Math.max(...visits.map((v) => v.answeredAt));
    const meanServiceMs = mean(visits.map((v) => v.answeredAt - v.receivedAt));
    const throughput = visits.length / ((last - first) / 1000);
    const wholeRun = (throughput * meanServiceMs) / 1000;
    const effective = busy?.effectiveConcurrency ?? NaN;
    const steady = invocation ? steadyCpuPerWebhook(invocation.samples) : undefined;
    const sqsCalls = invocation ? Object.values(invocation.sqsCalls).reduce((a, b) => a + b, 0) : NaN;
    const after = await queueDepth(bench.sqs.sqs, queues.queueUrl);
    progress(`  ${visits.length} delivered, ${throughput.toFixed(1)}/s; in flight at Jenkins while ${CONCURRENCY}+ repositories had work: ${effective.toFixed(2)} of ${CONCURRENCY}; max ${snap.maxInFlight}`);
    const all = (bench.results.jenkinsBound ??= {}) as Record<string, unknown>;
    all[bench.sqs.key] = {
      emulator: bench.sqs.name, deliveries: n, repositories: REPOS, concurrency: CONCURRENCY, serviceTimeMs: SERVICE_MS, enqueueMs: round(enq.ms),
      webhooksPerSecond: round(throughput), meanJenkinsServiceMs: round(meanServiceMs, 3),
      effectiveConcurrency: round(effective, 3), effectiveShareOfCap: round(effective / CONCURRENCY, 3),
      busyWindowMs: busy ? busy.endMs - busy.startMs : null, wholeRunEffectiveConcurrency: round(wholeRun, 3),
      maxInFlight: snap.maxInFlight, ...check, reachedAll: outcome.reached, stalled: outcome.stalled, hung: outcome.hung,
      cpuMsPerWebhookSteady: steady ? round(steady.msPerWebhook, 4) : null, drainCpuMs: invocation ? round(invocation.cpuMs) : null,
      drainInitMs: round(drain.initMs), stats: invocation?.result.stats ?? null,
      sqsCalls, sqsCallsByAction: invocation?.sqsCalls ?? null, emfSqsCalls: invocation?.metrics.SqsCalls ?? null, queueAfter: after, cpu,
    };
    const s = `S1 Jenkins-bound, ${bench.sqs.name}`;
    const { rows } = bench;
    rows.push({ scenario: s, metric: `throughput (${n} webhooks, ${SERVICE_MS} ms Jenkins)`, value: round(throughput, 1), unit: '/s' });
    rows.push({
      scenario: s, metric: `effective concurrency (mean in flight at Jenkins while >= ${CONCURRENCY} repositories had work)`, value: round(effective, 2), unit: `of ${CONCURRENCY}`,
      target: `>= ${(EFFECTIVE_SHARE_TARGET * CONCURRENCY).toFixed(2)} (${EFFECTIVE_SHARE_TARGET * 100}%)`, pass: effective >= EFFECTIVE_SHARE_TARGET * CONCURRENCY,
      why: `between one webhook's answer and the next POST on the same slot the drain spends its per-webhook CPU (${steady ? steady.msPerWebhook.toFixed(3) : '?'} ms here) ` +
        `plus any wait for the event loop, against ${meanServiceMs.toFixed(1)} ms of Jenkins; the drain process used ${cpu.coresUsed.drain} cores.`,
    });
    rows.push({ scenario: s, metric: 'the same over the whole run (throughput x mean Jenkins latency)', value: round(wholeRun, 2), unit: `of ${CONCURRENCY}` });
    rows.push({ scenario: s, metric: 'max in flight at Jenkins (warm-up included)', value: snap.maxInFlight, target: `<= ${CONCURRENCY}`, pass: snap.maxInFlight <= CONCURRENCY });
    rows.push({ scenario: s, metric: 'lost / out of order (per repository) / duplicates / bad signatures', value: `${check.lost} / ${check.outOfOrder} / ${check.duplicates} / ${check.badSignatures}`,
      target: '0 / 0 / 0 / 0', pass: outcome.reached && check.lost === 0 && check.outOfOrder === 0 && check.duplicates === 0 && check.badSignatures === 0 });
    rows.push({ scenario: s, metric: 'invocation ends when told (no hang/stall), queue empty after', value: `${okText(outcome)}, ${after.visible + after.inFlight} left`, target: 'ok, 0 left',
      pass: !outcome.hung && !outcome.stalled && after.visible + after.inFlight === 0, why: HANG_NOTE });
  } finally {
    await jenkins.stop();
  }
}
