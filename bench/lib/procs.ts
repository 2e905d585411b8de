/**
 * Child processes the benchmark runs beside the drain: fauxqs (the SQS emulator, via the
 * tests' fauxqs-server.mjs) and the loopback Jenkins (bench/jenkins-child.ts). Both are
 * spawned here rather than through the test helpers so the bench knows their pids and can
 * read their CPU time from /proc. Every child is registered for cleanup on exit/signals.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TEST_CREDENTIALS, TEST_REGION } from '../../__tests__/support/fauxqs';
import { startLocalstack } from '../../__tests__/support/localstack';
import { installLocalstack } from '../../__tests__/support/localstack-install';

const children = new Set<ChildProcess>();

export function killAllChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}
process.once('exit', killAllChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren();
    process.exit(130);
  });
}

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stopChild(child: ChildProcess, graceMs = 3000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSecondsOf(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" of the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / 100; // USER_HZ is 100 on Linux
}

/** CPU seconds the current process has used so far. */
export function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** The SQS emulator the bench runs against (fauxqs by default; see sqsEmulatorFromEnvironment). */
export interface SqsEmulatorProcess {
  /** Short key for results.json: fauxqs, localstack or external. */
  readonly key: string;
  readonly name: string;
  readonly endpoint: string;
  /** Its process id when the bench can read its CPU time; undefined for an emulator started elsewhere. */
  readonly pid?: number;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export async function startFauxqsProcess(): Promise<SqsEmulatorProcess> {
  const script = path.resolve(__dirname, '..', '..', '__tests__', 'support', 'fauxqs-server.mjs');
  const child = track(spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] }));
  const endpoint = await withTimeout(
    new Promise<string>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint));
      child.once('exit', (code) => reject(new Error(`fauxqs exited early with code ${code}`)));
    }),
    15000,
    'starting fauxqs',
  );
  return emulator('fauxqs', 'fauxqs 1.9.2', endpoint, child.pid, () => stopChild(child));
}

function emulator(key: string, name: string, endpoint: string, pid: number | undefined, stop: () => Promise<void> = async () => undefined): SqsEmulatorProcess {
  const sqs = new SQSClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, useQueueUrlAsEndpoint: false });
  return {
    key, name, endpoint, pid, sqs,
    async stop() {
      sqs.destroy();
      await stop();
    },
  };
}

/**
 * BENCH_SQS_ENDPOINT=http://127.0.0.1:<port> runs every scenario against an SQS emulator that is
 * already listening there (for example LocalStack, which returns several messages of one
 * repository per receive where fauxqs returns one); BENCH_SQS_PID=<pid> lets the bench read its
 * CPU time; BENCH_SQS_NAME names it in the report. Unset: a fauxqs child process.
 */
export async function sqsEmulatorFromEnvironment(): Promise<SqsEmulatorProcess> {
  const endpoint = process.env.BENCH_SQS_ENDPOINT;
  if (!endpoint) return startFauxqsProcess();
  const url = new URL(endpoint);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`BENCH_SQS_ENDPOINT must be a loopback URL, got ${endpoint}`);
  const pid = process.env.BENCH_SQS_PID ? Number(process.env.BENCH_SQS_PID) : undefined;
  return emulator('external', process.env.BENCH_SQS_NAME ?? `SQS emulator at ${url.host}`, endpoint.replace(/\/+$/, ''), pid);
}

/**
 * LocalStack 2026.3.0 (__tests__/support/localstack.ts), which returns several messages of one
 * repository per receive, as SQS does. Installed into .venv/localstack on first use (the tests'
 * globalSetup does the same). Its CPU is read from its server process, where SQS runs.
 */
export async function startLocalstackEmulator(): Promise<SqsEmulatorProcess> {
  installLocalstack();
  const ls = await startLocalstack();
  ls.sqs.destroy();
  return emulator('localstack', 'LocalStack 2026.3.0', ls.endpoint, ls.pid, () => ls.stop());
}

/** What the Jenkins child reports per webhook POST (bodies stay in the child). */
export interface DeliveryRecord {
  readonly deliveryId: string | undefined;
  readonly repo: string | undefined;
  readonly receivedAt: number;
  readonly answeredAt: number | undefined;
  readonly status: number | undefined;
  readonly signatureValid: boolean | null;
}

