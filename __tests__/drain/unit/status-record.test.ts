import { STATUS_REWRITE_MS, statusWorthWriting } from '../../../functions/drain/core/status-record';

const record = (over: Record<string, unknown> = {}) => ({ at: '2026-12-01T00:00:00.000Z', trigger: 'schedule', spigot: 'closed', action: 'held (spigot closed)', released: 0, durationMs: 12, ...over });

describe('statusWorthWriting', () => {
  it('when nothing was written yet, it writes', () => {
    expect(statusWorthWriting(undefined, record(), 0)).toBe(true);
  });

  it('when the new record differs only in its time, trigger and duration, it waits until the last write is a minute old', () => {
    const previous = { record: record(), at: 1000 };
    const same = record({ at: '2026-12-01T00:00:02.000Z', trigger: 'manual', durationMs: 40 });
    expect(statusWorthWriting(previous, same, 1000 + 2000)).toBe(false);
    expect(statusWorthWriting(previous, same, 1000 + STATUS_REWRITE_MS - 1)).toBe(false);
    expect(statusWorthWriting(previous, same, 1000 + STATUS_REWRITE_MS)).toBe(true);
  });

  it('when the record says something new (the spigot, the action, a count, a field that comes or goes), it writes at once', () => {
    const previous = { record: record(), at: 1000 };
    for (const next of [record({ spigot: 'open' }), record({ action: 'released' }), record({ released: 3 }), record({ reason: 'probe failed' })]) {
      expect(statusWorthWriting(previous, next, 1001)).toBe(true);
    }
  });
});
