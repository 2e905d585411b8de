/**
 * Spigot benchmark: `npm run bench [-- --write] [-- --baseline <git ref>]`. See bench/README.md.
 *
 * Processes: this one runs the orchestration, the Edge (VTL emulator), the loopback SSM and the
 * reference consumers; the BUNDLED drain runs in a fresh child process per invocation (a new
 * Lambda container); the SQS emulator and the loopback Jenkins run in their own processes.
 * Exits 1 when a target is missed or a scenario fails. Writes bench/results.json and the
 * README's benchmark block only with --write, and only after a full run.
 */
import '../__tests__/support/jest-setup';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Edge } from '../__tests__/support/edge';
import { startLoopbackSsm } from '../__tests__/support/loopback-ssm';
import { synthStack } from '../__tests__/support/synth';
import { WEBHOOK_SECRET } from '../__tests__/support/webhooks';
import { DEFAULT_CONFIG } from '../stacks/config';
import { REFERENCE_JENKINS_MS, sizingCell } from '../stacks/sizing';
import { PARAM, SECRET_PARAM, type Bench, type BenchOptions, type Row } from './lib/context';
import { drainBundle, drainPatch, removeBundles, variantName, type DrainVariant } from './lib/drain';
import { killAllChildren, sqsEmulatorFromEnvironment, startLocalstackEmulator } from './lib/procs';
import { misses, replaceBlock, sizingMarkdown, table } from './lib/report';
import { progress, round } from './lib/stats';
import { coldStart, synthRuns } from './scenarios/build';
import { emulatorBound } from './scenarios/emulator-bound';
import { jenkinsBound } from './scenarios/jenkins-bound';
import { latency } from './scenarios/latency';

const ROOT = path.resolve(__dirname, '..');
const USAGE = 'usage: npm run bench [-- --write] [-- --baseline <git ref>] (environment: BENCH_N, BENCH_N2, BENCH_ROUNDS, BENCH_S1_RUNS, BENCH_ONLY, BENCH_SKIP_SYNTH, BENCH_SKIP_LOCALSTACK, BENCH_DRAIN_PATCH, BENCH_SQS_ENDPOINT; see bench/README.md)';

function parseArgs(argv: readonly string[]): { write: boolean; baseline?: string } {
  let write = false;
  let baseline: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i];
    if (a === '--write') write = true;
    else if (a === '--baseline') baseline = argv[++i];
    else if (a.startsWith('--baseline=')) baseline = a.slice('--baseline='.length);
    else throw new Error(`unknown argument ${JSON.stringify(a)}; ${USAGE}`);
  }
  if (baseline !== undefined && spawnSync('git', ['rev-parse', '--verify', '--quiet', `${baseline}^{commit}`], { cwd: ROOT }).status !== 0) {
    throw new Error(`--baseline ${JSON.stringify(baseline)} is not a commit in this repository; ${USAGE}`);
  }
  return { write, baseline };
}

