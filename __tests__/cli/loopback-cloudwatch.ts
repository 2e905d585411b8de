/**
 * A loopback CloudWatch answering GetMetricData, enough for `spigot status` (AWS_ENDPOINT_URL_CLOUDWATCH),
 * and CloudWatch Logs' FilterLogEvents, enough for `spigot trace` (AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, same server).
 *
 * Wire shapes (checked against @aws-sdk/client-cloudwatch@3.1164.0 dist-cjs: AwsJson1_0Protocol with
 * serviceTarget GraniteServiceVersion20100801 and awsQueryCompatible):
 * - request: `POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`,
 *   `Content-Type: application/x-amz-json-1.0`, `x-amzn-query-mode: true`, JSON body with the input members by
 *   name; StartTime/EndTime are epoch seconds (JSON numbers). SigV4 is not checked.
 * - success: 200, JSON `{MetricDataResults: [{Id, Label, Timestamps: [epoch seconds], Values, StatusCode}], Messages}`.
 * - error: 4xx/5xx, body `{"__type": "<Code>", "message": "..."}` plus `x-amzn-query-error: <Code>;Sender`.
 * - PutMetricData (the drain's METRICS_SINK=cloudwatch): the same protocol, target
 *   `GraniteServiceVersion20100801.PutMetricData`, JSON `{Namespace, MetricData: [{MetricName, Dimensions, Timestamp
 *   (epoch seconds), Value, Unit}]}`; answered 200 `{}`, and recorded.
 *
 * CloudWatch Logs (@aws-sdk/client-cloudwatch-logs@3.1169.0: AwsJson1_1Protocol, serviceTarget Logs_20140328):
 * - request: `POST /`, `X-Amz-Target: Logs_20140328.FilterLogEvents`, `Content-Type: application/x-amz-json-1.1`,
 *   JSON `{logGroupName, startTime, endTime (epoch ms), filterPattern, nextToken, limit}`.
 * - success: `{events: [{logStreamName, timestamp, message, ingestionTime, eventId}], nextToken?}`, pages of
 *   `pageSize` events (small, so paging is exercised).
 * - filter patterns: the JSON form only, `{ $.a = "x" }` and `{ ($.a = "x") || ($.b = "y") }`, as `spigot trace`
 *   writes them; anything else is answered 400 InvalidParameterException, as CloudWatch does for bad syntax.
 * - error: `{"__type": "ResourceNotFoundException", "message": ...}` for an unknown log group.
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

export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
  readonly logStreamName?: string;
}

export interface LogsQuery {
  readonly logGroupName: string;
  readonly startTime?: number;
  readonly endTime?: number;
  readonly filterPattern?: string;
}

/** One PutMetricData request as received. */
export interface PutMetricDataCall {
  readonly namespace: string;
  readonly datums: ReadonlyArray<{ MetricName: string; Value: number; Unit?: string; Timestamp?: number; Dimensions?: Array<{ Name: string; Value: string }> }>;
}

export interface LoopbackCloudWatch {
  readonly endpoint: string;
  /** Every PutMetricData request, in order (also the failed ones). */
  readonly putMetricData: PutMetricDataCall[];
  /** Every FilterLogEvents call (one per page), in order. */
  readonly logQueries: LogsQuery[];
  /** Appends events to a log group (creating it). */
  putLogEvents(logGroupName: string, events: readonly LogEvent[]): void;
  /** Fails FilterLogEvents until cleared. */
  setLogsFailure(failure: CloudWatchFailure | null): void;
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
  const putMetricData: PutMetricDataCall[] = [];
  let failure: CloudWatchFailure | null = null;

