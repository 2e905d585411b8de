import { MAX_VISIBILITY_SECONDS, backoffMs, holdVisibilitySeconds, totalBackoffMs, visibilityWithinWindow } from '../../../functions/drain/core/retry';

describe('backoffMs', () => {
  it('when attempts follow each other, it doubles from 250 ms and caps at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10, 50].map((a) => backoffMs(a))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000, 5000, 5000]);
  });

  it('when the attempt number is zero or negative, it never goes below the base', () => {
    expect(backoffMs(0)).toBe(250);
    expect(backoffMs(-3)).toBe(250);
  });

  it('when the attempt number is huge, it stays at the cap and stays finite', () => {
    expect(backoffMs(2000)).toBe(5000);
  });

  it('when base and cap are given, it uses them', () => {
    expect([1, 2, 3, 4].map((a) => backoffMs(a, 100, 300))).toEqual([100, 200, 300, 300]);
  });

  it('when any attempt is taken, the backoff never decreases as attempts grow', () => {
    for (let a = 1; a < 30; a += 1) expect(backoffMs(a + 1)).toBeGreaterThanOrEqual(backoffMs(a));
  });
});

describe('totalBackoffMs', () => {
  it.each([
    [0, 0],
    [1, 0],
    [2, 250],
    [3, 750],
    [4, 1750],
    [6, 7750],
    [7, 12750],
  ])('when a webhook may be tried %i times, the waits between them add to %i ms', (maxAttempts, total) => {
    expect(totalBackoffMs(maxAttempts)).toBe(total);
  });

  it('when a webhook may be tried n times, the total is the sum of the n-1 waits between attempts', () => {
    for (let n = 1; n <= 10; n += 1) {
      let sum = 0;
      for (let a = 1; a < n; a += 1) sum += backoffMs(a);
      expect(totalBackoffMs(n)).toBe(sum);
    }
  });
});

describe('holdVisibilitySeconds', () => {
  it('when there is no Retry-After, it uses the default hold', () => {
    expect(holdVisibilitySeconds(undefined, 30)).toBe(30);
  });

  it('when Retry-After is given, it uses it rounded up to whole seconds', () => {
    expect(holdVisibilitySeconds(120_000, 30)).toBe(120);
    expect(holdVisibilitySeconds(1_001, 30)).toBe(2);
    expect(holdVisibilitySeconds(2_500, 30)).toBe(3);
  });

  it('when Retry-After is zero or under a second, it still hides the messages for at least one second', () => {
    expect(holdVisibilitySeconds(0, 30)).toBe(1);
    expect(holdVisibilitySeconds(1, 30)).toBe(1);
  });

  it('when the default hold is below one second, it is raised to one', () => {
    expect(holdVisibilitySeconds(undefined, 0)).toBe(1);
    expect(holdVisibilitySeconds(undefined, -5)).toBe(1);
  });

  it('when Retry-After is beyond SQS\'s 12 hours, it is capped at 43200 seconds', () => {
    expect(MAX_VISIBILITY_SECONDS).toBe(43200);
    expect(holdVisibilitySeconds(43_200_000, 30)).toBe(43200);
    expect(holdVisibilitySeconds(86_400_000, 30)).toBe(43200);
    expect(holdVisibilitySeconds(1e23, 30)).toBe(43200);
    expect(holdVisibilitySeconds(undefined, 100_000)).toBe(43200);
  });

  it('when any input is given, the result is a whole number within [1, 43200]', () => {
    for (const ms of [undefined, 0, 1, 999, 1000, 1001, 59_999, 3_600_000, 50_000_000]) {
      for (const def of [0, 1, 30, 43200, 99999]) {
        const s = holdVisibilitySeconds(ms, def);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s).toBeLessThanOrEqual(43200);
      }
    }
  });
});

describe('visibilityWithinWindow', () => {
  const NOW = Date.UTC(2026, 10, 27, 12);
  const HOUR = 3600 * 1000;

  it('when the messages were first received recently, it keeps the requested hold', () => {
    expect(visibilityWithinWindow(3600, [NOW - HOUR, NOW], NOW)).toBe(3600);
  });

  it('when a message is near the end of its 12-hour window, it shortens the hold to what is left', () => {
    expect(visibilityWithinWindow(43200, [NOW - 11 * HOUR], NOW)).toBe(3599);
    expect(visibilityWithinWindow(43200, [NOW - 2 * HOUR, NOW - 11.5 * HOUR], NOW)).toBe(1799);
  });

  it('when the window is used up or unknown, it never goes below zero and treats unknown as now', () => {
    expect(visibilityWithinWindow(30, [NOW - 13 * HOUR], NOW)).toBe(0);
    expect(visibilityWithinWindow(30, [undefined], NOW)).toBe(30);
  });
});
