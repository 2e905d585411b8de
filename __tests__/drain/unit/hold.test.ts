import { MAX_VISIBILITY_SECONDS, holdFloorSeconds, holdSeconds, survivalSeconds, visibilityWithinWindow, type HoldPolicy } from '../../../functions/drain/core/hold';

const POLICY: HoldPolicy = { defaultHoldSeconds: 30, minHoldSeconds: 60, maxHoldSeconds: 300 };
const HOUR = 3600;

describe('holdFloorSeconds', () => {
  it('when a message is received for the first time, the floor is the minimum hold', () => {
    expect(holdFloorSeconds(1, POLICY)).toBe(60);
  });

  it('when a message is received again and again, the floor doubles and stops at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 50, 1e9].map((n) => holdFloorSeconds(n, POLICY))).toEqual([60, 120, 240, 300, 300, 300, 300, 300]);
  });

  it('when receive counts grow, the floor never decreases', () => {
    let previous = 0;
    for (let n = 0; n <= 200; n += 1) {
      const floor = holdFloorSeconds(n, POLICY);
      expect(floor).toBeGreaterThanOrEqual(previous);
      previous = floor;
    }
  });
});

describe('holdSeconds', () => {
  it('when Jenkins gives a Retry-After longer than the floor, it is honoured rounded up', () => {
    expect(holdSeconds(120_000, 1, POLICY)).toBe(120);
    expect(holdSeconds(90_001, 1, POLICY)).toBe(91);
  });

  it('when Retry-After is shorter than the floor (Retry-After: 1), the hold is the floor, not a second', () => {
    expect(holdSeconds(1000, 1, POLICY)).toBe(60);
    expect(holdSeconds(1000, 3, POLICY)).toBe(240);
  });

  it('when there is no Retry-After, the default applies, raised to the floor', () => {
    expect(holdSeconds(undefined, 1, POLICY)).toBe(60);
    expect(holdSeconds(undefined, 1, { ...POLICY, defaultHoldSeconds: 90 })).toBe(90);
  });

  it('when Retry-After is beyond SQS\'s 12 hours, it is capped at 43200 seconds', () => {
    expect(holdSeconds(86_400_000, 1, POLICY)).toBe(MAX_VISIBILITY_SECONDS);
  });

  it('when any input is given, the result is a whole number within [1, 43200]', () => {
    for (const ms of [undefined, 0, 1, 999, 1001, 3_600_000, 1e12]) {
      for (const receives of [0, 1, 2, 10, 1000]) {
        const s = holdSeconds(ms, receives, POLICY);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(1);
        expect(s).toBeLessThanOrEqual(MAX_VISIBILITY_SECONDS);
      }
    }
  });
});

describe('visibilityWithinWindow', () => {
  const NOW = Date.UTC(2026, 10, 27, 12);

  it('when the messages were received moments ago, the requested hold is kept in full', () => {
    expect(visibilityWithinWindow(120, [NOW - 2000], NOW)).toBe(120);
    expect(visibilityWithinWindow(43000, [NOW - 2000], NOW)).toBe(43000);
  });

  it('when a run has held a receive for a long time, the hold is shortened to what is left of 12 hours from that receive', () => {
    expect(visibilityWithinWindow(43200, [NOW - 1000 * HOUR * 11], NOW)).toBe(3599);
  });

  it('when the window is used up, the hold is still at least one second, never zero', () => {
    expect(visibilityWithinWindow(30, [NOW - 13 * HOUR * 1000], NOW)).toBe(1);
  });
});

describe('survivalSeconds', () => {
  it('when Jenkins keeps refusing a webhook, the default policy and maxReceiveCount keep it for over eight hours', () => {
    const survived = survivalSeconds(100, POLICY);
    expect(survived).toBe(60 + 120 + 240 + 96 * 300);
    expect(survived).toBeGreaterThan(8 * HOUR);
  });

  it('when a webhook is refused with 503 for two hours, the receives it costs stay well below maxReceiveCount', () => {
    let elapsed = 0;
    let receives = 0;
    while (elapsed < 2 * HOUR) {
      receives += 1;
      elapsed += holdFloorSeconds(receives, POLICY);
    }
    expect(receives).toBeLessThan(100 / 2);
  });
});
