import { datumBatches, emfRecord, MAX_DATUMS_PER_REQUEST, metricDatums, publishMetrics, shouldFlush } from '../../../functions/drain/metrics';

type Emf = {
  _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> };
  [key: string]: unknown;
};

const VALUES = { Released: 3, Held: 0, DeadLettered: 1, OldestMessageAgeSeconds: 42, RunDurationMs: 1234, SqsCalls: 7 };

describe('emfRecord', () => {
  const record = emfRecord('Spigot', 'prod', VALUES, 1_700_000_000_000) as Emf;

  it('when a record is built, it carries the timestamp and one metric directive in the namespace', () => {
    expect(record._aws.Timestamp).toBe(1_700_000_000_000);
    expect(record._aws.CloudWatchMetrics).toHaveLength(1);
    expect(record._aws.CloudWatchMetrics[0].Namespace).toBe('Spigot');
  });

  it('when a record is built, its only dimension is Stack and the Stack value is at top level', () => {
    expect(record._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Stack']]);
    expect(record.Stack).toBe('prod');
  });

  it('when a record is built, every value is declared as a metric with a unit, and only those', () => {
    const metrics = record._aws.CloudWatchMetrics[0].Metrics;
    expect(metrics.map((m) => m.Name).sort()).toEqual(Object.keys(VALUES).sort());
    for (const metric of metrics) expect(typeof metric.Unit).toBe('string');
    for (const metric of metrics) expect(metric.Unit.length).toBeGreaterThan(0);
  });

  it('when durations and ages are reported, they use Milliseconds and Seconds; the rest are counts', () => {
    const units = Object.fromEntries(record._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit]));
    expect(units).toEqual({
      Released: 'Count', Held: 'Count', DeadLettered: 'Count', SqsCalls: 'Count',
      OldestMessageAgeSeconds: 'Seconds', RunDurationMs: 'Milliseconds',
    });
  });

  it('when a record is built, every metric value sits at the top level as a number', () => {
    for (const [name, value] of Object.entries(VALUES)) expect(record[name]).toBe(value);
  });

  it('when no timestamp is given, it uses the current time', () => {
    const before = Date.now();
    const fresh = emfRecord('Spigot', 'prod', {}) as Emf;
    expect(fresh._aws.Timestamp).toBeGreaterThanOrEqual(before);
    expect(fresh._aws.Timestamp).toBeLessThanOrEqual(Date.now());
    expect(fresh._aws.CloudWatchMetrics[0].Metrics).toEqual([]);
  });
});

describe('publishMetrics', () => {
  it('when metrics are published, exactly one JSON line with the EMF record is written', () => {
    const lines: string[] = [];
    publishMetrics('Spigot', 'prod', { Released: 2 }, (line) => lines.push(line));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const parsed = JSON.parse(lines[0]) as Emf;
    expect(parsed.Stack).toBe('prod');
    expect(parsed.Released).toBe(2);
    expect(parsed._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'Released', Unit: 'Count' }]);
  });
});

describe('metricDatums', () => {
  const datums = metricDatums('prod', VALUES, 1_700_000_000_000);

  it('when a run is turned into datums, each value becomes one datum with the EMF record\'s name, unit and Stack dimension', () => {
    const emf = emfRecord('Spigot', 'prod', VALUES) as Emf;
    const emfUnits = Object.fromEntries(emf._aws.CloudWatchMetrics[0].Metrics.map((m) => [m.Name, m.Unit]));
    expect(datums.map((d) => [d.MetricName, d.Unit, d.Value])).toEqual(Object.entries(VALUES).map(([name, value]) => [name, emfUnits[name], value]));
    for (const datum of datums) expect(datum.Dimensions).toEqual([{ Name: 'Stack', Value: 'prod' }]);
  });

  it('when datums are built, they carry the run\'s time, not the time they are sent', () => {
    for (const datum of datums) expect(datum.Timestamp).toEqual(new Date(1_700_000_000_000));
  });
});

describe('datumBatches', () => {
  const many = (n: number) => Array.from({ length: n }, (_, i) => ({ MetricName: `M${i}`, Value: i }));

  it('when there are more datums than one request takes, it splits them in order into requests of at most 1000', () => {
    const batches = datumBatches(many(2500));
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(batches.flat().map((d) => d.MetricName)).toEqual(many(2500).map((d) => d.MetricName));
  });

  it('when there are no datums, it makes no request', () => {
    expect(datumBatches([])).toEqual([]);
  });
});

describe('shouldFlush', () => {
  it('when the flush interval has passed since the last send and datums wait, it flushes', () => {
    expect(shouldFlush(14, 0, 60_000, 60_000)).toBe(true);
    expect(shouldFlush(14, 0, 59_999, 60_000)).toBe(false);
  });

  it('when a full request is waiting, it flushes before the interval', () => {
    expect(shouldFlush(MAX_DATUMS_PER_REQUEST, 0, 1, 60_000)).toBe(true);
  });

  it('when nothing waits, it never flushes; with interval 0, it flushes every run', () => {
    expect(shouldFlush(0, 0, 1_000_000, 60_000)).toBe(false);
    expect(shouldFlush(1, 5, 5, 0)).toBe(true);
  });
});
