import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, type QueueAttributeName, type SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { describeError, step } from '../errors';
import { RESOURCES } from '../resources';
import { readSpigot, type SpigotReading } from '../spigot';

export interface QueueDepth {
  readonly queueUrl: string;
  /** Waiting to be received. */
  readonly visible: number;
  /** Received by a drain (or a `dlq list`) and not yet deleted. */
  readonly inFlight: number;
}

/**
 * The CloudWatch metric AWS/SQS ApproximateAgeOfOldestMessage (SQS publishes the age nowhere else, and peeking
 * would burn receive counts): the Maximum of the most recent 1-minute datapoint in the last 15 minutes.
 */
export interface OldestMessageAge {
  readonly seconds: number | null;
  /** Timestamp (ISO) of the datapoint `seconds` comes from. */
  readonly at: string | null;
  /** The QueueName dimension queried: the last path segment of the queue URL. */
  readonly queueName: string | null;
  /** Why `seconds` is null: the metric could not be read or had no datapoints. */
  readonly unavailable: string | null;
}

export interface BufferDepth extends QueueDepth {
  /** Same as `oldestMessageAge.seconds`. */
  readonly oldestMessageAgeSeconds: number | null;
  readonly oldestMessageAge: OldestMessageAge;
}

/** The drain's summary of one run, as it writes it to the drain status parameter (fields of the wrong type read as null). */
export interface DrainRunRecord {
  /** ISO time the run finished. */
  readonly at: string;
  /** `schedule`, `spigot-changed` or `manual`. */
  readonly trigger: string | null;
  /** The spigot as the run left it: `open` or `closed`. */
  readonly spigot: string | null;
  /** `held (spigot closed)`, `auto-closed`, `reopened` or `released`. */
  readonly action: string | null;
  readonly reason: string | null;
  readonly released: number | null;
  readonly held: number | null;
  readonly retried: number | null;
  readonly deadLettered: number | null;
  readonly discarded: number | null;
  /** The oldest buffered message the run saw; null when it received none (e.g. spigot closed). */
  readonly oldestMessageAgeSeconds: number | null;
  readonly durationMs: number | null;
}

/**
 * - `unknown`: no drain status parameter configured, or it does not exist, or reading it failed (`reason` says which)
 * - `never`: the parameter still holds `{}`: no drain has run since it was created
 * - `recorded`: the last run
 * - `unreadable`: the value is not the drain's JSON summary
 */
export type LastDrain =
  | { readonly status: 'unknown'; readonly parameterName: string | null; readonly reason: string }
  | { readonly status: 'never'; readonly parameterName: string }
  | { readonly status: 'recorded'; readonly parameterName: string; readonly run: DrainRunRecord }
  | { readonly status: 'unreadable'; readonly parameterName: string; readonly reason: string };

export interface StatusReport {
  readonly spigot: SpigotReading;
  readonly buffer: BufferDepth;
  readonly deadLetters: QueueDepth;
  readonly lastDrain: LastDrain;
}

export interface StatusOptions {
  readonly parameterName: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** Optional: without it `lastDrain` is `unknown`. */
  readonly drainStatusParameterName?: string;
  /** For tests: the end of the CloudWatch window. */
  readonly now?: Date;
}

export interface StatusClients {
  readonly ssm: SSMClient;
  readonly sqs: SQSClient;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string, label: string): Promise<QueueDepth> {
  const names: QueueAttributeName[] = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'];
  const { Attributes: a = {} } = await step(`reading the depth of the ${label} ${queueUrl} (sqs:GetQueueAttributes)`, () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names })),
  );
  return { queueUrl, visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) };
}

