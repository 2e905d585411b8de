import { ConfigError, DEFAULT_CONFIG, mergeConfig, validateConfig } from '../../stacks/config';
import {
  DRAIN_CPU_MS_PER_WEBHOOK,
  drainRate,
  jenkinsRate,
  MB_PER_VCPU,
  minimumMemoryMb,
  REFERENCE_JENKINS_MS,
  sizingCell,
  sizingTable,
} from '../../stacks/sizing';

function problemsFor(drain: object): string[] {
  try {
    validateConfig(mergeConfig(DEFAULT_CONFIG, { drain }), 'spigot.config.json');
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
}

describe('drain sizing', () => {
  it('when memory grows up to one vCPU, the drain rate grows in proportion, and not beyond', () => {
    expect(drainRate(MB_PER_VCPU, 0.5)).toBeCloseTo(2000);
    expect(drainRate(MB_PER_VCPU / 2, 0.5)).toBeCloseTo(1000);
    expect(drainRate(2 * MB_PER_VCPU, 0.5)).toBeCloseTo(drainRate(MB_PER_VCPU, 0.5));
  });

  it('when Jenkins takes 50 ms, each slot of concurrency takes 20 webhooks a second', () => {
    expect(jenkinsRate(1, 50)).toBe(20);
    expect(jenkinsRate(8, 50)).toBe(160);
  });

  it('when the drain is slower than Jenkins, the cell says the drain sets the pace, at its rate', () => {
    const cell = sizingCell(128, 32, 0.6, 50);
    expect(cell.limitedBy).toBe('drain');
    expect(cell.releasePerSecond).toBeCloseTo(cell.drainPerSecond);
    expect(cell.headroom).toBeLessThan(1);
    const fast = sizingCell(1769, 1, 0.6, 50);
    expect(fast.limitedBy).toBe('jenkins');
    expect(fast.releasePerSecond).toBe(20);
  });

  it('when building the table, every row is one memory size and every column one concurrency', () => {
    const table = sizingTable(0.5, [128, 512], [1, 8, 32], 50);
    expect(table.map((row) => row.map((c) => [c.memoryMb, c.concurrency]))).toEqual([
      [[128, 1], [128, 8], [128, 32]],
      [[512, 1], [512, 8], [512, 32]],
    ]);
    // Release rates never exceed either limit, and rise with memory.
    for (const row of table) for (const c of row) expect(c.releasePerSecond).toBeLessThanOrEqual(Math.min(c.drainPerSecond, c.jenkinsPerSecond));
    expect(table[1][2].releasePerSecond).toBeGreaterThan(table[0][2].releasePerSecond);
  });

  it('when asked for the least memory, the answer meets the headroom and one MB less does not', () => {
    const mb = minimumMemoryMb(0.6, 8, 50, 2)!;
    expect(drainRate(mb, 0.6)).toBeGreaterThanOrEqual(2 * jenkinsRate(8, 50));
    expect(drainRate(mb - 1, 0.6)).toBeLessThan(2 * jenkinsRate(8, 50));
    expect(minimumMemoryMb(0.6, 1, 50, 1)).toBe(128);
    expect(minimumMemoryMb(0.6, 64, 50, 2)).toBeUndefined();
  });

  it('when using the defaults, the drain releases at least twice as fast as a 50 ms Jenkins takes webhooks', () => {
    const { memoryMb, concurrency } = DEFAULT_CONFIG.drain;
    expect(sizingCell(memoryMb, concurrency, DRAIN_CPU_MS_PER_WEBHOOK, REFERENCE_JENKINS_MS).headroom).toBeGreaterThanOrEqual(2);
  });
});

describe('drain.memoryMb validation', () => {
  it('when memory is too small for the concurrency, it says what that costs and how much is enough', () => {
    const problems = problemsFor({ memoryMb: 128, concurrency: 8 });
    expect(problems).toHaveLength(1);
    const [problem] = problems;
    expect(problem.startsWith('drain.memoryMb: 128 MB gives the drain 0.07 vCPU')).toBe(true);
    expect(problem).toMatch(/releases at most 120 webhooks\/s, fewer than the 160\/s a Jenkins answering in 50 ms takes at drain.concurrency 8/);
    expect(problem).toMatch(/1\.3x slower than Jenkins allows/);
    const enough = minimumMemoryMb(DRAIN_CPU_MS_PER_WEBHOOK, 8, REFERENCE_JENKINS_MS, 1);
    expect(problem).toContain(`use at least ${enough}`);
    expect(problem).toContain(`(${minimumMemoryMb(DRAIN_CPU_MS_PER_WEBHOOK, 8, REFERENCE_JENKINS_MS, 2)} keeps the drain twice as fast as Jenkins)`);
    expect(problem).toContain('or lower drain.concurrency');
  });

  it('when the concurrency is raised, the memory that was enough before is not', () => {
    expect(problemsFor({ memoryMb: 512, concurrency: 8 })).toEqual([]);
    expect(problemsFor({ memoryMb: 512, concurrency: 32 })[0]).toMatch(/^drain\.memoryMb: 512 MB .* at drain.concurrency 32/);
    expect(problemsFor({ memoryMb: 1024, concurrency: 32 })).toEqual([]);
  });

  it('when memory is not a whole number in Lambda\'s range, it reports only that', () => {
    expect(problemsFor({ memoryMb: 100 })).toEqual([expect.stringMatching(/^drain\.memoryMb: must be a whole number from 128 to 10240/)]);
  });
});