export interface JenkinsSnapshot {
  readonly deliveries: DeliveryRecord[];
  readonly maxInFlight: number;
  readonly inFlight: number;
}

export interface JenkinsProcess {
  readonly url: string;
  readonly pid: number;
  snapshot(): Promise<JenkinsSnapshot>;
  /** Webhook POSTs answered 200 so far (cheap). */
  acceptedCount(): Promise<number>;
  /** Resolves once `count` webhooks were answered 200 (pushed by the child, no polling). */
  whenAccepted(count: number, timeoutMs: number): Promise<void>;
  /** Forgets the deliveries so far (maxInFlight is not reset: compute it from the records); optionally a new service time. */
  reset(serviceTimeMs?: number): Promise<void>;
  stop(): Promise<void>;
}

type ChildMessage =
  | { type: 'ready'; url: string }
  | { type: 'snapshot'; id: number; snapshot: JenkinsSnapshot }
  | { type: 'reached'; count: number }
  | { type: 'count'; id: number; accepted: number; received: number }
  | { type: 'reset'; id: number }
  | { type: 'error'; message: string };

/** The loopback Jenkins in its own process, so its work does not share the drain's event loop. */
export async function startJenkinsProcess(options: { secret: string; serviceTimeMs: number }): Promise<JenkinsProcess> {
  const child = track(
    fork(path.join(__dirname, '..', 'jenkins-child.ts'), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    }),
  );
  const pending = new Map<number, (s: JenkinsSnapshot) => void>();
  const counts = new Map<number, (n: number) => void>();
  const reachedWaiters: Array<{ count: number; resolve: () => void }> = [];
  let lastReached = 0;
  let nextId = 1;
  const url = await withTimeout(
    new Promise<string>((resolve, reject) => {
      child.on('message', (raw) => {
        const message = raw as ChildMessage;
        if (message.type === 'ready') resolve(message.url);
        else if (message.type === 'snapshot') pending.get(message.id)?.(message.snapshot);
        else if (message.type === 'count') counts.get(message.id)?.(message.accepted);
        else if (message.type === 'reset') counts.get(message.id)?.(0);
        else if (message.type === 'reached') {
          lastReached = Math.max(lastReached, message.count);
          for (const w of reachedWaiters.filter((x) => x.count <= lastReached)) w.resolve();
        } else if (message.type === 'error') reject(new Error(`jenkins child: ${message.message}`));
      });
      child.once('exit', (code) => reject(new Error(`jenkins child exited early with code ${code}`)));
      child.send({ cmd: 'start', secret: options.secret, serviceTimeMs: options.serviceTimeMs });
    }),
    20000,
    'starting the loopback Jenkins child',
  );
  return {
    url,
    pid: child.pid!,
    snapshot() {
      const id = nextId++;
      return withTimeout(
        new Promise<JenkinsSnapshot>((resolve) => {
          pending.set(id, (s) => {
            pending.delete(id);
            resolve(s);
          });
          child.send({ cmd: 'snapshot', id });
        }),
        15000,
        'Jenkins snapshot',
      );
    },
    acceptedCount() {
      const id = nextId++;
      return withTimeout(
        new Promise<number>((resolve) => {
          counts.set(id, (n) => {
            counts.delete(id);
            resolve(n);
          });
          child.send({ cmd: 'count', id });
        }),
        15000,
        'Jenkins count',
      );
    },
    reset(serviceTimeMs) {
      const id = nextId++;
      lastReached = 0;
      return withTimeout(
        new Promise<void>((resolve) => {
          counts.set(id, () => {
            counts.delete(id);
            resolve();
          });
          child.send({ cmd: 'reset', id, serviceTimeMs });
        }),
        15000,
        'Jenkins reset',
      );
    },
    whenAccepted(count, timeoutMs) {
      const reached = new Promise<void>((resolve) => {
        if (lastReached >= count) return resolve();
        reachedWaiters.push({ count, resolve });
        child.send({ cmd: 'notify', count });
      });
      return withTimeout(reached, timeoutMs, `waiting for ${count} webhooks at Jenkins`);
    },
    async stop() {
      await stopChild(child);
    },
  };
}
