import { Broadcast, LatchedSignal } from '../../../functions/drain/signals';

const settled = async (promise: Promise<void>): Promise<boolean> => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('LatchedSignal', () => {
  it('when notified before anyone waits, it lets the next wait through at once, and only that one', async () => {
    const signal = new LatchedSignal();
    signal.notify();
    expect(await settled(signal.wait())).toBe(true);
    expect(await settled(signal.wait())).toBe(false);
  });

  it('when notified while someone waits, it wakes that waiter and latches nothing', async () => {
    const signal = new LatchedSignal();
    const waiting = signal.wait();
    signal.notify();
    expect(await settled(waiting)).toBe(true);
    expect(await settled(signal.wait())).toBe(false);
  });
});

describe('LatchedSignal.waitAtMost', () => {
  it('when nothing notifies in time, it gives up, and a later notify is latched for the next wait', async () => {
    const signal = new LatchedSignal();
    await signal.waitAtMost(5);
    signal.notify();
    expect(await settled(signal.wait())).toBe(true);
  });

  it('when notified before the time is up, it returns at once', async () => {
    const signal = new LatchedSignal();
    const waiting = signal.waitAtMost(60_000);
    signal.notify();
    expect(await settled(waiting)).toBe(true);
  });
});

describe('Broadcast', () => {
  it('when notified, it wakes every current waiter but not later ones', async () => {
    const broadcast = new Broadcast();
    const first = broadcast.wait();
    const second = broadcast.wait();
    broadcast.notifyAll();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(true);
    expect(await settled(broadcast.wait())).toBe(false);
  });
});
