/**
 * Spigot benchmark: `npm run bench` (= `tsx bench/run.ts`). See bench/README.md.
 *
 * Processes: this one runs the orchestration, the Edge (VTL emulator) and the BUNDLED drain
 * (required fresh, as a Lambda container would); fauxqs runs in its own child process and
 * the loopback Jenkins in another, so neither shares the drain's event loop. CPU time of
 * each is measured per phase (process.cpuUsage() here, /proc/<pid>/stat for children).
 *
 * Environment: BENCH_N (Jenkins-bound backlog, default 1500), BENCH_N2 (emulator-bound,
 * default 3000), BENCH_SKIP_SYNTH=1 (skip the synth and zip measurements), BENCH_ONLY=S1,S2
 * (run only the scenarios whose names start with these).
 */
import '../__tests__/support/jest-setup';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { createBufferQueues, queueDepth, TEST_CREDENTIALS, TEST_REGION } from '../__tests__/support/fauxqs';
import { Edge } from '../__tests__/support/edge';
import { startLoopbackSsm, type LoopbackSsm } from '../__tests__/support/loopback-ssm';
import { synthStack } from '../__tests__/support/synth';
import { WEBHOOK_SECRET } from '../__tests__/support/webhooks';
import { emulatorCeiling, naiveRelay, type BaselineRun } from './lib/baselines';
import { drainBundle, drainPatch, drainVariables, loadDrain, type Invocation } from './lib/drain';
import {
  cpuSecondsOf,
  killAllChildren,
  ownCpuSeconds,
  startFauxqsProcess,
  startJenkinsProcess,
  type DeliveryRecord,
  type FauxqsProcess,
  type JenkinsProcess,
} from './lib/procs';
import { countSqsCalls } from './lib/sqs-counter';
import { mean, median, percentile, progress, round, sleep } from './lib/stats';
import { acceptOne, checkDeliveries, enqueueThroughEdge, makeDeliveries, recordsOf, replicate } from './lib/workload';

const ROOT = path.resolve(__dirname, '..');
const N1 = Number(process.env.BENCH_N ?? 1500);
const N2 = Number(process.env.BENCH_N2 ?? 3000);
const REPOS = 50;
const CONCURRENCY = 8;
const SERVICE_MS = 30;
const PARAM = '/spigot/spigot';
const SECRET_PARAM = '/spigot/webhook-secret';

interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly value: number | string;
  readonly unit?: string;
  readonly target?: string;
  /** undefined = informational */
  readonly pass?: boolean;
  readonly why?: string;
}

const rows: Row[] = [];
const results: Record<string, unknown> = {};

interface Peers {
  readonly fauxqs: FauxqsProcess;
  readonly ssm: LoopbackSsm;
  readonly edgeFor: (queueUrl: string) => Edge;
}

/** CPU seconds per process over a phase, and the share of one core each used. */
function cpuMeter(children: Record<string, number>) {
  const wall0 = performance.now();
  const own0 = ownCpuSeconds();
  const child0 = Object.fromEntries(Object.entries(children).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  return () => {
    const wallS = (performance.now() - wall0) / 1000;
    const cpu: Record<string, number> = { 'bench+drain': ownCpuSeconds() - own0 };
    for (const [k, pid] of Object.entries(children)) cpu[k] = cpuSecondsOf(pid) - child0[k];
    const cores = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / wallS)]));
    const busiest = Object.entries(cores).sort((a, b) => b[1] - a[1])[0];
    return { wallS: round(wallS, 3), cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v, 3)])), coresUsed: cores, busiest: busiest[0] };
  };
}

function drainEnvFor(peers: Peers, jenkinsUrl: string, queueUrl: string, dlqUrl: string, extra: Record<string, string>, parameterName = PARAM) {
  return {
    jenkinsUrl, queueUrl, dlqUrl, parameterName, webhookSecretParameter: SECRET_PARAM,
    sqsEndpoint: peers.fauxqs.endpoint, ssmEndpoint: peers.ssm.endpoint, extra,
  };
}

/** Throughput and effective concurrency from Jenkins' own timestamps. */
function jenkinsSideStats(records: readonly DeliveryRecord[]) {
  const ok = records.filter((d) => d.status === 200 && d.answeredAt !== undefined);
  const first = Math.min(...ok.map((d) => d.receivedAt));
  const last = Math.max(...ok.map((d) => d.answeredAt!));
  const windowS = (last - first) / 1000;
  const throughput = ok.length / windowS;
  const meanServiceMs = mean(ok.map((d) => d.answeredAt! - d.receivedAt));
  return { delivered: ok.length, firstReceivedAt: first, lastAnsweredAt: last, windowS: round(windowS, 3), throughput, meanServiceMs, effectiveConcurrency: (throughput * meanServiceMs) / 1000 };
}

