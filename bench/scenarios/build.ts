/**
 * S4 cold start and size, S5 synth time.
 *  - module init: fresh `node -e` processes require the bundle with the drain's environment set
 *    and time the `require` (median of 5), for the drain and for the baseline when there is one;
 *  - zip: the drain asset zip `npm run synth` writes under cdktf.out/stacks/ (S5 runs synth);
 *  - synth: wall time of `npm run synth`, 3 times, median. Synth rewrites cdktf.out/ (untracked).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../stacks/constructs/bundled-function-asset';
import { PARAM, SECRET_PARAM, type Bench } from '../lib/context';
import { drainBundle, drainVariables, variantName, type DrainVariant } from '../lib/drain';
import { spread } from '../lib/measures';
import { progress, round } from '../lib/stats';

export const INIT_MS_TARGET = 150;

function moduleInit(variant: DrainVariant) {
  const bundle = drainBundle(variant);
  const env = {
    PATH: process.env.PATH,
    ...drainVariables({
      jenkinsUrl: 'http://127.0.0.1:9', queueUrl: 'http://127.0.0.1:9/000000000000/q.fifo', dlqUrl: 'http://127.0.0.1:9/000000000000/d.fifo',
      parameterName: PARAM, webhookSecretParameter: SECRET_PARAM, sqsEndpoint: 'http://127.0.0.1:9', ssmEndpoint: 'http://127.0.0.1:9',
    }),
  };
  const script = 'const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  const samples: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const r = spawnSync(process.execPath, ['-e', script, bundle], { env, encoding: 'utf8', timeout: 30_000 });
    if (r.status !== 0) throw new Error(`cold start child failed: ${r.stderr}`);
    samples.push(Number(r.stdout));
  }
  return { samples, init: spread(samples), bundleBytes: statSync(bundle).size };
}

export function coldStart(bench: Bench): void {
  progress('S4 cold start: fresh `node -e` requiring the bundle, 5 times');
  const s = 'S4 cold start';
  const mine = moduleInit(bench.options.variant);
  progress(`  module init median ${mine.init.median.toFixed(1)} ms (samples ${mine.samples.map((x) => x.toFixed(0)).join(', ')}), bundle ${(mine.bundleBytes / 1024).toFixed(0)} KB`);
  bench.results.coldStart = { initMs: mine.init, initMsSamples: mine.samples.map((x) => round(x)), bundleBytes: mine.bundleBytes };
  bench.rows.push({ scenario: s, metric: 'bundle module init (median (range) of 5)', value: `${mine.init.median.toFixed(1)} (${mine.init.min.toFixed(0)}-${mine.init.max.toFixed(0)})`, unit: 'ms',
    target: `<= ${INIT_MS_TARGET} ms`, pass: mine.init.median <= INIT_MS_TARGET });
  if (bench.options.baseline) {
    const base = moduleInit(bench.options.baseline);
    (bench.results.coldStart as Record<string, unknown>).baseline = { initMs: base.init, bundleBytes: base.bundleBytes };
    bench.rows.push({ scenario: s, metric: `baseline module init (${variantName(bench.options.baseline)})`, value: `${base.init.median.toFixed(1)} (${base.init.min.toFixed(0)}-${base.init.max.toFixed(0)})`, unit: 'ms' });
  }
}

function findZips(): Array<{ file: string; bytes: number; mtimeMs: number }> {
  const dir = path.join(PROJECT_ROOT, 'cdktf.out', 'stacks');
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

function synthOnce(): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', 'synth'], { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr: err });
    });
  });
}

export async function synthRuns(bench: Bench): Promise<void> {
  progress('S5 synth: `npm run synth`, 3 times');
  const times: number[] = [];
  const startedAt = Date.now();
  for (let i = 0; i < 3; i += 1) {
    const t0 = performance.now();
    const { code, stderr } = await synthOnce();
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`npm run synth failed (${code}): ${stderr.slice(-2000)}`);
    times.push(ms);
    progress(`  synth ${i + 1}: ${(ms / 1000).toFixed(2)} s`);
  }
  const synth = spread(times);
  const zip = findZips().filter((z) => z.mtimeMs >= startedAt - 1000 && /drain/i.test(z.file)).sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  bench.results.synth = { wallMs: synth, samplesMs: times.map((t) => round(t)) };
  bench.results.zip = zip ? { file: path.relative(PROJECT_ROOT, zip.file), bytes: zip.bytes } : { error: 'no drain asset zip written by synth under cdktf.out/stacks' };
  bench.rows.push({ scenario: 'S4 size', metric: 'drain asset zip (cdktf.out)', value: zip ? round(zip.bytes / 1024, 1) : 'n/a', unit: 'KB', target: '<= 500 KB', pass: zip ? zip.bytes <= 500 * 1024 : false });
  bench.rows.push({ scenario: 'S5 synth', metric: '`npm run synth` wall (median of 3)', value: round(synth.median / 1000, 2), unit: 's', target: '<= 10 s', pass: synth.median <= 10_000,
    why: 'tsx compiles main.ts, loads cdktf and the AWS provider classes, bundles the drain with esbuild and zips it' });
}
