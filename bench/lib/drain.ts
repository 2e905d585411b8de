/**
 * Runs the drain exactly as Lambda ships it: the esbuild bundle built with the stack's own
 * `bundleOptions`, loaded in a fresh process (bench/drain-child.cjs: a new "container") with its
 * environment set, and invoked with a Lambda-like context. Its own process, so its CPU time is
 * the drain's alone; its stdout (JSON logs, the EMF record) comes back to the bench.
 *
 * Variants, all bundled with the same options:
 *  - the working tree's functions/;
 *  - BENCH_DRAIN_PATCH=<file>: functions/ copied to a temporary directory with that unified diff
 *    applied (`patch -p1`);
 *  - a git ref (`--baseline <ref>`): functions/ and the bundler options as they are at that
 *    commit (`git archive`), so a change is measured against what it replaces in the same run.
 * The working tree is never touched.
 */
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { buildSync } from 'esbuild';
import { bundleOptions, PROJECT_ROOT } from '../../stacks/constructs/bundled-function-asset';
import type { DrainResult } from '../../functions/drain/drain';
import type { CpuSample } from './measures';
import { track } from './procs';

export type DrainVariant =
  | { readonly kind: 'tree' }
  | { readonly kind: 'patch'; readonly file: string }
  | { readonly kind: 'ref'; readonly ref: string };

export const drainPatch = process.env.BENCH_DRAIN_PATCH ? path.resolve(process.env.BENCH_DRAIN_PATCH) : undefined;

export function variantName(variant: DrainVariant): string {
  if (variant.kind === 'tree') return 'working tree';
  if (variant.kind === 'patch') return `patched with ${path.relative(PROJECT_ROOT, variant.file)}`;
  return `functions/ at ${variant.ref}`;
}

const BUNDLER = 'stacks/constructs/bundled-function-asset.ts';
const WORK_DIR = path.join(os.tmpdir(), `spigot-drain-bench-${process.pid}`);
const bundles = new Map<string, string>();

/** The temporary directory every bundle is written to; removed by removeBundles(). */
export function removeBundles(): void {
  rmSync(WORK_DIR, { recursive: true, force: true });
}

