/**
 * METRICS_SINK=cloudwatch: the PutMetricData adapter with a real CloudWatch client against the
 * loopback CloudWatch, which records each request as the JSON protocol carries it.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CloudWatchMetrics } from '../../../functions/drain/adapters/cloudwatch-metrics';
import type { ReleaseLog } from '../../../functions/drain/release';
import { startLoopbackCloudWatch, type LoopbackCloudWatch } from '../../cli/loopback-cloudwatch';

let cloudwatch: LoopbackCloudWatch;
let client: CloudWatchClient;
const warnings: Array<{ message: string; fields?: Record<string, unknown> }> = [];
const log: ReleaseLog = { info: () => {}, error: () => {}, warn: (message, fields) => void warnings.push({ message, fields }) };

beforeAll(async () => {
  cloudwatch = await startLoopbackCloudWatch();
  client = new CloudWatchClient({
    endpoint: cloudwatch.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
});
afterAll(async () => {
  client.destroy();
  await cloudwatch.stop();
});
beforeEach(() => {
  cloudwatch.putMetricData.splice(0);
  cloudwatch.setFailure(null);
  warnings.splice(0);
});

describe('CloudWatch metrics (PutMetricData)', () => {
  it('when runs are published, the held datums go out in one request in the namespace, with the run\'s time, unit and Stack', async () => {
    let now = 1_700_000_000_000;
    const metrics = new CloudWatchMetrics(client, 'Spigot', 'prod', log, 60_000, () => now);
    metrics.publish({ Runs: 1, RunErrors: 0, RunDurationMs: 250 });
    now += 2000;
    metrics.publish({ Runs: 1, RunErrors: 1 });
    expect(cloudwatch.putMetricData).toEqual([]);
    await metrics.flush();
    expect(cloudwatch.putMetricData).toHaveLength(1);
    const [call] = cloudwatch.putMetricData;
    expect(call.namespace).toBe('Spigot');
    expect(call.datums.map((d) => [d.MetricName, d.Value, d.Unit, d.Timestamp])).toEqual([
      ['Runs', 1, 'Count', 1_700_000_000],
      ['RunErrors', 0, 'Count', 1_700_000_000],
      ['RunDurationMs', 250, 'Milliseconds', 1_700_000_000],
      ['Runs', 1, 'Count', 1_700_000_002],
      ['RunErrors', 1, 'Count', 1_700_000_002],
    ]);
    for (const datum of call.datums) expect(datum.Dimensions).toEqual([{ Name: 'Stack', Value: 'prod' }]);
    expect(warnings).toEqual([]);
  });

  it('when the flush interval has passed, publishing a run sends everything held without waiting for close', async () => {
    let now = 0;
    const metrics = new CloudWatchMetrics(client, 'Spigot', 'prod', log, 60_000, () => now);
    metrics.publish({ Runs: 1 });
    now = 60_000;
    metrics.publish({ Runs: 1 });
    await metrics.flush();
    expect(cloudwatch.putMetricData.map((c) => c.datums.length)).toEqual([2]);
  });

  it('when CloudWatch refuses, it logs a warning naming the call and resolves: the run is not failed and nothing throws', async () => {
    cloudwatch.setFailure('denied');
    const metrics = new CloudWatchMetrics(client, 'Spigot', 'prod', log, 0);
    metrics.publish({ Runs: 1, RunErrors: 0 });
    await expect(metrics.flush()).resolves.toBeUndefined();
    expect(cloudwatch.putMetricData).toHaveLength(1);
    expect(warnings).toEqual([{ message: expect.stringContaining('PutMetricData'), fields: { error: expect.stringContaining('not authorized'), datums: 2 } }]);
  });

  it('when nothing was published, flushing sends no request', async () => {
    await new CloudWatchMetrics(client, 'Spigot', 'prod', log, 0).flush();
    expect(cloudwatch.putMetricData).toEqual([]);
  });
});
