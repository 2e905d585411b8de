import { busyWindow, maxOverlap, rampUp, spread, steadyCpuPerWebhook, type CpuSample, type Visit } from '../../bench/lib/measures';
import { README_END, README_START, replaceBlock, SIZING_CONCURRENCIES, SIZING_MEMORIES, sizingMarkdown } from '../../bench/lib/report';

/** Samples of a run costing `fixedMs` up front, then `perWebhook` ms each, `rate` webhooks per sample. */
function run(fixedMs: number, perWebhook: number, samples: number, rate: number, tailMs = 0): CpuSample[] {
  const out: CpuSample[] = [];
  for (let i = 0; i <= samples; i += 1) out.push([i * 50, fixedMs + perWebhook * rate * i, rate * i]);
  out.push([(samples + 1) * 50, fixedMs + perWebhook * rate * samples + tailMs, rate * samples]);
  return out;
}

describe('steady CPU per webhook', () => {
  it('when a run has a fixed cost up front and at the end, the slope leaves both out', () => {
    const steady = steadyCpuPerWebhook(run(300, 0.5, 40, 75, 120))!;
    expect(steady.msPerWebhook).toBeCloseTo(0.5, 6);
    expect(steady.webhooks).toBeGreaterThan(0.6 * 40 * 75);
  });

  it('when the start of a run is slower (JIT warm-up), only the window counts', () => {
    const samples = run(0, 0.5, 40, 75).map(([t, cpu, n]): CpuSample => [t, cpu + (n < 500 ? n : 500) * 1.5, n]);
    expect(steadyCpuPerWebhook(samples)!.msPerWebhook).toBeCloseTo(0.5, 6);
  });

  it('when too few samples fall in the window, it gives no figure rather than a wild one', () => {
    expect(steadyCpuPerWebhook([[0, 0, 0], [50, 10, 100]])).toBeUndefined();
  });
});

const visit = (repo: string, receivedAt: number, answeredAt: number): Visit => ({ repo, receivedAt, answeredAt });

describe('busy window', () => {
  it('when every slot is always busy while enough repositories have work, the effective concurrency is the cap', () => {
    const visits: Visit[] = [];
    for (let r = 0; r < 4; r += 1) for (let k = 0; k < 10; k += 1) visits.push(visit(`r${r}`, k * 30, k * 30 + 30));
    const w = busyWindow(visits, 2)!;
    expect(w.effectiveConcurrency).toBeCloseTo(4, 6);
  });

  it('when slots idle between webhooks, the mean in flight drops in proportion', () => {
    const visits: Visit[] = [];
    for (let r = 0; r < 4; r += 1) for (let k = 0; k < 10; k += 1) visits.push(visit(`r${r}`, k * 40, k * 40 + 30));
    // Busy 30 of every 40 ms, on 4 slots; the window ends with the last arrival.
    expect(busyWindow(visits, 4)!.effectiveConcurrency).toBeCloseTo(3, 1);
  });

  it('when fewer repositories than the cap still have work, the tail is left out', () => {
    const visits: Visit[] = [visit('a', 0, 30), visit('b', 0, 30), visit('a', 30, 60), visit('a', 60, 90), visit('a', 90, 120)];
    const w = busyWindow(visits, 2)!;
    expect(w.endMs).toBe(0); // b's last webhook arrived at 0: from then on only a had work
    expect(Number.isNaN(w.effectiveConcurrency)).toBe(true);
    expect(busyWindow(visits, 1)!.endMs).toBe(90);
  });

  it('when two webhooks only touch in time, they were never in flight together', () => {
    expect(maxOverlap([visit('a', 0, 30), visit('a', 30, 60), visit('b', 10, 40)])).toBe(2);
  });
});

describe('rampUp', () => {
  it('when slots fill one after another, it gives the time to the full cap and the idle slot time before it', () => {
    // Cap 3: one in flight from 0, two from 10, three from 25.
    const r = rampUp([visit('a', 0, 100), visit('b', 10, 100), visit('c', 25, 100)], 3);
    expect(r.ms).toBe(25);
    expect(r.idleSlotMs).toBe(2 * 10 + 1 * 15);
  });

  it('when every slot starts at once, it costs nothing', () => {
    expect(rampUp([visit('a', 5, 35), visit('b', 5, 35)], 2)).toEqual({ ms: 0, idleSlotMs: 0 });
  });

  it('when the cap is never reached, the time is not a number', () => {
    expect(Number.isNaN(rampUp([visit('a', 0, 30), visit('a', 30, 60)], 2).ms)).toBe(true);
  });
});

describe('spread', () => {
  it('when values are given, it gives the median and the range, ignoring non-numbers', () => {
    expect(spread([3, 1, 2, NaN])).toEqual({ median: 2, min: 1, max: 3, n: 3 });
    expect(spread([4, 1, 2, 3]).median).toBe(2.5);
  });
});

describe('README figures', () => {
  it('when rendering the sizing table, it has one row per memory size and marks drain-bound cells', () => {
    const md = sizingMarkdown(0.6, 50, { memoryMb: 512, concurrency: 8 });
    const lines = md.split('\n');
    expect(lines).toHaveLength(3 + SIZING_MEMORIES.length);
    expect(lines[0]).toContain('concurrency 8 (default)');
    expect(lines[2]).toBe(`| Jenkins at 50 ms takes | | ${SIZING_CONCURRENCIES.map((c) => `${c * 20}/s`).join(' | ')} |`);
    const row128 = lines.find((l) => l.startsWith('| 128 MB'))!;
    expect(row128).toContain('**120/s, drain-bound**');
    expect(lines.find((l) => l.startsWith('| 512 MB'))).toContain('(default)');
  });

  it('when writing the block, only the text between the markers changes', () => {
    const readme = `# x\n\n${README_START}\nold\n${README_END}\n\nafter\n`;
    expect(replaceBlock(readme, 'new')).toBe(`# x\n\n${README_START}\nnew\n${README_END}\n\nafter\n`);
    expect(() => replaceBlock('# no markers', 'new')).toThrow(/no <!-- bench:start -->/);
  });
});
