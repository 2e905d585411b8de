import { RateLimiter } from '../../../functions/drain/core/rate-limiter';

function fakeTime() {
  const state = { now: 1_000_000, sleeps: [] as number[] };
  return {
    state,
    now: () => state.now,
    /** Sleeps advance the fake clock, as real time would. */
    sleep: async (ms: number) => {
      state.sleeps.push(ms);
      state.now += ms;
    },
  };
}

describe('RateLimiter', () => {
  it('when takes follow each other at 4 per second, they are released 250 ms apart', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(4, time.now, time.sleep);
    const releasedAt: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      await limiter.take();
      releasedAt.push(time.state.now);
    }
    const start = releasedAt[0];
    expect(releasedAt.map((t) => t - start)).toEqual([0, 250, 500, 750, 1000]);
    expect(time.state.sleeps).toEqual([250, 250, 250, 250]);
  });

  it('when the first take happens, it does not sleep', async () => {
    const time = fakeTime();
    await new RateLimiter(10, time.now, time.sleep).take();
    expect(time.state.sleeps).toEqual([]);
  });

  it('when enough time has passed since the last take, the next one does not sleep', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(2, time.now, time.sleep);
    await limiter.take();
    time.state.now += 600;
    await limiter.take();
    expect(time.state.sleeps).toEqual([]);
  });

  it('when only part of the spacing has passed, it sleeps for the rest', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(2, time.now, time.sleep);
    await limiter.take();
    time.state.now += 200;
    await limiter.take();
    expect(time.state.sleeps).toEqual([300]);
  });

  it('when several callers take at the same instant, each gets its own slot 1000/rate ms after the previous', async () => {
    const state = { now: 5000, sleeps: [] as number[] };
    // A clock that does not move while the callers wait: every take is computed at t=5000.
    const limiter = new RateLimiter(5, () => state.now, async (ms) => {
      state.sleeps.push(ms);
    });
    await Promise.all([limiter.take(), limiter.take(), limiter.take(), limiter.take()]);
    expect(state.sleeps).toEqual([200, 400, 600]);
  });

  it('when the rate is one per second, takes are a second apart', async () => {
    const time = fakeTime();
    const limiter = new RateLimiter(1, time.now, time.sleep);
    await limiter.take();
    await limiter.take();
    await limiter.take();
    expect(time.state.sleeps).toEqual([1000, 1000]);
  });
});
