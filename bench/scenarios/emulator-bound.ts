/**
 * S2 emulator-bound backlog, in interleaved rounds. One backlog is accepted through the Edge once;
 * every round copies it into a fresh queue per consumer and runs the consumers one after another,
 * in an order that rotates from round to round: the raw ceiling, the drain, the baseline drain
 * (with `--baseline`) and the naive relay. Ratios are taken within a round (paired) and reported
 * as the median and range over the rounds, so machine load that drifts between rounds cancels.
 */
import os from 'node:os';
import { queueDepth } from '../../__tests__/support/fauxqs';
import { WEBHOOK_SECRET } from '../../__tests__/support/webhooks';
import { benchQueues, CONCURRENCY, cpuMeter, drainEnvFor, drainUntil, HANG_NOTE, okText, REPOS, WARM_UP_COPIES, warmDrain, type Bench } from '../lib/context';
import { naiveRelay, rawCeiling, type BaselineRun } from '../lib/baselines';
import { variantName, type DrainVariant } from '../lib/drain';
import { maxOverlap, spread, steadyCpuPerWebhook, type Spread } from '../lib/measures';
import { startJenkinsProcess, type JenkinsProcess } from '../lib/procs';
import { progress, round } from '../lib/stats';
import { checkDeliveries, enqueueThroughEdge, fill, makeDeliveries, recordsOf, type CapturedMessage, type SentWebhook } from '../lib/workload';
import { visitsOf } from './jenkins-bound';

/** Targets, checked on the median over the rounds. */
export const CPU_MS_PER_WEBHOOK_TARGET = 0.6;
const NAIVE_RATIO_TARGET = 2.5;
const SQS_CALLS_TARGET = 0.3;
/** The naive relay is slow; a shorter copy of the backlog gives the same rate. */
const NAIVE_MAX = 1000;

type Consumer = 'raw' | 'drain' | 'baseline' | 'naive';

interface DrainRun {
  readonly perSecond: number;
  readonly cpuMsPerWebhook: number;
  readonly fixedCpuMs: number;
  /** The first invocation of the container: all its CPU over all its webhooks. */
  readonly coldCpuMsPerWebhook: number;
  readonly initMs: number;
  readonly initCpuMs: number;
  readonly sqsCallsPerWebhook: number;
  readonly sqsCalls: Record<string, number>;
  readonly ok: boolean;
  readonly problems: string;
  readonly cpuMsPerWebhookOf: Record<string, number>;
  readonly coresUsed: Record<string, number>;
}

async function runDrain(bench: Bench, jenkins: JenkinsProcess, variant: DrainVariant, name: string, captured: readonly CapturedMessage[], sent: readonly SentWebhook[]): Promise<DrainRun> {
  const queue = await benchQueues(bench, name);
  const env = drainEnvFor(bench, jenkins.url, queue.queueUrl, queue.dlqUrl, { CONCURRENCY: String(CONCURRENCY), IDLE_WAIT_SECONDS: '0', MAX_RUN_SECONDS: '240' });
  const { drain, cold, coldWebhooks } = await warmDrain(env, variant, jenkins, sent.length, (suffix) => fill(bench.sqs.sqs, queue.queueUrl, captured, suffix));
  const meter = cpuMeter({ sqs: bench.sqs.pid, jenkins: jenkins.pid, drain: drain.pid });
  const outcome = await drainUntil(drain, jenkins, sent.length, 180_000);
  const cpu = meter();
  await drain.stop();
  const records = recordsOf(sent, (await jenkins.snapshot()).deliveries);
  const check = checkDeliveries(sent, records);
  const visits = visitsOf(records);
  const windowS = (Math.max(...visits.map((v) => v.answeredAt)) - Math.min(...visits.map((v) => v.receivedAt))) / 1000;
  const depth = await queueDepth(bench.sqs.sqs, queue.queueUrl);
  const inv = outcome.invocation;
  const steady = inv ? steadyCpuPerWebhook(inv.samples) : undefined;
  const calls = inv ? Object.values(inv.sqsCalls).reduce((a, b) => a + b, 0) : NaN;
  const maxInFlight = maxOverlap(visits);
  const left = depth.visible + depth.inFlight;
  const ok = [cold, outcome].every((o) => o.reached && !o.hung && !o.stalled) && check.lost === 0 && check.outOfOrder === 0 && check.duplicates === 0 && maxInFlight <= CONCURRENCY && left === 0;
  return {
    perSecond: visits.length / windowS,
    cpuMsPerWebhook: steady?.msPerWebhook ?? NaN,
    fixedCpuMs: inv && steady ? inv.cpuMs - steady.msPerWebhook * inv.jenkinsPosts : NaN,
    coldCpuMsPerWebhook: cold.invocation ? cold.invocation.cpuMs / coldWebhooks : NaN,
    initMs: drain.initMs,
    initCpuMs: drain.initCpuMs,
    sqsCallsPerWebhook: calls / visits.length,
    sqsCalls: inv?.sqsCalls ?? {},
    ok,
    problems: `lost ${check.lost}, out of order ${check.outOfOrder}, duplicates ${check.duplicates}, max in flight ${maxInFlight}, cold ${okText(cold)}, warm ${okText(outcome)}, ${left} left`,
    cpuMsPerWebhookOf: Object.fromEntries(Object.entries(cpu.cpuSeconds).map(([k, v]) => [k, round((v * 1000) / visits.length, 3)])),
    coresUsed: cpu.coresUsed,
  };
}

