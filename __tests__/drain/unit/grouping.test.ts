import { compareSequence, groupByRepository, type Sequenced } from '../../../functions/drain/core/grouping';

interface Msg extends Sequenced {
  readonly id: string;
}

const msg = (id: string, groupId: string, sequenceNumber: string): Msg => ({ id, groupId, sequenceNumber });

describe('compareSequence', () => {
  it('when numbers have different lengths, it orders them numerically, not as strings', () => {
    expect(compareSequence('9', '10')).toBeLessThan(0);
    expect(compareSequence('10', '9')).toBeGreaterThan(0);
  });

  it('when numbers are beyond 2^53 and differ by one, it still tells them apart', () => {
    expect(Number('18014398509481985')).toBe(Number('18014398509481984'));
    expect(compareSequence('18014398509481984', '18014398509481985')).toBeLessThan(0);
    expect(compareSequence('18014398509481985', '18014398509481984')).toBeGreaterThan(0);
  });

  it('when numbers are 128-bit sized, it compares them exactly', () => {
    const max = (2n ** 128n - 1n).toString();
    const below = (2n ** 128n - 2n).toString();
    expect(compareSequence(below, max)).toBeLessThan(0);
    expect(compareSequence(max, max)).toBe(0);
  });
});

describe('groupByRepository', () => {
  it('when groups are interleaved, it keeps the order in which each group was first seen', () => {
    const groups = groupByRepository([msg('1', 'b', '1'), msg('2', 'a', '2'), msg('3', 'b', '3'), msg('4', 'c', '4'), msg('5', 'a', '5')]);
    expect([...groups.keys()]).toEqual(['b', 'a', 'c']);
    expect([...groups.values()].map((g) => g.map((m) => m.id))).toEqual([['1', '3'], ['2', '5'], ['4']]);
  });

  it('when a group\'s messages arrive out of order with sequence numbers where string and Number comparison both fail, it sorts them as big integers', () => {
    // 99999999999999999999 sorts after 100000000000000000000 as a string, and all three
    // round to 1e20 as Numbers, so only a BigInt comparison gets a < b < c.
    const a = '99999999999999999999';
    const b = '100000000000000000000';
    const c = '100000000000000000001';
    expect(Number(a)).toBe(Number(b));
    expect(Number(b)).toBe(Number(c));
    expect([c, a, b].sort()).not.toEqual([a, b, c]);
    const groups = groupByRepository([msg('c', 'repo', c), msg('a', 'repo', a), msg('b', 'repo', b)]);
    expect(groups.get('repo')!.map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });

  it('when sequence numbers look like real 20-digit FIFO sequence numbers, each group comes out ascending', () => {
    const base = 18849496460467696128n;
    const input: Msg[] = [];
    const order = [7, 2, 9, 0, 5, 1, 8, 3, 6, 4];
    for (const k of order) input.push(msg(`x${k}`, k % 2 === 0 ? 'even' : 'odd', (base + BigInt(k)).toString()));
    const groups = groupByRepository(input);
    expect([...groups.keys()]).toEqual(['odd', 'even']);
    expect(groups.get('even')!.map((m) => m.id)).toEqual(['x0', 'x2', 'x4', 'x6', 'x8']);
    expect(groups.get('odd')!.map((m) => m.id)).toEqual(['x1', 'x3', 'x5', 'x7', 'x9']);
  });

  it('when messages are grouped, none is lost or duplicated and the input is left untouched', () => {
    const input = [msg('1', 'a', '30'), msg('2', 'b', '20'), msg('3', 'a', '10')];
    const snapshot = input.map((m) => m.id);
    const groups = groupByRepository(input);
    expect([...groups.values()].flat().map((m) => m.id).sort()).toEqual(['1', '2', '3']);
    expect(input.map((m) => m.id)).toEqual(snapshot);
    expect(groups.get('a')!.map((m) => m.id)).toEqual(['3', '1']);
  });

  it('when there are no messages, there are no groups', () => {
    expect(groupByRepository([]).size).toBe(0);
  });
});