const git = (...args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout.trim();

function sizingRows(bench: Bench): string | undefined {
  const cpu = (bench.results.emulatorBound as { cpuMsPerWebhook?: { median: number } } | undefined)?.cpuMsPerWebhook?.median;
  if (cpu === undefined || !Number.isFinite(cpu)) return undefined;
  const { memoryMb, concurrency } = DEFAULT_CONFIG.drain;
  const cell = sizingCell(memoryMb, concurrency, cpu, REFERENCE_JENKINS_MS);
  bench.rows.push({
    scenario: 'Sizing', metric: `default drain (${memoryMb} MB, concurrency ${concurrency}) vs a ${REFERENCE_JENKINS_MS} ms Jenkins, at the measured CPU per webhook`,
    value: `${Math.floor(cell.drainPerSecond)}/s vs ${Math.round(cell.jenkinsPerSecond)}/s = ${cell.headroom.toFixed(1)}x`, target: '>= 2x', pass: cell.headroom >= 2,
    why: 'raise drain.memoryMb in stacks/config.ts (README "Sizing the drain")',
  });
  return sizingMarkdown(cpu, REFERENCE_JENKINS_MS, { memoryMb, concurrency });
}

function readmeBlock(bench: Bench, sizing: string | undefined): string {
  const m = bench.results.machine as { cpus: number; node: string; date: string };
  const md = (v: string) => v.replace(/\|/g, '\\|');
  const rows = bench.rows.map((r) => `| ${md(r.scenario)} | ${md(r.metric)} | ${md(`${r.value}${r.unit ? ` ${r.unit}` : ''}`)} | ${md(r.target ?? '')} | ${r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS'} |`);
  return [
    `Written by \`npm run bench -- --write\` on ${m.cpus} shared cores, Node ${m.node.replace(/^v/, '')}, ${m.date.slice(0, 10)}, commit ${bench.results.commit}` +
      `${bench.options.baseline ? `, baseline ${variantName(bench.options.baseline)}` : ''}. Figures with a range are the median (min-max) over S2's ${bench.options.rounds} interleaved rounds, or over the runs a row names.`,
    '',
    '| scenario | metric | value | target | |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    ...(sizing ? ['', '### Sizing the drain', '', `From the measured CPU per webhook above (release rate of a backlog; **drain-bound** = the Lambda, not Jenkins, sets the pace):`, '', sizing] : []),
  ].join('\n');
}

/** Any of these set makes a partial run, which --write refuses to record. */
const PARTIAL_RUN_VARIABLES = ['BENCH_SKIP_SYNTH', 'BENCH_SKIP_LOCALSTACK', 'BENCH_N', 'BENCH_N2', 'BENCH_ROUNDS', 'BENCH_S1_RUNS', 'BENCH_DRAIN_PATCH', 'BENCH_SQS_ENDPOINT'];

/** A positive whole number from the environment, or the default; anything else is an error that names it. */
function countFromEnvironment(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1, got ${JSON.stringify(raw)}`);
  return value;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const only = (process.env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  const envSet = (k: string) => process.env[k] !== undefined;
  const partial = only.length > 0 || PARTIAL_RUN_VARIABLES.some(envSet);
  if (args.write && partial) throw new Error(`--write records a full run only: unset BENCH_ONLY, ${PARTIAL_RUN_VARIABLES.join(', ')}`);
  const variant: DrainVariant = drainPatch ? { kind: 'patch', file: drainPatch } : { kind: 'tree' };
  const options: BenchOptions = {
    n1: countFromEnvironment('BENCH_N', 1500),
    n2: countFromEnvironment('BENCH_N2', 3000),
    rounds: countFromEnvironment('BENCH_ROUNDS', 5),
    s1Runs: countFromEnvironment('BENCH_S1_RUNS', 5),
    variant,
    // The commit, not an annotated tag's own object: that is what the report names.
    baseline: args.baseline ? { kind: 'ref', ref: git('rev-parse', '--short', `${args.baseline}^{commit}`) } : undefined,
  };
  const started = Date.now();
  const results: Record<string, unknown> = {
    machine: {
      cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version,
      platform: `${os.platform()} ${os.release()}`, date: new Date().toISOString(), loadAverageAtStart: os.loadavg().map((x) => round(x)),
    },
    commit: git('rev-parse', '--short', 'HEAD') || null,
    drainSourcesModified: git('status', '--porcelain', '--', 'functions') !== '',
    drain: variantName(variant),
    baseline: options.baseline ? variantName(options.baseline) : null,
  };
  progress(`bundling the drain (${variantName(variant)}${options.baseline ? `; baseline ${variantName(options.baseline)}` : ''}) and synthesizing the stack for the Edge templates`);
  drainBundle(variant);
  if (options.baseline) drainBundle(options.baseline);
  const parsed = synthStack().parsed;
  const sqs = await sqsEmulatorFromEnvironment();
  const ssm = await startLoopbackSsm();
  ssm.putDirect(PARAM, 'open');
  ssm.putDirect(SECRET_PARAM, WEBHOOK_SECRET, { type: 'SecureString' });
  const rows: Row[] = [];
  const bench: Bench = { options, sqs, ssm, rows, results, edgeFor: (queueUrl) => new Edge(parsed, { endpoint: sqs.endpoint, queueUrl }) };
  const failures: string[] = [];
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
    await phase('S1 Jenkins-bound', () => jenkinsBound(bench));
    if (process.env.BENCH_SKIP_LOCALSTACK !== '1') {
      await phase('S1 Jenkins-bound on LocalStack', async () => {
        const localstack = await startLocalstackEmulator();
        try {
          await jenkinsBound({ ...bench, sqs: localstack, edgeFor: (queueUrl) => new Edge(parsed, { endpoint: localstack.endpoint, queueUrl }) });
        } finally {
          await localstack.stop();
        }
      });
    }
    await phase('S2 emulator-bound', () => emulatorBound(bench));
    await phase('S3 latency', () => latency(bench));
  } finally {
    await sqs.stop();
    await ssm.stop();
  }
  await phase('S4 cold start', () => coldStart(bench));
  if (process.env.BENCH_SKIP_SYNTH !== '1') await phase('S5 synth', () => synthRuns(bench));
  const sizing = sizingRows(bench);

  Object.assign(results, { rows, failures, partial, totalSeconds: round((Date.now() - started) / 1000, 1) });
  (results.machine as Record<string, unknown>).loadAverageAtEnd = os.loadavg().map((x) => round(x));
  process.stdout.write(`\n${table(rows)}\n`);
  if (sizing) process.stdout.write(`\nSizing from the measured CPU per webhook (${REFERENCE_JENKINS_MS} ms Jenkins):\n\n${sizing}\n`);
  const missed = misses(rows);
  if (missed) process.stdout.write(`\nMissed targets:\n${missed}\n`);
  if (args.write) {
    writeFileSync(path.join(__dirname, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const readme = path.join(ROOT, 'README.md');
    writeFileSync(readme, replaceBlock(readFileSync(readme, 'utf8'), readmeBlock(bench, sizing)));
    process.stdout.write(`\nwrote bench/results.json and the benchmark block of README.md; total ${results.totalSeconds} s\n`);
  } else {
    const out = path.join(os.tmpdir(), `spigot-bench-${process.pid}.json`);
    writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`\nresults in ${out} (tracked files untouched; --write records a full run); total ${results.totalSeconds} s\n`);
  }
  if (failures.length > 0 || missed) process.exitCode = 1;
}

main()
  .catch((error) => {
    process.stderr.write(`bench failed: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    killAllChildren();
    removeBundles();
    // The SDK clients keep sockets alive; do not wait for them.
    setTimeout(() => process.exit(), 200).unref();
  });
