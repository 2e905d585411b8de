/**
 * S3 release latency while open, and reopen-to-first-release.
 *  - trickle: a drain with the production idle wait (long polling) on an empty queue; 20
 *    webhooks/s for 10 s accepted through the Edge; latency = Jenkins receipt - Edge accept.
 *  - reopen: 50 webhooks held behind a closed spigot; PutParameter open, then a fresh drain is
 *    invoked at once with an `aws.ssm` event, as the stack's EventBridge rule would.
 */
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { TEST_CREDENTIALS, TEST_REGION } from '../../__tests__/support/fauxqs';
import { WEBHOOK_SECRET } from '../../__tests__/support/webhooks';
import { benchQueues, CONCURRENCY, drainEnvFor, drainUntil, HANG_NOTE, REPOS, type Bench } from '../lib/context';
import { loadDrain } from '../lib/drain';
import { startJenkinsProcess } from '../lib/procs';
import { mean, percentile, progress, round, sleep } from '../lib/stats';
import { acceptOne, checkDeliveries, enqueueThroughEdge, makeDeliveries, recordsOf } from '../lib/workload';

const SERVICE_MS = 30;

export async function latency(bench: Bench): Promise<void> {
  const RATE = 20;
  const SECONDS = 10;
  const count = RATE * SECONDS;
  const s = 'S3 latency while open';
  const { rows } = bench;
  progress(`S3 release latency: ${RATE}/s for ${SECONDS} s through the Edge while a drain (IDLE_WAIT_SECONDS=20) runs`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: SERVICE_MS });
  try {
    const queues = await benchQueues(bench, 's3');
    const edge = bench.edgeFor(queues.queueUrl);
    const sent = makeDeliveries(count, REPOS, 's3');
    const drain = await loadDrain(drainEnvFor(bench, jenkins.url, queues.queueUrl, queues.dlqUrl, {
      CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '20', MAX_RUN_SECONDS: String(SECONDS + 4),
    }), bench.options.variant);
    const runStarted = Date.now();
    const run = drain.start({ timeoutMs: 300_000 });
    await sleep(1500); // the drain is now idle in a long poll
    const acceptedAt = new Map<string, number>();
    const t0 = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      const wait = t0 + (i * 1000) / RATE - Date.now();
      if (wait > 0) await sleep(wait);
      acceptedAt.set(sent[i].delivery.deliveryId, Date.now());
      pending.push(acceptOne(edge, sent[i]));
    }
    await Promise.all(pending);
    let reached = true;
    try {
      await jenkins.whenAccepted(count, 20_000);
    } catch (error) {
      reached = false;
      progress(`  !! ${(error as Error).message}`);
    }
    // The run ends by MAX_RUN_SECONDS (the long poll is bounded by it); allow 10 s more.
    const ended = await Promise.race([run.done.catch(() => 'failed' as const), sleep(Math.max(0, runStarted + (SECONDS + 4) * 1000 + 10_000 - Date.now())).then(() => 'hung' as const)]);
    const invocation = typeof ended === 'string' ? undefined : ended;
    if (ended === 'hung') {
      progress('  !! the trickle drain invocation did not end 10 s after MAX_RUN_SECONDS (hung); abandoning it');
      run.abandon();
    }
    await drain.stop();
    rows.push({ scenario: s, metric: 'trickle invocation ends by MAX_RUN_SECONDS', value: typeof ended === 'string' ? ended.toUpperCase() : 'ok', target: 'ok', pass: invocation !== undefined, why: HANG_NOTE });
    const snap = await jenkins.snapshot();
    const records = recordsOf(sent, snap.deliveries).filter((d) => d.status === 200);
    const latencies = records.map((d) => d.receivedAt - acceptedAt.get(d.deliveryId!)!);
    const check = checkDeliveries(sent, records);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    progress(`  p50 ${p50} ms, p99 ${p99} ms, max ${Math.max(...latencies)} ms; ${invocation?.result.stats?.receiveCalls} receives`);

    progress('S3b reopen: 50 held webhooks, PutParameter open, invoke a cold drain as the EventBridge rule would');
    const reopenParam = '/spigot/reopen';
    bench.ssm.putDirect(reopenParam, 'closed', { description: 'closed by an operator' });
    const rq = await benchQueues(bench, 's3-reopen');
    const held = makeDeliveries(50, 10, 's3b');
    await enqueueThroughEdge(bench.edgeFor(rq.queueUrl), held);
    const ssmClient = new SSMClient({ endpoint: bench.ssm.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const before = (await jenkins.snapshot()).deliveries.filter((d) => d.status === 200).length;
    const opened = Date.now();
    await ssmClient.send(new PutParameterCommand({ Name: reopenParam, Value: 'open', Overwrite: true, Type: 'String' }));
    const putMs = Date.now() - opened;
    // The cold start counts: the drain process is started after the spigot opened.
    const cold = await loadDrain(drainEnvFor(bench, jenkins.url, rq.queueUrl, rq.dlqUrl, {
      CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '20', MAX_RUN_SECONDS: '5',
    }, reopenParam), bench.options.variant);
    const ssmEvent = { source: 'aws.ssm', 'detail-type': 'Parameter Store Change', detail: { name: reopenParam, operation: 'Update' } };
    const reopen = await drainUntil(cold, jenkins, before + held.length, 30_000, ssmEvent);
    await cold.stop();
    ssmClient.destroy();
    const reopenRecords = recordsOf(held, (await jenkins.snapshot()).deliveries).filter((d) => d.status === 200);
    const firstRelease = Math.min(...reopenRecords.map((d) => d.receivedAt)) - opened;
    const reopenCheck = checkDeliveries(held, reopenRecords);
    progress(`  first release ${firstRelease} ms after opening (PutParameter ${putMs} ms, cold init ${cold.initMs.toFixed(0)} ms)`);

    bench.results.latency = {
      ratePerSecond: RATE, seconds: SECONDS, deliveries: count, idleWaitSeconds: 20, serviceTimeMs: SERVICE_MS,
      p50Ms: p50, p90Ms: percentile(latencies, 90), p99Ms: p99, maxMs: Math.max(...latencies), meanMs: round(mean(latencies), 1),
      reachedAll: reached, ...check, hung: invocation === undefined, receiveCalls: invocation?.result.stats?.receiveCalls ?? null,
      reopen: { held: held.length, reachedAll: reopen.reached, putParameterMs: putMs, coldInitMs: round(cold.initMs), openToFirstReleaseMs: firstRelease, ...reopenCheck },
    };
    rows.push({ scenario: s, metric: `accept -> Jenkins p50 (${RATE}/s trickle)`, value: p50, unit: 'ms', target: '<= 2000 ms', pass: p50 <= 2000 });
    rows.push({ scenario: s, metric: 'accept -> Jenkins p99', value: p99, unit: 'ms' });
    rows.push({ scenario: s, metric: 'lost / out of order (trickle)', value: `${check.lost} / ${check.outOfOrder}`, target: '0 / 0', pass: reached && check.lost === 0 && check.outOfOrder === 0 });
    rows.push({ scenario: s, metric: 'open (PutParameter) -> first release, cold start included', value: firstRelease, unit: 'ms', target: '<= 5000 ms',
      pass: firstRelease <= 5000 && reopen.reached && !reopen.hung && reopenCheck.lost === 0,
      why: 'excludes EventBridge delivery of the SSM change event (seconds on AWS)' });
  } finally {
    await jenkins.stop();
  }
}
