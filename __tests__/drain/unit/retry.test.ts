import { backoffMs, totalBackoffMs } from '../../../functions/drain/core/retry';

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