const fmt = (s: Spread, digits = 2) => `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}-${s.max.toFixed(digits)})`;

export async function emulatorBound(bench: Bench): Promise<void> {
  const { n2: n, rounds, variant, baseline } = bench.options;
  const consumers: Consumer[] = ['raw', 'drain', ...(baseline ? ['baseline' as const] : []), 'naive'];
  progress(`S2 emulator-bound backlog: ${n} deliveries, Jenkins answers at once, ${rounds} interleaved rounds of ${consumers.join(', ')}`);
  const jenkins = await startJenkinsProcess({ secret: WEBHOOK_SECRET, serviceTimeMs: 0 });
  const sqs = bench.sqs.sqs;
  const runs: Record<Consumer, Array<DrainRun | BaselineRun>> = { raw: [], drain: [], baseline: [], naive: [] };
  const paired = { toRaw: [] as number[], toNaive: [] as number[], cpuToBaseline: [] as number[], rateToBaseline: [] as number[] };
  try {
    const source = await benchQueues(bench, 's2-edge');
    const sent = makeDeliveries(n, REPOS, 's2');
    const enq = await enqueueThroughEdge(bench.edgeFor(source.queueUrl), sent);
    progress(`  enqueued through the Edge in ${(enq.ms / 1000).toFixed(1)} s; every consumer gets a copy of these envelopes`);
    const copy = async (name: string, messages: readonly CapturedMessage[]) => {
      const q = await benchQueues(bench, name);
      await fill(sqs, q.queueUrl, messages);
      return q;
    };
    const naiveCount = Math.min(n, NAIVE_MAX);
    for (let r = 0; r < rounds; r += 1) {
      const order = consumers.map((_, i) => consumers[(i + r) % consumers.length]);
      const got: Partial<Record<Consumer, DrainRun | BaselineRun>> = {};
      const line: string[] = [];
      for (const c of order) {
        const name = `bench-s2-r${r}-${c}`;
        await jenkins.reset();
        if (c === 'raw') got.raw = await rawCeiling(bench.sqs.endpoint, (await copy(name, enq.captured)).queueUrl, n);
        else if (c === 'naive') got.naive = await naiveRelay(sqs, (await copy(name, enq.captured.slice(0, naiveCount))).queueUrl, jenkins.url, naiveCount);
        else got[c] = await runDrain(bench, jenkins, c === 'drain' ? variant : baseline!, name, enq.captured, sent);
        runs[c].push(got[c]!);
        line.push(`${c} ${got[c]!.perSecond.toFixed(0)}/s${'cpuMsPerWebhook' in got[c]! ? ` ${(got[c] as DrainRun).cpuMsPerWebhook.toFixed(3)} ms CPU/webhook` : ''}`);
      }
      const d = got.drain as DrainRun;
      paired.toRaw.push(d.perSecond / got.raw!.perSecond);
      paired.toNaive.push(d.perSecond / got.naive!.perSecond);
      if (got.baseline) {
        const b = got.baseline as DrainRun;
        paired.cpuToBaseline.push(d.cpuMsPerWebhook / b.cpuMsPerWebhook);
        paired.rateToBaseline.push(d.perSecond / b.perSecond);
      }
      progress(`  round ${r + 1}/${rounds} (${order.join(' > ')}): ${line.join(', ')}`);
    }
  } finally {
    await jenkins.stop();
  }
  report(bench, runs, paired);
}

