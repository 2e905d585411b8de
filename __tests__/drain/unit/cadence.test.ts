import { MAX_RECEIVES_AT_ONCE, pollerStep, receivesToSend, type FanOutState, type PollerState } from '../../../functions/drain/core/cadence';

const state = (over: Partial<PollerState>): PollerState => ({ concurrency: 8, inHand: 0, lastReceiveShort: false, unlockedSinceReceive: false, ...over });

describe('pollerStep', () => {
  it('when as many batches are in hand as there are workers, it waits, whatever the last receive did', () => {
    for (const lastReceiveShort of [false, true]) {
      for (const unlockedSinceReceive of [false, true]) {
        expect(pollerStep(state({ inHand: 8, lastReceiveShort, unlockedSinceReceive }))).toBe('wait');
        expect(pollerStep(state({ inHand: 11, lastReceiveShort, unlockedSinceReceive }))).toBe('wait');
      }
    }
  });

  it('when fewer batches are in hand than workers and the last receive came back full, it receives ahead', () => {
    for (let inHand = 0; inHand < 8; inHand += 1) expect(pollerStep(state({ inHand }))).toBe('receive');
  });

  it('when the last receive came back short and no delete has landed since, it waits while a batch is in hand', () => {
    for (let inHand = 1; inHand < 8; inHand += 1) expect(pollerStep(state({ inHand, lastReceiveShort: true }))).toBe('wait');
  });

  it('when a delete has landed since a short receive, it receives again (the deleted repositories may have a next webhook)', () => {
    expect(pollerStep(state({ inHand: 3, lastReceiveShort: true, unlockedSinceReceive: true }))).toBe('receive');
  });

  it('when nothing is in hand, it receives even right after a short receive: a worker may be idle, and new webhooks may have come', () => {
    expect(pollerStep(state({ inHand: 0, lastReceiveShort: true }))).toBe('receive');
  });

  it('when the concurrency is one, it never holds more than one batch in hand', () => {
    expect(pollerStep(state({ concurrency: 1, inHand: 1 }))).toBe('wait');
    expect(pollerStep(state({ concurrency: 1, inHand: 0, lastReceiveShort: true }))).toBe('receive');
  });
});

const fanOut = (over: Partial<FanOutState>): FanOutState => ({
  concurrency: 8, busyWorkers: 1, inHand: 0, lastReceiveFull: true, repositoriesPerReceive: 1, rampUpOver: false, longPoll: false, ...over,
});

describe('receivesToSend', () => {
  it('when a full receive of one repository showed a backlog in the ramp-up, it sends one receive per worker idle with nothing to take', () => {
    expect(receivesToSend(fanOut({ busyWorkers: 1, inHand: 0 }))).toBe(7);
    expect(receivesToSend(fanOut({ busyWorkers: 3, inHand: 2 }))).toBe(3);
  });

  it('when a receive hands out several repositories, it sends only as many as the idle workers need', () => {
    expect(receivesToSend(fanOut({ busyWorkers: 1, repositoriesPerReceive: 3 }))).toBe(3);
    expect(receivesToSend(fanOut({ busyWorkers: 1, repositoriesPerReceive: 10 }))).toBe(1);
  });

  it('when the ramp-up is over (the cap was reached, or receives sent together came back short), it sends one', () => {
    expect(receivesToSend(fanOut({ rampUpOver: true, busyWorkers: 0 }))).toBe(1);
  });

  it('when the last receive came back short, it sends one: the queue is running out of free repositories', () => {
    expect(receivesToSend(fanOut({ lastReceiveFull: false }))).toBe(1);
  });

  it('when the receive long-polls, it sends one: the queue looked empty and one call waits for what comes', () => {
    expect(receivesToSend(fanOut({ longPoll: true }))).toBe(1);
  });

  it('when every worker is busy or has a batch waiting, it sends one', () => {
    expect(receivesToSend(fanOut({ busyWorkers: 8 }))).toBe(1);
    expect(receivesToSend(fanOut({ busyWorkers: 4, inHand: 4 }))).toBe(1);
    expect(receivesToSend(fanOut({ busyWorkers: 4, inHand: 9 }))).toBe(1);
  });

  it('when the concurrency is large, it never sends more than the limit at once', () => {
    expect(receivesToSend(fanOut({ concurrency: 64, busyWorkers: 0 }))).toBe(MAX_RECEIVES_AT_ONCE);
  });
});
