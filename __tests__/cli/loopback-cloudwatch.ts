/**
 * A loopback CloudWatch answering GetMetricData only, enough for `spigot status` (AWS_ENDPOINT_URL_CLOUDWATCH).
 *
 * Wire shapes (checked against @aws-sdk/client-cloudwatch@3.1164.0 dist-cjs: AwsJson1_0Protocol with
 * serviceTarget GraniteServiceVersion20100801 and awsQueryCompatible):
 * - request: `POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`,
 *   `Content-Type: application/x-amz-json-1.0`, `x-amzn-query-mode: true`, JSON body with the input members by
 *   name; StartTime/EndTime are epoch seconds (JSON numbers). SigV4 is not checked.
 * - success: 200, JSON `{MetricDataResults: [{Id, Label, Timestamps: [epoch seconds], Values, StatusCode}], Messages}`.
 * - error: 4xx/5xx, body `{"__type": "<Code>", "message": "..."}` plus `x-amzn-query-error: <Code>;Sender`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { loopback } from '../support/loopback-server';

export interface Datapoint {
  readonly at: Date;
  readonly value: number;
}

export interface MetricQuery {
  readonly namespace: string | undefined;
  readonly metricName: string | undefined;
  readonly dimensions: Array<{ Name?: string; Value?: string }>;
  readonly stat: string | undefined;
  readonly period: number | undefined;
  readonly startTime: Date;
  readonly endTime: Date;
}

/** `denied`: 400 AccessDenied (not retried); `unavailable`: 500 InternalServiceFault (retried). */
export type CloudWatchFailure = 'denied' | 'unavailable';

export interface LoopbackCloudWatch {
  readonly endpoint: string;
  /** Every GetMetricData query received, in order. */
  readonly queries: MetricQuery[];
  /** Datapoints of AWS/SQS ApproximateAgeOfOldestMessage per QueueName (answered within the asked window). */
  setOldestAge(queueName: string, datapoints: readonly Datapoint[]): void;
  setFailure(failure: CloudWatchFailure | null): void;
  stop(): Promise<void>;
}

export async function startLoopbackCloudWatch(): Promise<LoopbackCloudWatch> {
  const series = new Map<string, readonly Datapoint[]>();
  const queries: MetricQuery[] = [];
  let failure: CloudWatchFailure | null = null;

  const replyError = (res: ServerResponse, status: number, code: string, message: string): void => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${code};Sender` });
    res.end(JSON.stringify({ __type: code, message }));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== 'GraniteServiceVersion20100801.GetMetricData') {
        replyError(res, 400, 'InvalidAction', `loopback CloudWatch does not implement ${target}`);
        return;
      }
      if (failure === 'denied') {
        replyError(res, 403, 'AccessDenied', 'User: arn:aws:iam::123456789012:user/test is not authorized to perform: cloudwatch:GetMetricData');
        return;
      }
      if (failure === 'unavailable') {
        replyError(res, 500, 'InternalServiceFault', 'internal failure');
        return;
      }
      const input = JSON.parse(text) as {
        StartTime: number;
        EndTime: number;
        MetricDataQueries: Array<{ Id: string; MetricStat?: { Metric?: { Namespace?: string; MetricName?: string; Dimensions?: Array<{ Name?: string; Value?: string }> }; Period?: number; Stat?: string } }>;
      };
      const startTime = new Date(input.StartTime * 1000);
      const endTime = new Date(input.EndTime * 1000);
      const results = input.MetricDataQueries.map((q) => {
        const metric = q.MetricStat?.Metric;
        const query: MetricQuery = {
          namespace: metric?.Namespace,
          metricName: metric?.MetricName,
          dimensions: metric?.Dimensions ?? [],
          stat: q.MetricStat?.Stat,
          period: q.MetricStat?.Period,
          startTime,
          endTime,
        };
        queries.push(query);
        const queueName = query.dimensions.find((d) => d.Name === 'QueueName')?.Value;
        const points =
          query.namespace === 'AWS/SQS' && query.metricName === 'ApproximateAgeOfOldestMessage' && queueName !== undefined
            ? (series.get(queueName) ?? []).filter((p) => p.at >= startTime && p.at <= endTime).sort((a, b) => b.at.getTime() - a.at.getTime())
            : [];
        return {
          Id: q.Id,
          Label: query.metricName,
          Timestamps: points.map((p) => p.at.getTime() / 1000),
          Values: points.map((p) => p.value),
          StatusCode: 'Complete',
        };
      });
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ MetricDataResults: results, Messages: [] }));
    });
  });
  const listener = loopback(server);
  const port = await listener.listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    queries,
    setOldestAge: (queueName, datapoints) => void series.set(queueName, [...datapoints]),
    setFailure: (next) => void (failure = next),
    stop: () => listener.close(),
  };
}