function report(bench: Bench, runs: Record<Consumer, Array<DrainRun | BaselineRun>>, paired: Record<string, number[]>): void {
  const { n2: n, rounds, variant, baseline } = bench.options;
  const drains = runs.drain as DrainRun[];
  const baselines = runs.baseline as DrainRun[];
  const of = <T>(xs: T[], f: (x: T) => number) => spread(xs.map(f));
  const cpu = of(drains, (d) => d.cpuMsPerWebhook);
  const fixed = of(drains, (d) => d.fixedCpuMs);
  const calls = of(drains, (d) => d.sqsCallsPerWebhook);
  const toNaive = spread(paired.toNaive);
  const bad = drains.filter((d) => !d.ok);
  const s = 'S2 emulator-bound';
  const { rows } = bench;
  rows.push({ scenario: s, metric: `drain CPU per webhook at steady state (warm container, ${variantName(variant)}; median (range) of ${rounds})`, value: fmt(cpu, 3), unit: 'ms',
    target: `<= ${CPU_MS_PER_WEBHOOK_TARGET} ms`, pass: cpu.median <= CPU_MS_PER_WEBHOOK_TARGET,
    why: 'the slope of the drain process\'s CPU time over webhooks sent between 25% and 90% of its second invocation: AWS SDK call path (middleware, parsing, signing), HTTP to Jenkins, envelope decode and HMAC' });
  rows.push({ scenario: s, metric: 'drain CPU per warm invocation beyond that (probe, SSM, final deletes, summary)', value: fmt(fixed, 0), unit: 'ms' });
  rows.push({ scenario: s, metric: `first invocation of a container: CPU over its ${WARM_UP_COPIES * n} webhooks (JIT warm-up included), module init apart`, value: `${fmt(of(drains, (d) => d.coldCpuMsPerWebhook), 3)} per webhook + init ${fmt(of(drains, (d) => d.initCpuMs), 0)}`, unit: 'ms' });
  if (baseline) {
    rows.push({ scenario: s, metric: `baseline CPU per webhook (${variantName(baseline)})`, value: fmt(of(baselines, (d) => d.cpuMsPerWebhook), 3), unit: 'ms' });
    rows.push({ scenario: s, metric: 'drain / baseline CPU per webhook (paired by round)', value: fmt(spread(paired.cpuToBaseline)), unit: 'x' });
    rows.push({ scenario: s, metric: 'drain / baseline throughput (paired by round)', value: fmt(spread(paired.rateToBaseline)), unit: 'x' });
  }
  rows.push({ scenario: s, metric: `drain throughput (${n} webhooks, 0 ms Jenkins)`, value: fmt(of(drains, (d) => d.perSecond), 0), unit: '/s' });
  rows.push({ scenario: s, metric: 'raw ceiling (4 loops of Receive(10) + DeleteBatch over raw HTTP, no SDK)', value: fmt(of(runs.raw, (r) => r.perSecond), 0), unit: '/s' });
  rows.push({ scenario: s, metric: 'naive relay (SDK Receive(1), POST, Delete)', value: fmt(of(runs.naive, (r) => r.perSecond), 0), unit: '/s' });
  rows.push({ scenario: s, metric: 'drain / raw ceiling (paired by round)', value: fmt(spread(paired.toRaw)), unit: 'x',
    why: 'the ceiling forwards nothing and checks nothing: this is the share of the emulator\'s own limit the drain reaches while doing its work' });
  rows.push({ scenario: s, metric: 'drain / naive relay (paired by round)', value: fmt(toNaive), unit: 'x', target: `>= ${NAIVE_RATIO_TARGET}x`, pass: toNaive.median >= NAIVE_RATIO_TARGET });
  rows.push({ scenario: s, metric: 'SQS API calls per webhook (counted in the drain process)', value: fmt(calls, 3), target: `<= ${SQS_CALLS_TARGET}`, pass: calls.median <= SQS_CALLS_TARGET,
    why: 'fauxqs returns at most one message per repository per receive, so each worker batch is one webhook; deletes are pooled ten per call' });
  rows.push({ scenario: s, metric: 'every drain run: lost / out of order / duplicates 0, in flight <= cap, ended when told, queue empty', value: bad.length === 0 ? 'ok' : `${bad.length} bad: ${bad.map((d) => d.problems).join('; ')}`,
    target: 'ok', pass: bad.length === 0, why: HANG_NOTE });
  const perProcess = Object.keys(drains[0]?.cpuMsPerWebhookOf ?? {}).map((k) => `${k} ${spread(drains.map((d) => d.cpuMsPerWebhookOf[k])).median.toFixed(3)}`);
  rows.push({ scenario: s, metric: 'whole-run CPU ms per webhook by process (drain runs, median)', value: perProcess.join(', ') });
  rows.push({ scenario: s, metric: 'load average (1 min) after the rounds', value: `${round(os.loadavg()[0])} on ${os.cpus().length} cpus` });
  bench.results.emulatorBound = {
    emulator: bench.sqs.name, deliveries: n, rounds, naiveDeliveries: Math.min(n, NAIVE_MAX),
    cpuMsPerWebhook: cpu, fixedCpuMsPerInvocation: fixed, sqsCallsPerWebhook: calls,
    paired: Object.fromEntries(Object.entries(paired).filter(([, v]) => v.length > 0).map(([k, v]) => [k, spread(v)])),
    runs,
  };
}
