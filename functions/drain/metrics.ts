/**
 * The drain's per-run metrics, two ways: a CloudWatch Embedded Metric Format line on stdout
 * (Lambda extracts it; elsewhere only a log shipper with EMF extraction does), or datums for
 * PutMetricData (adapters/cloudwatch-metrics.ts sends them). Both carry the same names, units and
 * Stack dimension, so the alarms read either. Pure except `publishMetrics`, which writes one line.
 */
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';

export type MetricValues = Record<string, number>;

const UNITS: Record<string, 'Milliseconds' | 'Seconds' | 'Count'> = { RunDurationMs: 'Milliseconds', OldestMessageAgeSeconds: 'Seconds' };
const unitOf = (name: string) => UNITS[name] ?? 'Count';

export function emfRecord(namespace: string, stack: string, values: MetricValues, timestamp = Date.now()): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: namespace,
        Dimensions: [['Stack']],
        Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: unitOf(name) })),
      }],
    },
    Stack: stack,
    ...values,
  };
}

export function publishMetrics(namespace: string, stack: string, values: MetricValues, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  write(JSON.stringify(emfRecord(namespace, stack, values)));
}

/** One run's values as PutMetricData datums, stamped with the run's time (they may be sent later). */
export function metricDatums(stack: string, values: MetricValues, timestamp: number): MetricDatum[] {
  return Object.entries(values).map(([name, value]) => ({
    MetricName: name,
    Unit: unitOf(name),
    Value: value,
    Timestamp: new Date(timestamp),
    Dimensions: [{ Name: 'Stack', Value: stack }],
  }));
}

/** PutMetricData takes at most 1000 datums per request. */
export const MAX_DATUMS_PER_REQUEST = 1000;

export function datumBatches(datums: readonly MetricDatum[], max = MAX_DATUMS_PER_REQUEST): MetricDatum[][] {
  const batches: MetricDatum[][] = [];
  for (let i = 0; i < datums.length; i += max) batches.push(datums.slice(i, i + max));
  return batches;
}

/**
 * Held datums go out once `flushEveryMs` has passed since the last send, or when a request's
 * worth is waiting: a run every 2 s (a closed spigot) must not cost a PutMetricData call each.
 */
export function shouldFlush(pending: number, lastFlushAt: number, now: number, flushEveryMs: number): boolean {
  return pending >= MAX_DATUMS_PER_REQUEST || (pending > 0 && now - lastFlushAt >= flushEveryMs);
}