  const logGroups = new Map<string, LogEvent[]>();
  const logQueries: LogsQuery[] = [];
  let logsFailure: CloudWatchFailure | null = null;
  const pageSize = 3;

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
      if (req.method === 'POST' && target === 'Logs_20140328.FilterLogEvents') {
        filterLogEvents(res, JSON.parse(text) as LogsQuery & { nextToken?: string });
        return;
      }
      const action = /^GraniteServiceVersion20100801\.(GetMetricData|PutMetricData)$/.exec(target)?.[1];
      if (req.method !== 'POST' || action === undefined) {
        replyError(res, 400, 'InvalidAction', `loopback CloudWatch does not implement ${target}`);
        return;
      }
      if (action === 'PutMetricData') {
        const input = JSON.parse(text) as { Namespace: string; MetricData: PutMetricDataCall['datums'] };
        putMetricData.push({ namespace: input.Namespace, datums: input.MetricData });
      }
      if (failure === 'denied') {
        replyError(res, 403, 'AccessDenied', `User: arn:aws:iam::123456789012:user/test is not authorized to perform: cloudwatch:${action}`);
        return;
      }
      if (failure === 'unavailable') {
        replyError(res, 500, 'InternalServiceFault', 'internal failure');
        return;
      }
      if (action === 'PutMetricData') {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end('{}');
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
  /** `{ $.a = "x" }` or `{ ($.a = "x") || ($.b = "y") }` as a predicate on a JSON message; undefined when not that syntax. */
  const jsonFilter = (pattern: string): ((message: string) => boolean) | undefined => {
    const body = /^\{\s*(.*?)\s*\}$/.exec(pattern.trim())?.[1];
    if (body === undefined) return undefined;
    const terms = body.split('||').map((term) => /^\(?\s*\$\.([A-Za-z0-9_]+)\s*=\s*"([^"]*)"\s*\)?$/.exec(term.trim()));
    if (terms.some((t) => t === null)) return undefined;
    return (message) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(message) as Record<string, unknown>;
      } catch {
        return false;
      }
      return terms.some((t) => String(parsed[t![1]!]) === t![2] && parsed[t![1]!] !== undefined);
    };
  };

  const filterLogEvents = (res: ServerResponse, input: LogsQuery & { nextToken?: string }): void => {
    logQueries.push({ logGroupName: input.logGroupName, startTime: input.startTime, endTime: input.endTime, filterPattern: input.filterPattern });
    if (logsFailure === 'denied') {
      replyError(res, 400, 'AccessDeniedException', 'User: arn:aws:iam::123456789012:user/test is not authorized to perform: logs:FilterLogEvents');
      return;
    }
    if (logsFailure === 'unavailable') {
      replyError(res, 500, 'ServiceUnavailableException', 'internal failure');
      return;
    }
    const events = logGroups.get(input.logGroupName);
    if (events === undefined) {
      replyError(res, 400, 'ResourceNotFoundException', 'The specified log group does not exist.');
      return;
    }
    const matches = input.filterPattern ? jsonFilter(input.filterPattern) : () => true;
    if (matches === undefined) {
      replyError(res, 400, 'InvalidParameterException', 'Invalid filter pattern');
      return;
    }
    const selected = events
      .filter((e) => (input.startTime === undefined || e.timestamp >= input.startTime) && (input.endTime === undefined || e.timestamp <= input.endTime))
      .filter((e) => matches(e.message))
      .sort((a, b) => a.timestamp - b.timestamp);
    const from = Number(input.nextToken ?? 0);
    const page = selected.slice(from, from + pageSize);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(
      JSON.stringify({
        events: page.map((e, i) => ({ logStreamName: e.logStreamName ?? 'stream', timestamp: e.timestamp, ingestionTime: e.timestamp, message: e.message, eventId: String(from + i) })),
        ...(from + pageSize < selected.length ? { nextToken: String(from + pageSize) } : {}),
      }),
    );
  };

  const listener = loopback(server);
  const port = await listener.listen();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    queries,
    putMetricData,
    logQueries,
    putLogEvents: (name, events) => void logGroups.set(name, [...(logGroups.get(name) ?? []), ...events]),
    setLogsFailure: (next) => void (logsFailure = next),
    setOldestAge: (queueName, datapoints) => void series.set(queueName, [...datapoints]),
    setFailure: (next) => void (failure = next),
    stop: () => listener.close(),
  };
}
