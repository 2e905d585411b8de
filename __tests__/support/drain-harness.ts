import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildSync } from 'esbuild';
import { bundleOptions } from '../../stacks/constructs/bundled-function-asset';
import type { DrainResult } from '../../functions/drain/drain';

/**
 * Runs the drain as Lambda runs it: the esbuild bundle the stack ships, loaded fresh with
 * its environment, invoked with a Lambda-like context. Its stdout (structured logs and EMF
 * metrics) is captured so tests can assert on what it logged.
 */
const bundles = new Map<string, string>();

/** Bundles an entry point once per test process, with the options synth uses. */
function bundleOnce(entry: string, name: string): string {
  let file = bundles.get(entry);
  if (!file) {
    const dir = path.join(os.tmpdir(), `spigot-${name}-test-${process.pid}`);
    mkdirSync(dir, { recursive: true });
    file = path.join(dir, `${name}.js`);
    buildSync(bundleOptions(entry, file));
    bundles.set(entry, file);
  }
  return file;
}

export const drainBundle = (): string => bundleOnce('functions/drain/index.ts', 'drain');

/** The agent entry point (functions/drain/agent-main.ts), bundled like the drain. */
export const agentBundle = (): string => bundleOnce('functions/drain/agent-main.ts', 'agent');

export interface DrainEnvironment {
  readonly jenkinsUrl: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly parameterName: string;
  readonly sqsEndpoint: string;
  readonly ssmEndpoint: string;
  /** Extra or overriding variables (CONCURRENCY, HOLD_SECONDS ...). */
  readonly extra?: Record<string, string>;
}

export interface DrainInvocation {
  readonly result: DrainResult;
  /** Everything the drain wrote to stdout: JSON log lines and EMF records. */
  readonly output: string[];
}

export interface LoadedDrain {
  invoke(options?: { remainingMs?: number; event?: unknown }): Promise<DrainInvocation>;
}

type Handler = (event: unknown, context: { getRemainingTimeInMillis(): number }) => Promise<DrainResult>;

/** Test defaults keep runs short: no idle long-poll, quick holds and re-checks. */
export function drainVariables(env: DrainEnvironment): Record<string, string> {
  return {
    JENKINS_URL: env.jenkinsUrl,
    QUEUE_URL: env.queueUrl,
    DLQ_URL: env.dlqUrl,
    SPIGOT_PARAMETER_NAME: env.parameterName,
    AWS_ENDPOINT_URL_SQS: env.sqsEndpoint,
    AWS_ENDPOINT_URL_SSM: env.ssmEndpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    LOG_LEVEL: 'INFO',
    IDLE_WAIT_SECONDS: '0',
    // Time runs fast here: runs of seconds, so holds of seconds (production: 30 s, floor 60-300 s).
    HOLD_SECONDS: '1',
    MIN_HOLD_SECONDS: '1',
    MAX_HOLD_SECONDS: '2',
    STATE_RECHECK_MS: '200',
    HTTP_TIMEOUT_MS: '2000',
    PROBE_TIMEOUT_MS: '1000',
    MAX_RUN_SECONDS: '20',
    ...env.extra,
  };
}

export function loadDrain(env: DrainEnvironment): LoadedDrain {
  const variables = drainVariables(env);
  const saved: Record<string, string | undefined> = {};
  const output: string[] = [];
  const originalStdout = process.stdout.write.bind(process.stdout);
  const originalStderr = process.stderr.write.bind(process.stderr);
  let handler: Handler;
  const sink = ((chunk: string | Uint8Array) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write;
  // The SDK resolves region and endpoints lazily, so the environment stays set while invoked.
  const capture = () => {
    for (const key of Object.keys(variables)) saved[key] = process.env[key];
    Object.assign(process.env, variables);
    process.stdout.write = sink;
    process.stderr.write = sink;
  };
  const release = () => {
    process.stdout.write = originalStdout;
    process.stderr.write = originalStderr;
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  capture();
  try {
    const file = drainBundle();
    delete require.cache[file];
    jest.isolateModules(() => {
      handler = (require(file) as { handler: Handler }).handler;
    });
  } finally {
    release();
  }
  return {
    async invoke(options = {}) {
      const deadline = Date.now() + (options.remainingMs ?? 60000);
      const start = output.length;
      capture();
      try {
        const result = await handler(options.event ?? { source: 'aws.events', 'detail-type': 'Scheduled Event' }, {
          getRemainingTimeInMillis: () => deadline - Date.now(),
        });
        return { result, output: output.slice(start) };
      } finally {
        release();
      }
    },
  };
}
