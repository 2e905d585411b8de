import { spawnSync } from 'node:child_process';
import path from 'node:path';

const ROOT = path.join(__dirname, '../..');

/** `npm run bench` as a newcomer runs it, stopped by its own checks before anything starts. */
function bench(env: Record<string, string>, args: string[] = []) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, ...env },
    timeout: 60_000,
  });
}

describe('bench options', () => {
  it.each([['BENCH_S1_RUNS', 'x'], ['BENCH_N', '0'], ['BENCH_ROUNDS', '2.5']])('when %s is %j, it exits 1 naming the variable', (name, value) => {
    const run = bench({ [name]: value });
    expect(run.status).toBe(1);
    expect(run.stderr + run.stdout).toContain(`${name} must be a whole number of at least 1, got "${value}"`);
  });

  it('when --write is asked for with a partial-run variable set, it refuses and lists every such variable', () => {
    const run = bench({ BENCH_S1_RUNS: '2' }, ['--write']);
    expect(run.status).toBe(1);
    expect(run.stderr + run.stdout).toContain('--write records a full run only: unset BENCH_ONLY, BENCH_SKIP_SYNTH, BENCH_SKIP_LOCALSTACK, BENCH_N, BENCH_N2, BENCH_ROUNDS, BENCH_S1_RUNS, BENCH_DRAIN_PATCH, BENCH_SQS_ENDPOINT');
  });
});
