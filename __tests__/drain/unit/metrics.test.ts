import { emfRecord, publishMetrics } from '../../../functions/drain/metrics';

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
