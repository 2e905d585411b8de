/**
 * `spigot trace <id>` and `spigot trace --repo owner/name`: where a webhook is, from what the stack
 * already writes: the API access log and the drain's log lines (CloudWatch Logs FilterLogEvents), the
 * dead-letter queue (looked at, never moved), and the buffer's depth. The buffer itself is not looked
 * into: receiving from it would count against each webhook's maxReceiveCount and hold up the drain.
 */
import { FilterLogEventsCommand, type CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { step, UsageError } from '../errors';
import { readSpigot } from '../spigot';
import { dlqList, type DeadLetter } from './dlq-list';
import { queueDepth } from './status';
import { accessEvent, byDelivery, drainEvent, verdictOf, type RepositoryDelivery, type TraceEvent, type Verdict } from './trace-events';

export interface TraceSources {
  readonly drainLogGroup: string;
  readonly accessLogGroup: string;
  readonly dlqUrl: string;
  readonly queueUrl: string;
  readonly parameterName: string;
}

export interface TraceClients {
  readonly logs: CloudWatchLogsClient;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
}

export interface TraceResult {
  readonly id: string;
  readonly since: string;
  readonly events: TraceEvent[];
  readonly verdict: Verdict;
  /** True when the DLQ look could not see every dead letter (FIFO hides a repository's later ones). */
  readonly dlqPartial: boolean;
}

export interface RepositoryTrace {
  readonly repo: string;
  readonly since: string;
  readonly deliveries: RepositoryDelivery[];
  readonly deadLetters: DeadLetter[];
  readonly buffer: { readonly waiting: number; readonly inFlight: number };
}

/** Ids go into filter patterns quoted: keep them to what delivery, request and message ids are made of. */
const SAFE_ID = /^[A-Za-z0-9._:/-]{1,200}$/;

export function assertId(id: string, what: string): void {
  if (!SAFE_ID.test(id)) throw new UsageError(`${what} ${JSON.stringify(id)} is not an id (letters, digits and . _ : / - only)`);
}

/** `{ ($.a = "x") || ($.b = "x") }` for every field and value; CloudWatch caps patterns at 1024 characters. */
export function jsonPattern(fields: readonly string[], values: readonly string[]): string {
  const terms = values.flatMap((v) => fields.map((f) => `($.${f} = "${v}")`));
  return `{ ${terms.join(' || ')} }`;
}

/** At most this many ids per pattern, to stay under the pattern length limit. */
const IDS_PER_PATTERN = 4;

export async function filterLog(logs: CloudWatchLogsClient, logGroupName: string, pattern: string, startTime: number): Promise<Array<{ message: string; timestamp: number }>> {
  const events: Array<{ message: string; timestamp: number }> = [];
  let nextToken: string | undefined;
  do {
    const page = await step(`searching ${logGroupName} (logs:FilterLogEvents)`, () =>
      logs.send(new FilterLogEventsCommand({ logGroupName, filterPattern: pattern, startTime, endTime: Date.now(), nextToken })),
    );
    for (const e of page.events ?? []) if (e.message !== undefined) events.push({ message: e.message, timestamp: e.timestamp ?? 0 });
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

async function searchIds(logs: CloudWatchLogsClient, logGroupName: string, fields: readonly string[], ids: readonly string[], startTime: number) {
  const found: Array<{ message: string; timestamp: number }> = [];
  for (let i = 0; i < ids.length; i += IDS_PER_PATTERN) found.push(...(await filterLog(logs, logGroupName, jsonPattern(fields, ids.slice(i, i + IDS_PER_PATTERN)), startTime)));
  return found;
}

const byTime = (a: TraceEvent, b: TraceEvent) => a.at - b.at;
const defined = <T>(values: ReadonlyArray<T | undefined | null>): T[] => values.filter((v): v is T => v !== undefined && v !== null);

export async function trace(clients: TraceClients, sources: TraceSources, id: string, since: number): Promise<TraceResult> {
  assertId(id, 'trace');
  const [drainLines, look] = await Promise.all([
    searchIds(clients.logs, sources.drainLogGroup, ['deliveryId', 'requestId', 'messageId'], [id], since),
    dlqList(clients, { dlqUrl: sources.dlqUrl, max: Number.MAX_SAFE_INTEGER }),
  ]);
  const deadLetters = look.deadLetters.filter((d) => d.deliveryId === id || d.requestId === id || d.originalMessageId === id);
  let drain = defined(drainLines.map((l) => drainEvent(l.message, l.timestamp)));
  // The DLQ names the buffer message and the request: lines about those that do not name the delivery.
  const known = new Set([id, ...drain.flatMap((e) => defined([e.messageId, e.requestId]))]);
  const more = [...new Set(defined(deadLetters.flatMap((d) => [d.originalMessageId, d.requestId])))].filter((x) => !known.has(x) && SAFE_ID.test(x));
  if (more.length > 0) {
    const extra = defined((await searchIds(clients.logs, sources.drainLogGroup, ['messageId', 'requestId'], more, since)).map((l) => drainEvent(l.message, l.timestamp)));
    drain = [...drain, ...extra];
  }
  const requestIds = [...new Set([id, ...defined(drain.map((e) => e.requestId)), ...defined(deadLetters.map((d) => d.requestId))])].filter((x) => SAFE_ID.test(x));
  const api = defined((await searchIds(clients.logs, sources.accessLogGroup, ['requestId'], requestIds, since)).map((l) => accessEvent(l.message, l.timestamp)));
  const dlq: TraceEvent[] = deadLetters.map((d) => ({
    at: Date.now(),
    source: 'dlq',
    kind: 'in-dlq',
    text: `in the dead-letter queue now: ${d.status ?? 'no status'}, ${d.reason}`,
    ...(d.deliveryId ? { deliveryId: d.deliveryId } : {}),
    ...(d.requestId ? { requestId: d.requestId } : {}),
    ...(d.group ? { group: d.group } : {}),
    ...(d.status ? { status: d.status } : {}),
    reason: d.reason,
  }));
  // The same line can match twice (by delivery id, then by message id): keep one.
  const unique = new Map<string, TraceEvent>();
  for (const e of [...api, ...drain]) unique.set(`${e.source}|${e.at}|${e.kind}|${e.messageId ?? e.requestId}`, e);
  const events = [...unique.values()].sort(byTime).concat(dlq);
  let verdict = verdictOf(events);
  if (verdict.state === 'held' || verdict.state === 'in-the-drain') {
    const [depth, spigot] = await Promise.all([queueDepth(clients.sqs, sources.queueUrl, 'buffer queue'), readSpigot(clients.ssm, sources.parameterName)]);
    verdict = verdictOf(events, { spigot: spigot.state, waiting: depth.visible, inFlight: depth.inFlight });
  }
  return { id, since: new Date(since).toISOString(), events, verdict, dlqPartial: look.partial };
}

export async function traceRepository(clients: TraceClients, sources: TraceSources, repo: string, since: number): Promise<RepositoryTrace> {
  if (!/^[^/\s"]+\/[^/\s"]+$/.test(repo)) throw new UsageError(`--repo takes owner/name, got ${JSON.stringify(repo)}`);
  const group = `repo:${repo.toLowerCase()}`;
  const [lines, look, depth] = await Promise.all([
    filterLog(clients.logs, sources.drainLogGroup, jsonPattern(['group'], [group]), since),
    dlqList(clients, { dlqUrl: sources.dlqUrl, max: Number.MAX_SAFE_INTEGER }),
    queueDepth(clients.sqs, sources.queueUrl, 'buffer queue'),
  ]);
  const events = defined(lines.map((l) => drainEvent(l.message, l.timestamp))).sort(byTime);
  return {
    repo,
    since: new Date(since).toISOString(),
    deliveries: byDelivery(events),
    deadLetters: look.deadLetters.filter((d) => d.group === group),
    buffer: { waiting: depth.visible, inFlight: depth.inFlight },
  };
}