export interface DrainOutcome {
  readonly invocation?: Invocation;
  /** Jenkins accepted everything expected. */
  readonly reached: boolean;
  /** Jenkins saw no new webhook for STALL_MS before everything arrived. */
  readonly stalled: boolean;
  /** The invocation did not return within HANG_MS after its remaining time was set to 0. */
  readonly hung: boolean;
  readonly reachedMs: number;
  readonly acceptedAtEnd: number;
}

const STALL_MS = 8000;
const HANG_MS = 15000;
const HANG_NOTE =
  'A drain that does not return once its remaining time is 0, or that stops releasing with webhooks still queued, has a lost wake-up in release.ts poll() ' +
  '(seen before 73a659b: an empty receive made the poller wait for a signal a worker had already sent). The bench abandons such an invocation and counts what Jenkins got.';
/** Why the pipeline loses time; the numbers behind it are in results.json and bench/README.md. */
/** Why the pipeline loses time, from the SQS calls counted; the numbers behind it are in bench/README.md. */
function pipelineNote(byAction: Record<string, number>, delivered: number): string {
  const deletesPerWebhook = (byAction.DeleteMessageBatch ?? 0) / delivered;
  const fauxqs = 'fauxqs 1.9.2 returns at most ONE message per repository (message group) per ReceiveMessage (SQS returns as many of one group as it can), so every worker batch is 1 webhook. ';
  if (deletesPerWebhook > 0.5) {
    return `${fauxqs}release.ts awaits a 1-entry DeleteMessageBatch per webhook (${deletesPerWebhook.toFixed(2)} deletes/webhook) before the worker is free: ` +
      'pool deletes across repositories (measured: bench/drain-delete-pooling.patch on 73a659b, see README).';
  }
  return `${fauxqs}Deletes are pooled (${deletesPerWebhook.toFixed(2)}/webhook), but after an empty receive with no worker busy the poller sleeps IDLE_PAUSE_MS (250 ms) ` +
    'although the repositories are only locked by deletes pending or in flight, and a landed delete does not wake it: ' +
    'flush and wait for the deletes instead (bench/drain-delete-wakeup.patch, see README). The drain process is also CPU-heavy per webhook (AWS SDK call path, HMAC).';
}

/**
 * Runs one drain invocation until Jenkins has accepted `expectedAtJenkins` webhooks (or
 * nothing new arrives for STALL_MS), then makes the Lambda's remaining time 0, as when it
 * nears its timeout, so the drain stops receiving and finishes its deletes.
 */
async function drainUntil(
  drain: ReturnType<typeof loadDrain>,
  jenkins: JenkinsProcess,
  expectedAtJenkins: number,
  timeoutMs: number,
  event?: unknown,
): Promise<DrainOutcome> {
  const t0 = performance.now();
  const run = drain.start({ timeoutMs: 300_000, event });
  let finished = false;
  run.done.then(() => (finished = true), () => (finished = true));
  let accepted = 0;
  let lastChange = performance.now();
  let reached = false;
  let stalled = false;
  while (!finished) {
    await sleep(100);
    const now = await jenkins.acceptedCount();
    if (now !== accepted) {
      accepted = now;
      lastChange = performance.now();
    }
    if (accepted >= expectedAtJenkins) {
      reached = true;
      break;
    }
    if (performance.now() - lastChange > STALL_MS || performance.now() - t0 > timeoutMs) {
      stalled = true;
      progress(`  !! no new webhook at Jenkins for ${((performance.now() - lastChange) / 1000).toFixed(1)} s: ${accepted} of ${expectedAtJenkins} accepted; ending the invocation`);
      break;
    }
  }
  const reachedMs = performance.now() - t0;
  run.setRemainingMs(0);
  const ended = await Promise.race([run.done.then((i) => i, () => undefined), sleep(HANG_MS).then(() => 'hung' as const)]);
  if (ended === 'hung') {
    progress(`  !! the drain invocation did not return within ${HANG_MS / 1000} s after its remaining time was set to 0 (hung); abandoning it`);
    run.abandon();
    return { reached, stalled, hung: true, reachedMs, acceptedAtEnd: await jenkins.acceptedCount() };
  }
  return { invocation: ended, reached, stalled, hung: false, reachedMs, acceptedAtEnd: await jenkins.acceptedCount() };
}

