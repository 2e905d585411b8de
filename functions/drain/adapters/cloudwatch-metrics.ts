/**
 * METRICS_SINK=cloudwatch: the per-run metrics through PutMetricData, for an agent whose stdout
 * does not reach CloudWatch Logs with EMF extraction. A failed send is logged and dropped: metrics
 * never fail a run (the heartbeat alarm notices if they keep failing).
 */
import { PutMetricDataCommand, type CloudWatchClient, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import { datumBatches, metricDatums, shouldFlush, type MetricValues } from '../metrics';
import type { ReleaseLog } from '../release';
import { errorMessage } from '../../shared/error-message';

export interface MetricsPublisher {
  publish(values: MetricValues): void;
  /** Sends whatever is held; resolves when done (never rejects). */
  flush(): Promise<void>;
}

export class CloudWatchMetrics implements MetricsPublisher {
  private pending: MetricDatum[] = [];
  private lastFlushAt: number;
  private sending: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: CloudWatchClient,
    private readonly namespace: string,
    private readonly stack: string,
    private readonly log: ReleaseLog,
    private readonly flushEveryMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.lastFlushAt = now();
  }

  publish(values: MetricValues): void {
    this.pending.push(...metricDatums(this.stack, values, this.now()));
    if (shouldFlush(this.pending.length, this.lastFlushAt, this.now(), this.flushEveryMs)) void this.flush();
  }

  flush(): Promise<void> {
    const datums = this.pending.splice(0);
    this.lastFlushAt = this.now();
    // One send at a time, in order.
    this.sending = this.sending.then(() => this.send(datums));
    return this.sending;
  }

  private async send(datums: readonly MetricDatum[]): Promise<void> {
    for (const batch of datumBatches(datums)) {
      try {
        await this.client.send(new PutMetricDataCommand({ Namespace: this.namespace, MetricData: batch }));
      } catch (error) {
        this.log.warn('could not publish metrics to CloudWatch (PutMetricData); the run is not affected', { error: errorMessage(error), datums: batch.length });
      }
    }
  }
}
