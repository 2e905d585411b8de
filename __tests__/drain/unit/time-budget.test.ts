import { totalBackoffMs } from '../../../functions/drain/core/retry';
import { TimeBudget, type TimeBudgetOptions } from '../../../functions/drain/core/time-budget';

/** A clock and a Lambda deadline the test moves by hand. */
function fakeLambda(startedAt: number, deadline: number) {
  const state = { now: startedAt, deadline };
  return {
    state,
    now: () => state.now,
    remainingMs: () => state.deadline - state.now,
  };
}

// One webhook may take 3 x 2000 ms of timeouts plus 250 + 500 ms of backoff = 6750 ms;
// with the default 3000 ms finish margin a send needs more than 9750 ms left.
const OPTIONS: TimeBudgetOptions = { startedAt: 1_000_000, maxRunMs: 10_000, httpTimeoutMs: 2000, maxAttempts: 3, totalBackoffMs: totalBackoffMs(3) };
const NEEDED = 2000 * 3 + 750 + 3000;

describe('TimeBudget', () => {
  it('when more than a whole webhook\'s attempts plus the margin remain, it allows sending', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + NEEDED + 1);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).canSend()).toBe(true);
  });

  it('when exactly a whole webhook\'s attempts plus the margin remain, it stops sending', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + NEEDED);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).canSend()).toBe(false);
  });

  it('when the deadline approaches, it stops receiving once a whole webhook\'s attempts would not fit', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + 60_000);
    const budget = new TimeBudget({ ...OPTIONS, maxRunMs: 600_000 }, lambda.remainingMs, lambda.now);
    expect(budget.canReceive()).toBe(true);
    lambda.state.now = lambda.state.deadline - NEEDED - 1;
    expect(budget.canReceive()).toBe(true);
    lambda.state.now = lambda.state.deadline - NEEDED;
    expect(budget.canReceive()).toBe(false);
    expect(budget.canSend()).toBe(false);
  });

  it('when the run has lasted maxRunMs, it stops receiving even though sending is still safe', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + 900_000);
    const budget = new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now);
    lambda.state.now = OPTIONS.startedAt + OPTIONS.maxRunMs - 1;
    expect(budget.canReceive()).toBe(true);
    lambda.state.now = OPTIONS.startedAt + OPTIONS.maxRunMs;
    expect(budget.canReceive()).toBe(false);
    expect(budget.canSend()).toBe(true);
  });

  it('when a finish margin is given, it replaces the 3000 ms default', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + 6750 + 500 + 1);
    expect(new TimeBudget({ ...OPTIONS, finishMarginMs: 500 }, lambda.remainingMs, lambda.now).canSend()).toBe(true);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).canSend()).toBe(false);
  });

  it('when more attempts or a longer timeout are configured, the per-webhook reservation grows accordingly', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + 22_000);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).canSend()).toBe(true);
    // 5 x 3000 + (250 + 500 + 1000 + 2000) + 3000 = 21750 < 22000
    expect(new TimeBudget({ ...OPTIONS, httpTimeoutMs: 3000, maxAttempts: 5, totalBackoffMs: totalBackoffMs(5) }, lambda.remainingMs, lambda.now).canSend()).toBe(true);
    // 5 x 3100 + 3750 + 3000 = 22250 > 22000
    expect(new TimeBudget({ ...OPTIONS, httpTimeoutMs: 3100, maxAttempts: 5, totalBackoffMs: totalBackoffMs(5) }, lambda.remainingMs, lambda.now).canSend()).toBe(false);
  });

  it('when the run limit is nearer than the deadline, the receive window is what is left of the run, in whole seconds', () => {
    const lambda = fakeLambda(OPTIONS.startedAt + 2500, OPTIONS.startedAt + 900_000);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).receiveWindowSeconds()).toBe(7);
  });

  it('when the deadline is nearer than the run limit, the receive window is what is left after reserving one webhook and the margin', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + NEEDED + 4_999);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).receiveWindowSeconds()).toBe(4);
  });

  it('when the run is over or the deadline has passed, the receive window is zero, never negative', () => {
    const lambda = fakeLambda(OPTIONS.startedAt + 50_000, OPTIONS.startedAt + 900_000);
    expect(new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now).receiveWindowSeconds()).toBe(0);
    const late = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + 100);
    expect(new TimeBudget(OPTIONS, late.remainingMs, late.now).receiveWindowSeconds()).toBe(0);
  });

  it('when the clock moves, every answer follows the injected clock and remaining time rather than the real ones', () => {
    const lambda = fakeLambda(OPTIONS.startedAt, OPTIONS.startedAt + 30_000);
    const budget = new TimeBudget(OPTIONS, lambda.remainingMs, lambda.now);
    const seen: Array<[boolean, boolean, number]> = [];
    for (const t of [0, 4000, 9999, 10_000, 20_249, 20_250, 29_000]) {
      lambda.state.now = OPTIONS.startedAt + t;
      seen.push([budget.canReceive(), budget.canSend(), budget.receiveWindowSeconds()]);
    }
    expect(seen).toEqual([
      [true, true, 10],
      [true, true, 6],
      [true, true, 0],
      [false, true, 0],
      [false, true, 0],
      [false, false, 0],
      [false, false, 0],
    ]);
  });
});
