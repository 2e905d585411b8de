/**
 * `npm run bench:cli`: how long the operator CLI takes, start to exit, as an operator runs it
 * (`node bin/spigot.js ...`, the esbuild bundle), against loopback emulators for `status`.
 * Beside it: bare `node -e 0` (the floor) and the way it ran before the bundle, `tsx cli/index.ts`.
 * Writes bench/cli-startup.json. Figures only; no pass/fail (the target is "well under 0.5 s").
 */
import '../__tests__/support/jest-setup';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createBufferQueues, startFauxqs, TEST_CREDENTIALS, TEST_REGION } from '../__tests__/support/fauxqs';
import { startLoopbackSsm } from '../__tests__/support/loopback-ssm';
import { startLoopbackCloudWatch } from '../__tests__/cli/loopback-cloudwatch';
import { PROJECT_ROOT } from '../stacks/constructs/bundled-function-asset';
import { buildCli } from '../scripts/build-cli';
import { median, percentile, round } from './lib/stats';

const RUNS = Number(process.env.BENCH_CLI_RUNS ?? 15);

/** Async on purpose: the loopback SSM and CloudWatch answer from this process's event loop. */
function runOnce(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { env, cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${[command, ...args].join(' ')} exited ${code}: ${stderr}`));
    });
  });
}

async function timeRuns(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ medianMs: number; p90Ms: number; runs: number }> {
  await runOnce(command, args, env); // warms the file cache
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) times.push(await runOnce(command, args, env));
  return { medianMs: round(median(times), 1), p90Ms: round(percentile(times, 90), 1), runs: times.length };
}

async function main(): Promise<void> {
  const build = buildCli();
  const [fauxqs, ssm, cloudwatch] = await Promise.all([startFauxqs(), startLoopbackSsm(), startLoopbackCloudWatch()]);
  try {
    const queues = await createBufferQueues(fauxqs.sqs, 'bench-cli');
    ssm.putDirect('/bench-cli/spigot', 'open', { description: 'bench' });
    ssm.putDirect('/bench-cli/drain-status', '{}');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
      AWS_CONFIG_FILE: '/nonexistent',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_SQS: fauxqs.endpoint,
      AWS_ENDPOINT_URL_SSM: ssm.endpoint,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.endpoint,
      SPIGOT_PARAMETER_NAME: '/bench-cli/spigot',
      SPIGOT_DRAIN_STATUS_PARAMETER: '/bench-cli/drain-status',
      SPIGOT_QUEUE_URL: queues.queueUrl,
      SPIGOT_DLQ_URL: queues.dlqUrl,
    };
    const bin = path.join(PROJECT_ROOT, 'bin', 'spigot.js');
    const tsx = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg().map((l) => round(l, 2)) },
      bundle: { kilobytes: Math.round(build.bytes / 1024), buildMs: build.ms },
      figures: {
        'node -e 0 (floor)': await timeRuns(process.execPath, ['-e', '0'], env),
        'spigot --version': await timeRuns(process.execPath, [bin, '--version'], env),
        'spigot --help': await timeRuns(process.execPath, [bin, '--help'], env),
        'spigot status': await timeRuns(process.execPath, [bin, 'status'], env),
        'tsx cli/index.ts --help (no bundle)': await timeRuns(tsx, ['cli/index.ts', '--help'], env),
        'tsx cli/index.ts status (no bundle)': await timeRuns(tsx, ['cli/index.ts', 'status'], env),
      },
    };
    writeFileSync(path.join(__dirname, 'cli-startup.json'), `${JSON.stringify(results, null, 2)}\n`);
    for (const [name, f] of Object.entries(results.figures)) process.stdout.write(`${name.padEnd(36)} median ${String(f.medianMs).padStart(6)} ms   p90 ${String(f.p90Ms).padStart(6)} ms\n`);
    process.stdout.write(`bundle ${results.bundle.kilobytes} KB, load average ${results.machine.loadAverage.join(' ')}\n`);
  } finally {
    await Promise.all([fauxqs.stop(), ssm.stop(), cloudwatch.stop()]);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