function run(command: string, args: string[], cwd: string, what: string): void {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${what}: ${r.error ?? ''}${r.stdout}${r.stderr}`);
}

/** Builds (once) and returns the path of the bundle for `variant`. */
export function drainBundle(variant: DrainVariant = { kind: 'tree' }): string {
  const key = JSON.stringify(variant);
  const known = bundles.get(key);
  if (known) return known;
  const dir = path.join(WORK_DIR, `bundle-${bundles.size}`);
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, 'index.js');
  if (variant.kind === 'tree') {
    buildSync(bundleOptions('functions/drain/index.ts', out));
  } else {
    const src = path.join(dir, 'src');
    mkdirSync(src, { recursive: true });
    if (variant.kind === 'patch') {
      cpSync(path.join(PROJECT_ROOT, 'functions'), path.join(src, 'functions'), { recursive: true });
      run('patch', ['-p1', '--forward', '--batch', '-i', variant.file], src, `BENCH_DRAIN_PATCH ${variant.file} does not apply to functions/`);
      buildSync({ ...bundleOptions(path.join(src, 'functions/drain/index.ts'), out), nodePaths: [path.join(PROJECT_ROOT, 'node_modules')] });
    } else {
      // That commit's sources AND its bundler options: both are part of what it shipped.
      const tar = path.join(dir, 'src.tar');
      run('git', ['archive', '--format=tar', '-o', tar, variant.ref, 'functions', BUNDLER], PROJECT_ROOT, `git archive ${variant.ref} functions ${BUNDLER}`);
      run('tar', ['-xf', tar], src, `unpacking ${variant.ref}`);
      symlinkSync(path.join(PROJECT_ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
      // A TypeScript file of another commit: require() goes through tsx, as the bench itself does.
      const theirs = require(path.join(src, BUNDLER)) as { bundleOptions: typeof bundleOptions };
      buildSync(theirs.bundleOptions('functions/drain/index.ts', out));
    }
  }
  bundles.set(key, out);
  return out;
}

export interface DrainEnv {
  readonly jenkinsUrl: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly parameterName: string;
  readonly webhookSecretParameter?: string;
  readonly sqsEndpoint: string;
  readonly ssmEndpoint: string;
  /** CONCURRENCY, IDLE_WAIT_SECONDS, MAX_RUN_SECONDS ... */
  readonly extra?: Record<string, string>;
}

/** The stack's production defaults (stacks/config.ts DEFAULT_CONFIG), pointed at local peers. */
export function drainVariables(env: DrainEnv): Record<string, string> {
  return {
    JENKINS_URL: env.jenkinsUrl,
    QUEUE_URL: env.queueUrl,
    DLQ_URL: env.dlqUrl,
    SPIGOT_PARAMETER_NAME: env.parameterName,
    ...(env.webhookSecretParameter ? { WEBHOOK_SECRET_PARAMETER: env.webhookSecretParameter } : {}),
    AWS_ENDPOINT_URL_SQS: env.sqsEndpoint,
    AWS_ENDPOINT_URL_SSM: env.ssmEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    CONCURRENCY: '8',
    HTTP_TIMEOUT_MS: '10000',
    MAX_ATTEMPTS: '3',
    AUTO_CLOSE_AFTER_FAILURES: '5',
    PROBE_PATH: '/whoAmI/api/json',
    PROBE_METHOD: 'GET',
    PROBE_EXPECT_STATUS: '200',
    PROBE_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'INFO',
    METRICS_NAMESPACE: 'Spigot',
    METRICS_STACK: 'spigot-bench',
    ...env.extra,
  };
}


export interface Invocation {
  readonly result: DrainResult;
  readonly output: string[];
  /** The EMF record the drain printed (SqsCalls, Released ...). */
  readonly metrics: Record<string, number>;
  readonly wallMs: number;
  /** The drain process's CPU during the invocation (module init excluded). */
  readonly cpuMs: number;
  readonly samples: readonly CpuSample[];
  /** SQS calls by action, counted at node:http in the drain process (retries included). */
  readonly sqsCalls: Record<string, number>;
  readonly jenkinsPosts: number;
}

export interface RunningInvocation {
  readonly done: Promise<Invocation>;
  /** Makes getRemainingTimeInMillis() report `ms` from now on, as when a Lambda nears its timeout. */
  setRemainingMs(ms: number): void;
  /** Gives up on a hung invocation: its process is killed and its promise rejects. */
  abandon(): void;
}

export interface LoadedDrain {
  readonly pid: number;
  readonly initMs: number;
  readonly initCpuMs: number;
  /** Runs one event (Lambda runs one event per container at a time); the timeout defaults to 300 s. */
  start(options?: { timeoutMs?: number; event?: unknown }): RunningInvocation;
  stop(): Promise<void>;
}

type ChildMessage =
  | { type: 'ready'; initMs: number; initCpuMs: number }
  | {
    type: 'done'; result?: DrainResult; error?: string; wallMs: number; cpuMs: number; samples: CpuSample[];
    calls: { jenkinsPosts: number; sqs: Record<string, number> };
  };

const CHILD = path.join(__dirname, '..', 'drain-child.cjs');

/** BENCH_DRAIN_NODE_ARGS: Node options for the drain processes, e.g. `--cpu-prof --cpu-prof-dir /tmp/prof`. */
const execArgv = (process.env.BENCH_DRAIN_NODE_ARGS ?? '').split(' ').filter(Boolean);

/** Starts a fresh drain process (module init runs) with `env` set; resolves once the bundle is loaded. */
export async function loadDrain(env: DrainEnv, variant: DrainVariant = { kind: 'tree' }): Promise<LoadedDrain> {
  const bundle = drainBundle(variant);
  const child: ChildProcess = track(fork(CHILD, [bundle], {
    env: { PATH: process.env.PATH, ...drainVariables(env) },
    execArgv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    serialization: 'advanced',
  }));
  const output: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => output.push(line));
  let onDone: ((m: Extract<ChildMessage, { type: 'done' }>) => void) | undefined;
  let onExit: ((why: string) => void) | undefined;
  child.on('message', (raw) => {
    const m = raw as ChildMessage;
    if (m.type === 'done') onDone?.(m);
  });
  child.once('exit', (code, signal) => onExit?.(`the drain process exited (${code ?? signal})`));
  const ready = await new Promise<Extract<ChildMessage, { type: 'ready' }>>((resolve, reject) => {
    child.once('message', (m) => resolve(m as Extract<ChildMessage, { type: 'ready' }>));
    child.once('exit', (code) => reject(new Error(`the drain process exited while loading the bundle (${code})`)));
  });
  let active = false;
  return {
    pid: child.pid!,
    initMs: ready.initMs,
    initCpuMs: ready.initCpuMs,
    start(options = {}) {
      if (active) throw new Error('this drain is already running (Lambda runs one event per container)');
      active = true;
      const from = output.length;
      const done = new Promise<Invocation>((resolve, reject) => {
        onExit = (why) => reject(new Error(why));
        onDone = (m) => {
          active = false;
          // Let the last stdout lines (the run summary, the EMF record) arrive.
          setTimeout(() => {
            if (m.error !== undefined || !m.result) return reject(new Error(`the drain invocation failed: ${m.error}`));
            const lines = output.slice(from);
            resolve({
              result: m.result, output: lines, metrics: emfOf(lines), wallMs: m.wallMs, cpuMs: m.cpuMs, samples: m.samples,
              sqsCalls: m.calls.sqs, jenkinsPosts: m.calls.jenkinsPosts,
            });
          }, 50);
        };
      });
      child.send({ cmd: 'invoke', event: options.event ?? { source: 'aws.events', 'detail-type': 'Scheduled Event' }, timeoutMs: options.timeoutMs ?? 300_000 });
      return {
        done,
        setRemainingMs: (ms) => child.send({ cmd: 'remaining', ms }),
        abandon: () => child.kill('SIGKILL'),
      };
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function emfOf(lines: string[]): Record<string, number> {
  for (const line of lines) {
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed._aws) {
        const out: Record<string, number> = {};
        for (const [k, v] of Object.entries(parsed)) if (typeof v === 'number') out[k] = v;
        return out;
      }
    } catch {
      // not JSON: ignore
    }
  }
  return {};
}
