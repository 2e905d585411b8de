/**
 * What every scenario shares: the peers (SQS emulator, loopback SSM, the Edge), the report rows,
 * the drain environment, and running one drain invocation until Jenkins has what it expects.
 */
import type { Edge } from '../../__tests__/support/edge';
import { createBufferQueues } from '../../__tests__/support/fauxqs';
import type { LoopbackSsm } from '../../__tests__/support/loopback-ssm';
import { loadDrain, type DrainEnv, type DrainVariant, type Invocation, type LoadedDrain } from './drain';
import { cpuSecondsOf, ownCpuSeconds, type JenkinsProcess, type SqsEmulatorProcess } from './procs';
import { progress, round, sleep } from './stats';

export const PARAM = '/spigot/spigot';
export const SECRET_PARAM = '/spigot/webhook-secret';
export const REPOS = 50;
export const CONCURRENCY = 8;

export interface Row {
  readonly scenario: string;
  readonly metric: string;
  readonly value: number | string;
  readonly unit?: string;
  readonly target?: string;
  /** undefined = informational */
  readonly pass?: boolean;
  readonly why?: string;
}

export interface BenchOptions {
  /** Deliveries in the Jenkins-bound backlog (S1). */
  readonly n1: number;
  /** Deliveries in each emulator-bound backlog (S2). */
  readonly n2: number;
  /** Interleaved S2 rounds. */
  readonly rounds: number;
  /** Measured S1 runs per consumer (BENCH_S1_RUNS). */
  readonly s1Runs: number;
  /** The drain under test. */
  readonly variant: DrainVariant;
  /** Measured beside it in the same rounds (`--baseline <ref>`). */
  readonly baseline?: DrainVariant;
}

export interface Bench {
  readonly options: BenchOptions;
  readonly sqs: SqsEmulatorProcess;
  readonly ssm: LoopbackSsm;
  readonly edgeFor: (queueUrl: string) => Edge;
  readonly rows: Row[];
  readonly results: Record<string, unknown>;
}

/** Queues of this run (the FIFO buffer queue and its DLQ, as the stack makes them), named apart from any earlier run's. */
export function benchQueues(bench: Bench, name: string) {
  return createBufferQueues(bench.sqs.sqs, `b${process.pid}-${name}`, { visibilityTimeoutSeconds: 330 });
}

export function drainEnvFor(bench: Bench, jenkinsUrl: string, queueUrl: string, dlqUrl: string, extra: Record<string, string>, parameterName = PARAM) {
  return {
    jenkinsUrl, queueUrl, dlqUrl, parameterName, webhookSecretParameter: SECRET_PARAM,
    sqsEndpoint: bench.sqs.endpoint, ssmEndpoint: bench.ssm.endpoint, extra,
  };
}

/** CPU seconds per process over a phase (the bench's own process and the children given). */
export function cpuMeter(children: Record<string, number | undefined>) {
  const wall0 = performance.now();
  const own0 = ownCpuSeconds();
  const child0 = Object.fromEntries(Object.entries(children).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  return () => {
    const wallS = (performance.now() - wall0) / 1000;
    const cpu: Record<string, number> = { bench: ownCpuSeconds() - own0 };
    for (const [k, pid] of Object.entries(children)) cpu[k] = cpuSecondsOf(pid) - child0[k];
    return {
      wallS: round(wallS, 3),
      cpuSeconds: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v, 3)])),
      coresUsed: Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, round(v / wallS)])),
    };
  };
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
}

const STALL_MS = 8000;
const HANG_MS = 15000;
export const HANG_NOTE =
  'A drain that does not return once its remaining time is 0, or that stops releasing with webhooks still queued, has a lost wake-up in the release loop ' +
  '(functions/drain/release/index.ts: a waiting poller or worker that no delete, batch or stop wakes). The bench abandons such an invocation and counts what Jenkins got.';

/**
 * Runs one drain invocation until Jenkins has accepted `expectedAtJenkins` webhooks (or
 * nothing new arrives for STALL_MS), then makes the Lambda's remaining time 0, as when it
 * nears its timeout, so the drain stops receiving and finishes its deletes.
 */
export async function drainUntil(drain: LoadedDrain, jenkins: JenkinsProcess, expectedAtJenkins: number, timeoutMs: number, event?: unknown): Promise<DrainOutcome> {
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
  const ended = await Promise.race([run.done.then((i) => i, (e: Error) => e), sleep(HANG_MS).then(() => 'hung' as const)]);
  if (ended === 'hung') {
    progress(`  !! the drain invocation did not return within ${HANG_MS / 1000} s after its remaining time was set to 0 (hung); abandoning it`);
    run.abandon();
    return { reached, stalled, hung: true, reachedMs };
  }
  if (ended instanceof Error) throw ended;
  return { invocation: ended, reached, stalled, hung: false, reachedMs };
}

export const okText = (outcome: DrainOutcome) => (outcome.hung ? 'HUNG' : outcome.stalled ? 'STALLED' : 'ok');

export interface WarmDrain {
  readonly drain: LoadedDrain;
  /** The first (cold) invocation. */
  readonly cold: DrainOutcome;
  /** Webhooks the cold invocation released. */
  readonly coldWebhooks: number;
}

/**
 * Copies of the backlog the first invocation releases before the measured one: V8 keeps
 * compiling the SDK's and the drain's hot functions for about the first 6000 webhooks.
 */
export const WARM_UP_COPIES = 2;

/**
 * A drain container that has already run, as Lambda reuses them: the first invocation (module
 * init, JIT compilation) releases WARM_UP_COPIES copies of the backlog, then the queue is filled
 * again for the invocation the bench measures, against a Jenkins taking `jenkinsServiceMs`.
 * `fill(suffix)` puts one copy of the backlog into the drain's queue with that deduplication suffix.
 */
export async function warmDrain(
  env: DrainEnv, variant: DrainVariant, jenkins: JenkinsProcess, backlog: number, fill: (dedupSuffix: string) => Promise<void>, jenkinsServiceMs = 0,
): Promise<WarmDrain> {
  for (let i = 0; i < WARM_UP_COPIES; i += 1) await fill(`:cold${i}`);
  const drain = await loadDrain(env, variant);
  await jenkins.reset(0); // the warm-up need not wait for a slow Jenkins
  const cold = await drainUntil(drain, jenkins, WARM_UP_COPIES * backlog, 180_000);
  await jenkins.reset(jenkinsServiceMs);
  await fill(':warm');
  return { drain, cold, coldWebhooks: WARM_UP_COPIES * backlog };
}