/** One line, at most `max` characters. */
const short = (text: string, max = 160): string => {
  const line = text.replace(/\s*\n\s*/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 3)}...` : line;
};

/** The QueueName dimension SQS publishes metrics under: the last path segment of the queue URL. */
export function queueNameOf(queueUrl: string): string | null {
  try {
    const segments = new URL(queueUrl).pathname.split('/').filter((s) => s !== '');
    return segments[segments.length - 1] ?? null;
  } catch {
    return null;
  }
}

export const OLDEST_AGE_WINDOW_MINUTES = 15;

/** Never throws: any failure becomes `unavailable`. */
export async function readOldestMessageAge(cloudwatch: StatusClients['cloudwatch'], queueUrl: string, now: Date = new Date()): Promise<OldestMessageAge> {
  const queueName = queueNameOf(queueUrl);
  const none = (unavailable: string): OldestMessageAge => ({ seconds: null, at: null, queueName, unavailable });
  if (queueName === null) return none(`cannot tell the queue name from ${queueUrl}`);
  let output;
  try {
    output = await cloudwatch.send(
      new GetMetricDataCommand({
        StartTime: new Date(now.getTime() - OLDEST_AGE_WINDOW_MINUTES * 60_000),
        EndTime: now,
        ScanBy: 'TimestampDescending',
        MetricDataQueries: [
          {
            Id: 'oldest',
            ReturnData: true,
            MetricStat: {
              Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: queueName }] },
              Period: 60,
              Stat: 'Maximum',
            },
          },
        ],
      }),
    );
  } catch (error) {
    // Network errors arrive as "AWS SDK error wrapper for Error: connect ECONNREFUSED ..."; keep the cause.
    return none(`CloudWatch GetMetricData failed: ${short(describeError(error).replace(/^AWS SDK error wrapper for /, ''))}`);
  }
  const result = output.MetricDataResults?.find((r) => r.Id === 'oldest') ?? output.MetricDataResults?.[0];
  const values = result?.Values ?? [];
  const timestamps = result?.Timestamps ?? [];
  let latest = -1;
  for (let i = 0; i < Math.min(values.length, timestamps.length); i++) {
    if (!Number.isFinite(values[i]) || !(timestamps[i] instanceof Date) || Number.isNaN(timestamps[i]!.getTime())) continue;
    if (latest === -1 || timestamps[i]!.getTime() > timestamps[latest]!.getTime()) latest = i;
  }
  if (latest === -1) {
    const message = [...(result?.Messages ?? []), ...(output.Messages ?? [])].map((m) => m.Value ?? m.Code).find((m) => m);
    const status = result?.StatusCode && result.StatusCode !== 'Complete' ? `, status ${result.StatusCode}` : '';
    return none(
      `no CloudWatch datapoints in the last ${OLDEST_AGE_WINDOW_MINUTES} minutes${status}${message ? `: ${short(message, 100)}` : ''}`,
    );
  }
  return { seconds: values[latest]!, at: timestamps[latest]!.toISOString(), queueName, unavailable: null };
}

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const str = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/** Interprets the drain status parameter's value; never throws. */
export function parseDrainStatus(parameterName: string, value: string): LastDrain {
  const unreadable = (reason: string): LastDrain => ({ status: 'unreadable', parameterName, reason });
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    return unreadable(`not JSON (${short((error as Error).message, 100)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return unreadable('not a JSON object');
  const r = parsed as Record<string, unknown>;
  if (Object.keys(r).length === 0) return { status: 'never', parameterName };
  const at = str(r.at);
  if (at === null || Number.isNaN(new Date(at).getTime())) return unreadable('no valid "at" time');
  return {
    status: 'recorded',
    parameterName,
    run: {
      at,
      trigger: str(r.trigger),
      spigot: str(r.spigot),
      action: str(r.action),
      reason: str(r.reason),
      released: num(r.released),
      held: num(r.held),
      retried: num(r.retried),
      deadLettered: num(r.deadLettered),
      discarded: num(r.discarded),
      oldestMessageAgeSeconds: num(r.oldestMessageAgeSeconds),
      durationMs: num(r.durationMs),
    },
  };
}

const NOT_CONFIGURED = `no drain status parameter configured (${RESOURCES.drainStatusParameterName.flag}, ${RESOURCES.drainStatusParameterName.env} or output ${RESOURCES.drainStatusParameterName.output})`;

/** Never throws: the last drain is extra information, status works without it. */
export async function readLastDrain(ssm: SSMClient, parameterName: string | undefined): Promise<LastDrain> {
  if (parameterName === undefined) return { status: 'unknown', parameterName: null, reason: NOT_CONFIGURED };
  try {
    const { Parameter: p } = await ssm.send(new GetParameterCommand({ Name: parameterName }));
    if (p?.Value === undefined) return { status: 'unreadable', parameterName, reason: 'the parameter has no value' };
    return parseDrainStatus(parameterName, p.Value);
  } catch (error) {
    if (error instanceof ParameterNotFound) return { status: 'unknown', parameterName, reason: `the parameter ${parameterName} does not exist` };
    return { status: 'unknown', parameterName, reason: `reading ${parameterName} (ssm:GetParameter) failed: ${short(describeError(error))}` };
  }
}

export async function status(clients: StatusClients, options: StatusOptions): Promise<StatusReport> {
  const [spigot, buffer, deadLetters, oldest, lastDrain] = await Promise.all([
    readSpigot(clients.ssm, options.parameterName),
    queueDepth(clients.sqs, options.queueUrl, 'buffer queue'),
    queueDepth(clients.sqs, options.dlqUrl, 'dead-letter queue'),
    readOldestMessageAge(clients.cloudwatch, options.queueUrl, options.now),
    readLastDrain(clients.ssm, options.drainStatusParameterName),
  ]);
  return { spigot, buffer: { ...buffer, oldestMessageAgeSeconds: oldest.seconds, oldestMessageAge: oldest }, deadLetters, lastDrain };
}
