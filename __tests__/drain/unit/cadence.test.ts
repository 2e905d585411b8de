import { pollerStep, type PollerState } from '../../../functions/drain/core/cadence';

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