// ---------------------------------------------------------------------------------------------
// Scenario 1: Jenkins-bound backlog
// ---------------------------------------------------------------------------------------------
async function jenkinsBound(peers: Peers): Promise<void> {
  progress(`S1 Jenkins-bound backlog: ${N1} deliveries across ${REPOS} repositories, Jenkins ${SERVICE_MS} ms/webhook, CONCURRENCY=${CONCURRENCY}`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: SERVICE_MS });
  try {
    const queues = await createBufferQueues(peers.fauxqs.sqs, 'bench-s1', { visibilityTimeoutSeconds: 330 });
    const sent = makeDeliveries(N1, REPOS, 's1');
    const enq = await enqueueThroughEdge(peers.edgeFor(queues.queueUrl), sent);
    const depth = await queueDepth(peers.fauxqs.sqs, queues.queueUrl);
    progress(`  enqueued through the Edge in ${(enq.ms / 1000).toFixed(1)} s (${(N1 / (enq.ms / 1000)).toFixed(0)}/s); queue depth ${depth.visible}`);
    if (depth.visible !== N1) throw new Error(`expected ${N1} queued, found ${JSON.stringify(depth)}`);

    const drain = loadDrain(drainEnvFor(peers, jenkins.url, queues.queueUrl, queues.dlqUrl, {
      CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '0', MAX_RUN_SECONDS: '240',
    }));
    const meter = cpuMeter({ fauxqs: peers.fauxqs.pid, jenkins: jenkins.pid });
    const counter = countSqsCalls(peers.fauxqs.endpoint);
    const outcome = await drainUntil(drain, jenkins, N1, 180_000);
    counter.stop();
    const { invocation, reached, reachedMs } = outcome;
    const cpu = meter();
    const snap = await jenkins.snapshot();
    const records = recordsOf(sent, snap.deliveries);
    const check = checkDeliveries(sent, records);
    const js = jenkinsSideStats(records);
    const after = await queueDepth(peers.fauxqs.sqs, queues.queueUrl);
    progress(`  ${js.delivered} delivered in ${js.windowS} s at Jenkins: ${js.throughput.toFixed(1)}/s, effective concurrency ${js.effectiveConcurrency.toFixed(2)} of ${CONCURRENCY}, max in flight ${snap.maxInFlight}`);
    const sqsCalls = counter.total();
    results.jenkinsBound = {
      deliveries: N1, repositories: REPOS, concurrency: CONCURRENCY, serviceTimeMs: SERVICE_MS,
      enqueueMs: round(enq.ms), enqueuePerSecond: round(N1 / (enq.ms / 1000)),
      webhooksPerSecond: round(js.throughput), windowS: js.windowS, meanJenkinsServiceMs: round(js.meanServiceMs, 3),
      effectiveConcurrency: round(js.effectiveConcurrency, 3), effectiveConcurrencyShareOfCap: round(js.effectiveConcurrency / CONCURRENCY, 3),
      idealWebhooksPerSecond: round(CONCURRENCY / (js.meanServiceMs / 1000)),
      maxInFlight: snap.maxInFlight, ...check, reachedAll: reached, reachedMs: round(reachedMs),
      stalled: outcome.stalled, hung: outcome.hung,
      invocationWallMs: invocation ? round(invocation.wallMs) : null, drainInitMs: round(drain.initMs), drainStats: invocation?.result.stats ?? null,
      sqsCalls, sqsCallsByAction: counter.byAction(), emfSqsCalls: invocation?.metrics.SqsCalls ?? null, sqsCallsPerWebhook: round(sqsCalls / js.delivered, 3), queueAfter: after, cpu,
    };
    const s = 'S1 Jenkins-bound';
    rows.push({ scenario: s, metric: `throughput (${N1} webhooks, ${SERVICE_MS} ms Jenkins)`, value: round(js.throughput, 1), unit: '/s' });
    rows.push({
      scenario: s, metric: 'effective concurrency (thr x mean Jenkins latency)', value: round(js.effectiveConcurrency, 2), unit: `of ${CONCURRENCY}`,
      target: `>= ${(0.9 * CONCURRENCY).toFixed(1)} (90%)`, pass: js.effectiveConcurrency >= 0.9 * CONCURRENCY,
      why: `mean Jenkins latency ${js.meanServiceMs.toFixed(1)} ms, so ${(CONCURRENCY * 1000 / js.meanServiceMs).toFixed(0)}/s is the cap; the drain process used only ${cpu.coresUsed['bench+drain']} cores: the gap is per-webhook overhead on each worker's path. ${pipelineNote(counter.byAction(), js.delivered)}`,
    });
    rows.push({ scenario: s, metric: 'max in flight at Jenkins', value: snap.maxInFlight, target: `<= ${CONCURRENCY}`, pass: snap.maxInFlight <= CONCURRENCY });
    rows.push({ scenario: s, metric: 'lost', value: check.lost, target: '0', pass: check.lost === 0 && reached });
    rows.push({ scenario: s, metric: 'invocation ends when told (no hang/stall)', value: outcome.hung ? 'HUNG' : outcome.stalled ? 'STALLED' : 'ok', target: 'ok', pass: !outcome.hung && !outcome.stalled,
      why: HANG_NOTE });
    rows.push({ scenario: s, metric: 'out of order (per repository)', value: check.outOfOrder, target: '0', pass: check.outOfOrder === 0 });
    rows.push({ scenario: s, metric: 'duplicates / bad signatures', value: `${check.duplicates} / ${check.badSignatures}`, target: '0 / 0', pass: check.duplicates === 0 && check.badSignatures === 0 });
  } finally {
    await jenkins.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 2: emulator-bound backlog, with the ceiling and naive relay on identical queues
// ---------------------------------------------------------------------------------------------
async function emulatorBound(peers: Peers): Promise<void> {
  progress(`S2 emulator-bound backlog: ${N2} deliveries, Jenkins answers at once`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: 0 });
  const sqs = peers.fauxqs.sqs;
  try {
    const [qDrain, qNaive, ...qCeilings] = await Promise.all(['bench-s2-drain', 'bench-s2-naive', 'bench-s2-ceiling-1', 'bench-s2-ceiling-2', 'bench-s2-ceiling-3']
      .map((n) => createBufferQueues(sqs, n, { visibilityTimeoutSeconds: 330 })));
    const sent = makeDeliveries(N2, REPOS, 's2');
    const enq = await enqueueThroughEdge(peers.edgeFor(qDrain.queueUrl), sent);
    progress(`  enqueued through the Edge in ${(enq.ms / 1000).toFixed(1)} s (${(N2 / (enq.ms / 1000)).toFixed(0)}/s); copying the same envelopes to the ceiling (x3) and naive queues`);
    for (const q of [qNaive, ...qCeilings]) await replicate(sqs, q.queueUrl, enq.captured);
    for (const q of [qDrain, qNaive, ...qCeilings]) {
      const d = await queueDepth(sqs, q.queueUrl);
      if (d.visible !== N2) throw new Error(`expected ${N2} queued in ${q.queueUrl}, found ${JSON.stringify(d)}`);
    }
    const children = { fauxqs: peers.fauxqs.pid, jenkins: jenkins.pid };

    // The ceiling run is short (about a second), so it is taken three times and the median kept.
    progress('  ceiling: 4 loops of ReceiveMessage(10) + DeleteMessageBatch, 3 runs');
    let meter = cpuMeter(children);
    const ceilingRuns: BaselineRun[] = [];
    for (const q of qCeilings) {
      const r = await emulatorCeiling(sqs, q.queueUrl, N2);
      ceilingRuns.push(r);
      progress(`    ${r.moved} in ${(r.ms / 1000).toFixed(2)} s = ${r.perSecond.toFixed(0)}/s`);
    }
    const ceilingCpu = meter();
    const ceiling = [...ceilingRuns].sort((a, b) => a.perSecond - b.perSecond)[1];

    progress('  drain (bundle, CONCURRENCY=8, IDLE_WAIT_SECONDS=0)');
    const drain = loadDrain(drainEnvFor(peers, jenkins.url, qDrain.queueUrl, qDrain.dlqUrl, {
      CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '0', MAX_RUN_SECONDS: '240',
    }));
    meter = cpuMeter(children);
    const counter = countSqsCalls(peers.fauxqs.endpoint);
    const outcome = await drainUntil(drain, jenkins, N2, 180_000);
    counter.stop();
    const { invocation, reached } = outcome;
    const drainCpu = meter();
    const snap = await jenkins.snapshot();
    const drainRecords = recordsOf(sent, snap.deliveries);
    const check = checkDeliveries(sent, drainRecords);
    const js = jenkinsSideStats(drainRecords);
    const sqsCalls = counter.total();
    const drainDepth = await queueDepth(sqs, qDrain.queueUrl);
    progress(`    ${js.delivered} in ${js.windowS} s = ${js.throughput.toFixed(0)}/s, ${sqsCalls} SQS calls`);

    progress('  naive relay: receive 1, POST, delete 1, one loop');
    meter = cpuMeter(children);
    const naive: BaselineRun = await naiveRelay(sqs, qNaive.queueUrl, jenkins.url, N2);
    const naiveCpu = meter();
    progress(`    ${naive.moved} in ${(naive.ms / 1000).toFixed(2)} s = ${naive.perSecond.toFixed(0)}/s`);

    const toCeiling = js.throughput / ceiling.perSecond;
    const toNaive = js.throughput / naive.perSecond;
    const callsPerWebhook = sqsCalls / js.delivered;
    results.emulatorBound = {
      deliveries: N2, repositories: REPOS, enqueueMs: round(enq.ms), enqueuePerSecond: round(N2 / (enq.ms / 1000)),
      drain: {
        webhooksPerSecond: round(js.throughput), windowS: js.windowS, meanJenkinsServiceMs: round(js.meanServiceMs, 3),
        effectiveConcurrency: round(js.effectiveConcurrency, 3), maxInFlight: snap.maxInFlight, sqsCalls, sqsCallsPerWebhook: round(callsPerWebhook, 3),
        sqsCallsByAction: counter.byAction(), emfSqsCalls: invocation?.metrics.SqsCalls ?? null,
        ...check, reachedAll: reached, stalled: outcome.stalled, hung: outcome.hung, queueAfter: drainDepth, stats: invocation?.result.stats ?? null, cpu: drainCpu,
      },
      ceiling: { ...ceiling, perSecond: round(ceiling.perSecond), ms: round(ceiling.ms), runsPerSecond: ceilingRuns.map((r) => round(r.perSecond)), cpuOfAllRuns: ceilingCpu },
      naive: { ...naive, perSecond: round(naive.perSecond), ms: round(naive.ms), sqsCallsPerWebhook: round(naive.sqsCalls / naive.moved, 3), cpu: naiveCpu },
      ratioToCeiling: round(toCeiling, 3), ratioToNaive: round(toNaive, 3), bottleneck: drainCpu.busiest,
    };
    const s = 'S2 emulator-bound';
    const cpuNote = `drain run CPU (cores): ${Object.entries(drainCpu.coresUsed).map(([k, v]) => `${k} ${v}`).join(', ')}`;
    rows.push({ scenario: s, metric: `drain throughput (${N2} webhooks, 0 ms Jenkins)`, value: round(js.throughput, 0), unit: '/s' });
    rows.push({ scenario: s, metric: 'emulator ceiling (4x Receive(10)+DeleteBatch, median of 3)', value: round(ceiling.perSecond, 0), unit: '/s' });
    rows.push({ scenario: s, metric: 'naive relay (Receive(1), POST, Delete)', value: round(naive.perSecond, 0), unit: '/s' });
    rows.push({ scenario: s, metric: 'drain / ceiling', value: round(toCeiling, 2), unit: 'x', target: '>= 0.3x', pass: toCeiling >= 0.3, why: `${cpuNote}. ${pipelineNote(counter.byAction(), js.delivered)}` });
    rows.push({ scenario: s, metric: 'drain / naive', value: round(toNaive, 2), unit: 'x', target: '>= 2.5x', pass: toNaive >= 2.5, why: `${cpuNote}. ${pipelineNote(counter.byAction(), js.delivered)}` });
    rows.push({ scenario: s, metric: 'SQS API calls per webhook (counted)', value: round(callsPerWebhook, 3), target: '<= 0.3', pass: callsPerWebhook <= 0.3, why: `${JSON.stringify(counter.byAction())} for ${js.delivered} webhooks. ${pipelineNote(counter.byAction(), js.delivered)}` });
    rows.push({ scenario: s, metric: 'lost / out of order / max in flight', value: `${check.lost} / ${check.outOfOrder} / ${snap.maxInFlight}`, target: `0 / 0 / <= ${CONCURRENCY}`, pass: check.lost === 0 && reached && check.outOfOrder === 0 && snap.maxInFlight <= CONCURRENCY });
    rows.push({ scenario: s, metric: 'invocation ends when told (no hang/stall)', value: outcome.hung ? 'HUNG' : outcome.stalled ? 'STALLED' : 'ok', target: 'ok', pass: !outcome.hung && !outcome.stalled, why: HANG_NOTE });
    const cpuMsPerWebhook = Object.fromEntries(Object.entries(drainCpu.cpuSeconds).map(([k, v]) => [k, round((v * 1000) / js.delivered, 3)]));
    (results.emulatorBound as Record<string, unknown>).cpuMsPerWebhook = cpuMsPerWebhook;
    (results.emulatorBound as Record<string, unknown>).loadAverage = os.loadavg().map((x) => round(x));
    rows.push({ scenario: s, metric: 'bottleneck (busiest process in the drain run)', value: `${drainCpu.busiest} ${drainCpu.coresUsed[drainCpu.busiest]} cores` });
    rows.push({ scenario: s, metric: 'CPU ms per webhook (drain run)', value: Object.entries(cpuMsPerWebhook).map(([k, v]) => `${k} ${v}`).join(', ') });
    rows.push({ scenario: s, metric: 'load average (1 min) after the drain run', value: `${round(os.loadavg()[0])} on ${os.cpus().length} cpus` });
  } finally {
    await jenkins.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 3: release latency while open, and reopen-to-first-release
// ---------------------------------------------------------------------------------------------
async function latency(peers: Peers): Promise<void> {
  const RATE = 20;
  const SECONDS = 10;
  const count = RATE * SECONDS;
  progress(`S3 release latency: ${RATE}/s for ${SECONDS} s through the Edge while a drain (IDLE_WAIT_SECONDS=20) runs`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: SERVICE_MS });
  try {
    const queues = await createBufferQueues(peers.fauxqs.sqs, 'bench-s3', { visibilityTimeoutSeconds: 330 });
    const edge = peers.edgeFor(queues.queueUrl);
    const sent = makeDeliveries(count, REPOS, 's3');
    const drain = loadDrain(drainEnvFor(peers, jenkins.url, queues.queueUrl, queues.dlqUrl, {
      CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '20', MAX_RUN_SECONDS: String(SECONDS + 4),
    }));
    const runStarted = Date.now();
    const run = drain.start({ timeoutMs: 300_000 });
    await sleep(1500); // the drain is now idle in a long poll
    const acceptedAt = new Map<string, number>();
    const t0 = Date.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < count; i += 1) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      const w = sent[i];
      acceptedAt.set(w.delivery.deliveryId, Date.now());
      pending.push(acceptOne(edge, w));
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
    const ended = await Promise.race([run.done, sleep(Math.max(0, runStarted + (SECONDS + 4) * 1000 + 10_000 - Date.now())).then(() => 'hung' as const)]);
    const invocation = ended === 'hung' ? undefined : ended;
    if (ended === 'hung') {
      progress('  !! the trickle drain invocation did not end 10 s after MAX_RUN_SECONDS (hung); abandoning it');
      run.abandon();
      rows.push({ scenario: 'S3 latency while open', metric: 'trickle invocation ends by MAX_RUN_SECONDS', value: 'HUNG', target: 'ok', pass: false, why: HANG_NOTE });
    }
    const snap = await jenkins.snapshot();
    const records = recordsOf(sent, snap.deliveries).filter((d) => d.status === 200);
    const latencies = records.map((d) => d.receivedAt - acceptedAt.get(d.deliveryId!)!);
    const check = checkDeliveries(sent, records);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    progress(`  p50 ${p50} ms, p99 ${p99} ms, max ${Math.max(...latencies)} ms; ${invocation?.result.stats?.receiveCalls} receives`);

    // Reopen: spigot closed with a backlog, then PutParameter open and invoke at once.
    progress('S3b reopen: 50 held webhooks, PutParameter open, invoke a cold drain as the EventBridge rule would');
    const reopenParam = '/spigot/reopen';
    peers.ssm.putDirect(reopenParam, 'closed', { description: 'closed by an operator' });
    const rq = await createBufferQueues(peers.fauxqs.sqs, 'bench-s3-reopen', { visibilityTimeoutSeconds: 330 });
    const held = makeDeliveries(50, 10, 's3b');
    await enqueueThroughEdge(peers.edgeFor(rq.queueUrl), held);
    const ssmClient = new SSMClient({ endpoint: peers.ssm.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const before = (await jenkins.snapshot()).deliveries.filter((d) => d.status === 200).length;
    const opened = Date.now();
    await ssmClient.send(new PutParameterCommand({ Name: reopenParam, Value: 'open', Overwrite: true, Type: 'String' }));
    const putMs = Date.now() - opened;
    const cold = loadDrain(drainEnvFor(peers, jenkins.url, rq.queueUrl, rq.dlqUrl, {
      CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '20', MAX_RUN_SECONDS: '5',
    }, reopenParam));
    const ssmEvent = { source: 'aws.ssm', 'detail-type': 'Parameter Store Change', detail: { name: reopenParam, operation: 'Update' } };
    const reopenOutcome = await drainUntil(cold, jenkins, before + held.length, 30_000, ssmEvent);
    const reopenReached = reopenOutcome.reached;
    ssmClient.destroy();
    const rsnap = await jenkins.snapshot();
    const reopenRecords = recordsOf(held, rsnap.deliveries).filter((d) => d.status === 200);
    const firstRelease = Math.min(...reopenRecords.map((d) => d.receivedAt)) - opened;
    const reopenCheck = checkDeliveries(held, reopenRecords);
    if (reopenOutcome.hung) rows.push({ scenario: 'S3 latency while open', metric: 'reopen invocation ends when told', value: 'HUNG', target: 'ok', pass: false, why: HANG_NOTE });
    progress(`  first release ${firstRelease} ms after opening (PutParameter ${putMs} ms, cold init ${cold.initMs.toFixed(0)} ms)`);

    results.latency = {
      ratePerSecond: RATE, seconds: SECONDS, deliveries: count, idleWaitSeconds: 20, serviceTimeMs: SERVICE_MS,
      p50Ms: p50, p90Ms: percentile(latencies, 90), p99Ms: p99, maxMs: Math.max(...latencies), meanMs: round(mean(latencies), 1),
      reachedAll: reached, ...check, hung: invocation === undefined, receiveCalls: invocation?.result.stats?.receiveCalls ?? null, sqsCalls: invocation?.metrics.SqsCalls ?? null,
      reopen: { held: held.length, reachedAll: reopenReached, putParameterMs: putMs, coldInitMs: round(cold.initMs), openToFirstReleaseMs: firstRelease, ...reopenCheck },
    };
    const s = 'S3 latency while open';
    rows.push({ scenario: s, metric: `accept -> Jenkins p50 (${RATE}/s trickle)`, value: p50, unit: 'ms', target: '<= 2000 ms', pass: p50 <= 2000 });
    rows.push({ scenario: s, metric: 'accept -> Jenkins p99', value: p99, unit: 'ms' });
    rows.push({ scenario: s, metric: 'lost / out of order (trickle)', value: `${check.lost} / ${check.outOfOrder}`, target: '0 / 0', pass: check.lost === 0 && check.outOfOrder === 0 });
    rows.push({ scenario: s, metric: 'open (PutParameter) -> first release', value: firstRelease, unit: 'ms', target: '<= 5000 ms', pass: firstRelease <= 5000 && reopenReached,
      why: 'excludes EventBridge delivery of the SSM change event (seconds on AWS)' });
  } finally {
    await jenkins.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Scenario 4 and 5: cold start, zip size, synth time
// ---------------------------------------------------------------------------------------------
function coldStart(): void {
  progress('S4 cold start: fresh `node -e` requiring the bundle, 5 times');
  const bundle = drainBundle();
  const env = {
    ...process.env,
    ...drainVariables({
      jenkinsUrl: 'http://127.0.0.1:9', queueUrl: 'http://127.0.0.1:9/000000000000/q.fifo', dlqUrl: 'http://127.0.0.1:9/000000000000/d.fifo',
      parameterName: PARAM, webhookSecretParameter: SECRET_PARAM, sqsEndpoint: 'http://127.0.0.1:9', ssmEndpoint: 'http://127.0.0.1:9',
    }),
  };
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const samples: number[] = [];
  const processMs: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, ['-e', script, bundle], { env, encoding: 'utf8', timeout: 30_000 });
    processMs.push(performance.now() - t0);
    if (r.status !== 0) throw new Error(`cold start child failed: ${r.stderr}`);
    samples.push(Number(r.stdout));
  }
  const init = median(samples);
  const bundleBytes = statSync(bundle).size;
  progress(`  module init median ${init.toFixed(1)} ms (samples ${samples.map((x) => x.toFixed(0)).join(', ')}), bundle ${(bundleBytes / 1024).toFixed(0)} KB`);
  results.coldStart = { initMsMedian: round(init), initMsSamples: samples.map((x) => round(x)), processWallMsMedian: round(median(processMs)), bundleBytes };
  rows.push({ scenario: 'S4 cold start', metric: 'bundle module init (median of 5)', value: round(init, 1), unit: 'ms', target: '<= 150 ms', pass: init <= 150 });
}

function findZips(): Array<{ file: string; bytes: number; mtimeMs: number }> {
  const dir = path.join(ROOT, 'cdktf.out', 'stacks');
  let entries: string[];
  try {
    entries = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.endsWith('.zip') && e.includes(`${path.sep}assets${path.sep}`))
    .map((e) => {
      const file = path.join(dir, e);
      const st = statSync(file);
      return { file, bytes: st.size, mtimeMs: st.mtimeMs };
    });
}

async function synthRuns(): Promise<void> {
  progress('S5 synth: `npm run synth`, 3 times');
  const times: number[] = [];
  const startedAt = Date.now();
  for (let i = 0; i < 3; i += 1) {
    const t0 = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'synth'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.once('error', reject);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve({ code: c, stderr: err });
      });
    });
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`npm run synth failed (${code}): ${stderr.slice(-2000)}`);
    times.push(ms);
    progress(`  synth ${i + 1}: ${(ms / 1000).toFixed(2)} s`);
  }
  const synthMs = median(times);
  const zips = findZips().filter((z) => z.mtimeMs >= startedAt - 1000 && /drain/i.test(z.file));
  const zip = zips.sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  results.synth = { wallMsMedian: round(synthMs), samplesMs: times.map((t) => round(t)) };
  results.zip = zip ? { file: path.relative(ROOT, zip.file), bytes: zip.bytes } : { error: 'no drain asset zip written by synth under cdktf.out/stacks' };
  rows.push({ scenario: 'S4 size', metric: 'drain asset zip (cdktf.out)', value: zip ? round(zip.bytes / 1024, 1) : 'n/a', unit: 'KB', target: '<= 500 KB', pass: zip ? zip.bytes <= 500 * 1024 : false });
  rows.push({ scenario: 'S5 synth', metric: '`npm run synth` wall (median of 3)', value: round(synthMs / 1000, 2), unit: 's', target: '<= 10 s', pass: synthMs <= 10_000,
    why: 'tsx compiles main.ts + cdktf/provider-aws load + esbuild bundle + zip; see README' });
}

