/**
 * CloudWatch Embedded Metric Format: one JSON log line per run that CloudWatch turns into
 * metrics, so the drain never calls PutMetricData.
 */
export type MetricValues = Record<string, number>;

const UNITS: Record<string, string> = { RunDurationMs: 'Milliseconds', OldestMessageAgeSeconds: 'Seconds' };

export function emfRecord(namespace: string, stack: string, values: MetricValues, timestamp = Date.now()): Record<string, unknown> {
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [{
        Namespace: namespace,
        Dimensions: [['Stack']],
        Metrics: Object.keys(values).map((name) => ({ Name: name, Unit: UNITS[name] ?? 'Count' })),
      }],
    },
    Stack: stack,
    ...values,
  };
}

export function publishMetrics(namespace: string, stack: string, values: MetricValues, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
  write(JSON.stringify(emfRecord(namespace, stack, values)));
}
