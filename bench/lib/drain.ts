/**
 * Loads the drain exactly as Lambda runs it: the esbuild bundle built with the stack's own
 * `bundleOptions`, required fresh (a new "container") with its environment set, and invoked
 * with a Lambda-like context. The environment stays set while the handler runs, because the
 * bundled AWS SDK resolves region and endpoints lazily. The drain's stdout (JSON logs and
 * the EMF record) is captured; the bench itself writes progress to stderr meanwhile.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { bundleOptions, PROJECT_ROOT } from '../../stacks/constructs/bundled-function-asset';
import type { DrainResult } from '../../functions/drain/drain';

let bundlePath: string | undefined;

/**
 * BENCH_DRAIN_PATCH=<file>: an experiment. The drain sources (functions/) are copied to a
 * temporary directory, the unified diff is applied there (`patch -p1`), and that copy is
 * bundled with the same options. The working tree is never touched.
 */
export const drainPatch = process.env.BENCH_DRAIN_PATCH ? path.resolve(process.env.BENCH_DRAIN_PATCH) : undefined;

export function drainBundle(): string {
  if (!bundlePath) {
    const dir = path.join(os.tmpdir(), `spigot-drain-bench-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    bundlePath = path.join(dir, 'index.js');
    if (!drainPatch) {
      buildSync(bundleOptions('functions/drain/index.ts', bundlePath));
    } else {
      const src = path.join(dir, 'src');
      rmSync(src, { recursive: true, force: true });
      mkdirSync(src, { recursive: true });
      cpSync(path.join(PROJECT_ROOT, 'functions'), path.join(src, 'functions'), { recursive: true });
      const applied = spawnSync('patch', ['-p1', '--forward', '--batch', '-i', drainPatch], { cwd: src, encoding: 'utf8' });
      if (applied.status !== 0) throw new Error(`BENCH_DRAIN_PATCH ${drainPatch} does not apply to functions/: ${applied.stdout}${applied.stderr}`);
      buildSync({ ...bundleOptions(path.join(src, 'functions/drain/index.ts'), bundlePath), nodePaths: [path.join(PROJECT_ROOT, 'node_modules')] });
    }
  }
  return bundlePath;
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

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<DrainResult>;

export interface Invocation {
  readonly result: DrainResult;
  readonly output: string[];
  /** The EMF record the drain printed (SqsCalls, Released ...). */
  readonly metrics: Record<string, number>;
  readonly wallMs: number;
}

export interface RunningInvocation {
  readonly done: Promise<Invocation>;
  /** Makes getRemainingTimeInMillis() report `ms` from now on, as when a Lambda nears its timeout. */
  setRemainingMs(ms: number): void;
  /** Gives up on a hung invocation: restores stdout and the environment; its promise is left pending. */
  abandon(): void;
}

export interface LoadedDrain {
  readonly initMs: number;
  /** Lambda timeout is `timeoutMs` (the stack's default is 300 s). */
  start(options?: { timeoutMs?: number; event?: unknown }): RunningInvocation;
}

function withEnvironment(variables: Record<string, string>, output: string[]) {
  const saved: Record<string, string | undefined> = {};
  const originalStdout = process.stdout.write;
  const sink = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
  let isSet = false;
  return {
    set() {
      if (isSet) return;
      isSet = true;
      for (const key of Object.keys(variables)) saved[key] = process.env[key];
      Object.assign(process.env, variables);
      process.stdout.write = sink;
    },
    restore() {
      if (!isSet) return;
      isSet = false;
      process.stdout.write = originalStdout;
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

/** Requires a fresh copy of the bundle (module init runs again) with `env` set. */
export function loadDrain(env: DrainEnv): LoadedDrain {
  const variables = drainVariables(env);
  const output: string[] = [];
  const scope = withEnvironment(variables, output);
  const file = drainBundle();
  let handler: Handler;
  let initMs: number;
  scope.set();
  try {
    delete require.cache[file];
    const t0 = performance.now();
    handler = (require(file) as { handler: Handler }).handler;
    initMs = performance.now() - t0;
  } finally {
    scope.restore();
  }
  let active = false;
  return {
    initMs,
    start(options = {}) {
      if (active) throw new Error('this drain copy is already running (Lambda runs one event per container)');
      active = true;
      let deadline = Date.now() + (options.timeoutMs ?? 300_000);
      const from = output.length;
      const started = performance.now();
      scope.set();
      const done = (async (): Promise<Invocation> => {
        try {
          const result = await handler(options.event ?? { source: 'aws.events', 'detail-type': 'Scheduled Event' }, {
            getRemainingTimeInMillis: () => deadline - Date.now(),
          });
          const lines = output.slice(from);
          return { result, output: lines, metrics: emfOf(lines), wallMs: performance.now() - started };
        } finally {
          scope.restore();
          active = false;
        }
      })();
      return {
        done,
        setRemainingMs(ms) {
          deadline = Date.now() + ms;
        },
        abandon() {
          scope.restore();
          active = false;
        },
      };
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