// ---------------------------------------------------------------------------------------------

function printTable(): void {
  const header = ['scenario', 'metric', 'value', 'target', 'pass/miss'];
  const body = rows.map((r) => [r.scenario, r.metric, `${r.value}${r.unit ? ` ${r.unit}` : ''}`, r.target ?? '', r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS']);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  const out = [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)];
  process.stdout.write(`\n${out.join('\n')}\n`);
  const misses = rows.filter((r) => r.pass === false);
  if (misses.length > 0) {
    process.stdout.write('\nMissed targets:\n');
    for (const m of misses) process.stdout.write(`  - ${m.scenario} / ${m.metric}: ${m.value}${m.unit ? ` ${m.unit}` : ''} (target ${m.target})${m.why ? `\n      ${m.why}` : ''}\n`);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  results.machine = {
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version,
    platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString(), loadAverageAtStart: os.loadavg().map((x) => round(x)),
  };
  progress(`bundling the drain (stack bundleOptions${drainPatch ? `, sources patched with ${drainPatch}` : ''}) and synthesizing the stack for the Edge templates`);
  drainBundle();
  const parsed = synthStack().parsed;
  const fauxqs = await startFauxqsProcess();
  const ssm = await startLoopbackSsm();
  ssm.putDirect(PARAM, 'open');
  ssm.putDirect(SECRET_PARAM, WEBHOOK_SECRET, { type: 'SecureString' });
  const peers: Peers = { fauxqs, ssm, edgeFor: (queueUrl) => new Edge(parsed, { endpoint: fauxqs.endpoint, queueUrl }) };
  const failures: string[] = [];
  const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  const phase = async (name: string, fn: () => Promise<void> | void) => {
    if (only.length > 0 && !only.some((o) => name.startsWith(o))) return;
    try {
      await fn();
    } catch (error) {
      failures.push(`${name}: ${(error as Error).stack ?? error}`);
      progress(`!! ${name} failed: ${(error as Error).message}`);
      rows.push({ scenario: name, metric: 'scenario', value: 'FAILED', target: 'runs', pass: false, why: (error as Error).message });
    }
  };
  try {
    await phase('S1 Jenkins-bound', () => jenkinsBound(peers));
    await phase('S2 emulator-bound', () => emulatorBound(peers));
    await phase('S3 latency', () => latency(peers));
  } finally {
    await fauxqs.stop();
    await ssm.stop();
  }
  await phase('S4 cold start', coldStart);
  if (process.env.BENCH_SKIP_SYNTH !== '1') await phase('S5 synth', synthRuns);

  results.rows = rows;
  results.failures = failures;
  results.totalSeconds = round((Date.now() - started) / 1000, 1);
  (results.machine as Record<string, unknown>).loadAverageAtEnd = os.loadavg().map((x) => round(x));
  results.drainVariant = drainPatch ? { patch: path.relative(ROOT, drainPatch) } : 'working tree';
  // Partial runs never overwrite the full results.
  const partial = only.length > 0 || process.env.BENCH_SKIP_SYNTH === '1' || process.env.BENCH_N !== undefined || process.env.BENCH_N2 !== undefined;
  const out = `results${drainPatch ? `-${path.basename(drainPatch, '.patch')}` : ''}${partial ? '-partial' : ''}.json`;
  results.partial = partial;
  results.commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() || null;
  results.drainSourcesModified = spawnSync('git', ['status', '--porcelain', '--', 'functions'], { cwd: ROOT, encoding: 'utf8' }).stdout.trim() !== '';
  writeFileSync(path.join(__dirname, out), `${JSON.stringify(results, null, 2)}\n`);
  printTable();
  process.stdout.write(`\nbench/${out} written; total ${results.totalSeconds} s${drainPatch ? ` (drain patched with ${path.relative(ROOT, drainPatch)})` : ''}\n`);
  if (failures.length > 0) process.exitCode = 1;
}

main()
  .catch((error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    killAllChildren();
    rmSync(path.dirname(drainBundle()), { recursive: true, force: true });
    // The bundled SDK clients keep sockets alive; do not wait for them.
    setTimeout(() => process.exit(), 200).unref();
  });
