/**
 * What the stack's logs say about a webhook, read into events and a verdict. Pure.
 *
 * Sources: the API access log (stacks/constructs/webhook-api.ts, accessLogFormat: one JSON line per
 * request, with requestId and status, never headers or bodies) and the drain's Powertools JSON lines
 * (functions/drain/release/index.ts), which name the webhook by messageId and, for the lines listed in
 * DRAIN_LINES, by deliveryId and requestId too.
 */

export type TraceKind =
  | 'accepted'
  | 'refused-by-api'
  | 'released'
  | 'refused-by-jenkins'
  | 'dead-lettered'
  | 'discarded'
  | 'received-again'
  | 'error'
  | 'in-dlq'
  | 'other';

export interface TraceEvent {
  /** Epoch ms. */
  readonly at: number;
  readonly source: 'api' | 'drain' | 'dlq';
  readonly kind: TraceKind;
  readonly text: string;
  readonly deliveryId?: string;
  readonly requestId?: string;
  readonly messageId?: string;
  readonly group?: string;
  readonly status?: string;
  readonly reason?: string;
}

/** The drain's per-webhook log messages, exactly as it writes them. */
export const DRAIN_LINES: Readonly<Record<string, TraceKind>> = {
  'released webhook': 'released',
  'webhook refused; holding its repository until Jenkins accepts another webhook': 'refused-by-jenkins',
  'dead-lettered webhook': 'dead-lettered',
  'discarded webhook without sending': 'discarded',
  'webhook received again; Jenkins may have seen it before': 'received-again',
  'could not process webhook; holding its repository': 'error',
};

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined);

