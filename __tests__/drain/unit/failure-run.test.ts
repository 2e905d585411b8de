import { FailureRun } from '../../../functions/drain/core/failure-run';
import type { Outcome } from '../../../functions/drain/core/outcome';

const transient = (reason = 'Jenkins answered 502'): Outcome => ({ kind: 'transient', reason, status: 502 });
const busy = (status = 503): Outcome => ({ kind: 'busy', status });
const delivered: Outcome = { kind: 'delivered', status: 200 };
const poison: Outcome = { kind: 'poison', status: 404, reason: 'Jenkins answered 404' };

function feed(run: FailureRun, outcomes: Outcome[]): Array<string | undefined> {
  return outcomes.map((o) => run.record(o));
}

describe('FailureRun', () => {
  it('when N consecutive hard failures happen, the Nth asks to close and names the count and last reason', () => {
    const run = new FailureRun(3);
    const results = feed(run, [transient('a'), transient('b'), transient('ECONNREFUSED: connect')]);
    expect(results.slice(0, 2)).toEqual([undefined, undefined]);
    expect(results[2]).toContain('3 consecutive');
    expect(results[2]).toContain('ECONNREFUSED: connect');
  });

  it('when the threshold is one, the first hard failure asks to close', () => {
    expect(new FailureRun(1).record(transient())).toBeDefined();
  });

  it('when hard failures continue past the threshold, every further one still asks to close', () => {
    const run = new FailureRun(2);
    const results = feed(run, [transient(), transient(), transient(), transient()]);
    expect(results.map((r) => r !== undefined)).toEqual([false, true, true, true]);
  });

  it.each([
    ['delivered', delivered],
    ['poison', poison],
  ])('when a %s answer comes between hard failures, the run starts again', (_name, reset) => {
    const run = new FailureRun(3);
    const results = feed(run, [transient(), transient(), reset, transient(), transient()]);
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(run.record(transient())).toContain('3 consecutive');
  });

  it('when busy answers come in a row, it takes 4N of them to ask to close', () => {
    const run = new FailureRun(3);
    const results = feed(run, Array.from({ length: 12 }, () => busy(429)));
    expect(results.slice(0, 11).every((r) => r === undefined)).toBe(true);
    expect(results[11]).toContain('12 consecutive busy');
    expect(results[11]).toContain('429');
  });

  it.each([
    ['delivered', delivered],
    ['poison', poison],
  ])('when a %s answer comes between busy answers, the busy run starts again', (_name, reset) => {
    const run = new FailureRun(2);
    const results = feed(run, [...Array.from({ length: 7 }, () => busy()), reset, ...Array.from({ length: 7 }, () => busy())]);
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(run.record(busy())).toBeDefined();
  });

  it('when busy answers are fewer than 4N, they do not close even if they outnumber N', () => {
    const run = new FailureRun(5);
    expect(feed(run, Array.from({ length: 19 }, () => busy())).every((r) => r === undefined)).toBe(true);
  });

  it('when busy answers are mixed with fewer than N hard failures, the hard failures alone do not close', () => {
    const run = new FailureRun(3);
    expect(feed(run, [transient(), busy(), transient(), busy()]).every((r) => r === undefined)).toBe(true);
  });
});