function parseJson(message: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(message);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** One access log line; undefined when it is not one. */
export function accessEvent(message: string, timestamp: number): TraceEvent | undefined {
  const line = parseJson(message);
  const requestId = str(line?.requestId);
  if (line === undefined || requestId === undefined) return undefined;
  const at = Number(line.requestTime);
  const status = str(line.status);
  const where = [str(line.httpMethod), str(line.resourcePath)].filter(Boolean).join(' ');
  const accepted = status === '202';
  const why = [str(line.errorType), line.integrationStatus !== undefined && line.integrationStatus !== '-' ? `SQS answered ${str(line.integrationStatus)}` : undefined].filter(Boolean).join(', ');
  return {
    at: Number.isFinite(at) && at > 0 ? at : timestamp,
    source: 'api',
    kind: accepted ? 'accepted' : 'refused-by-api',
    text: accepted
      ? `API Gateway accepted it: 202, queued (request ${requestId}, ${where})`
      : `API Gateway refused it: ${status ?? '?'}${why ? ` (${why})` : ''}; it was never queued (request ${requestId}, ${where})`,
    requestId,
    status,
  };
}

/** One drain log line about a webhook; undefined for run-level lines. */
export function drainEvent(message: string, timestamp: number): TraceEvent | undefined {
  const line = parseJson(message);
  const text = str(line?.message);
  if (line === undefined || text === undefined) return undefined;
  const messageId = str(line.messageId);
  const deliveryId = str(line.deliveryId);
  const requestId = str(line.requestId);
  if (messageId === undefined && deliveryId === undefined && requestId === undefined) return undefined;
  const kind = DRAIN_LINES[text] ?? 'other';
  const status = str(line.status);
  const reason = str(line.reason);
  const atField = Date.parse(str(line.timestamp) ?? '');
  const described: Record<TraceKind, string> = {
    released: `released to Jenkins, which answered ${status ?? '?'}`,
    'refused-by-jenkins': `Jenkins refused it (${status ?? '?'}: ${reason ?? 'no reason'}); held at the head of its repository until Jenkins accepts another repository's webhook`,
    'dead-lettered': `dead-lettered: ${status ?? 'no status'}, ${reason ?? 'no reason'}`,
    discarded: `discarded without sending (${reason ?? 'no reason'})`,
    'received-again': `received again (receive ${str(line.receiveCount) ?? '?'}): Jenkins may have seen it before`,
    error: `the drain could not process it (${str(line.error) ?? 'no detail'}); its repository is held`,
    accepted: text,
    'refused-by-api': text,
    'in-dlq': text,
    other: `${str(line.level) ?? 'log'}: ${text}`,
  };
  return {
    at: Number.isFinite(atField) ? atField : timestamp,
    source: 'drain',
    kind,
    text: described[kind],
    ...(deliveryId ? { deliveryId } : {}),
    ...(requestId ? { requestId } : {}),
    ...(messageId ? { messageId } : {}),
    ...(str(line.group) ? { group: str(line.group) } : {}),
    ...(status ? { status } : {}),
    ...(reason ? { reason } : {}),
  };
}

export type VerdictState = 'released' | 'dead-letter' | 'discarded' | 'held' | 'in-the-drain' | 'gone' | 'never-queued' | 'unknown';

export interface Verdict {
  readonly state: VerdictState;
  readonly text: string;
}

export interface HeldContext {
  readonly spigot: string;
  readonly waiting: number;
  readonly inFlight: number;
}

const TERMINAL: readonly TraceKind[] = ['released', 'dead-lettered', 'discarded'];

/** Where the webhook is now, from its events (oldest first) and, for a held one, the buffer. */
export function verdictOf(events: readonly TraceEvent[], held?: HeldContext): Verdict {
  const inDlq = events.find((e) => e.kind === 'in-dlq');
  if (inDlq) return { state: 'dead-letter', text: `in the dead-letter queue: ${inDlq.reason ?? 'no reason'} (\`spigot dlq show ${inDlq.deliveryId ?? inDlq.requestId ?? ''}\`)` };
  const last = [...events].reverse().find((e) => TERMINAL.includes(e.kind));
  const iso = (e: TraceEvent) => new Date(e.at).toISOString();
  if (last?.kind === 'released') return { state: 'released', text: `released to Jenkins at ${iso(last)}; Jenkins answered ${last.status ?? '?'}` };
  if (last?.kind === 'discarded') return { state: 'discarded', text: `discarded by the drain at ${iso(last)} without reaching Jenkins (${last.reason ?? ''})` };
  if (last?.kind === 'dead-lettered') {
    return { state: 'dead-letter', text: `dead-lettered at ${iso(last)}, and no longer in the dead-letter queue (redriven or dropped since, or hidden behind its repository's other dead letters: \`spigot dlq list\`)` };
  }
  const accepted = events.find((e) => e.kind === 'accepted');
  const drainSaw = events.some((e) => e.source === 'drain');
  if (accepted || drainSaw) {
    const since = accepted ? ` since ${iso(accepted)}` : '';
    if (held !== undefined && held.waiting + held.inFlight === 0) {
      return {
        state: 'gone',
        text: `accepted${since.replace(' since', ' at')}, and no longer in the buffer nor in the DLQ, but no drain line says it was released (a drain that does not log releases by delivery id?)`,
      };
    }
    const context = held ? ` (spigot ${held.spigot}; buffer: ${held.waiting} waiting, ${held.inFlight} in flight)` : '';
    return drainSaw
      ? { state: 'in-the-drain', text: `held in the buffer${since}: the drain has seen it but not released it yet${context}` }
      : { state: 'held', text: `held in the buffer${since}: no drain line names it yet${context}` };
  }
  const refused = events.find((e) => e.kind === 'refused-by-api');
  if (refused) return { state: 'never-queued', text: `never queued: API Gateway answered ${refused.status ?? '?'}; the sender has to redeliver it (GitHub: Recent deliveries, Redeliver)` };
  return { state: 'unknown', text: 'no trace' };
}

export interface RepositoryDelivery {
  /** The delivery id, or the request or message id when the line has no delivery id. */
  readonly id: string;
  readonly firstAt: number;
  readonly lastAt: number;
  readonly last: TraceEvent;
  readonly events: number;
}

/** `trace --repo`: one row per webhook, its latest event last. Events oldest first. */
export function byDelivery(events: readonly TraceEvent[]): RepositoryDelivery[] {
  const rows = new Map<string, { firstAt: number; last: TraceEvent; events: number }>();
  for (const e of events) {
    const id = e.deliveryId ?? e.requestId ?? e.messageId ?? '?';
    const row = rows.get(id);
    if (row === undefined) rows.set(id, { firstAt: e.at, last: e, events: 1 });
    else rows.set(id, { firstAt: row.firstAt, last: e.at >= row.last.at ? e : row.last, events: row.events + 1 });
  }
  return [...rows.entries()].map(([id, r]) => ({ id, firstAt: r.firstAt, lastAt: r.last.at, last: r.last, events: r.events })).sort((a, b) => a.firstAt - b.firstAt);
}
