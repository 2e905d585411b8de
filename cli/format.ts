/** Human-readable output. Every function returns text; printing happens in cli/index.ts. */
import type { DeadLetterDetails, FullListing } from './commands/dlq-find';
import type { DrainRun } from './commands/drain';
import type { DoctorReport } from './commands/doctor';
import type { RedriveFilter, RedriveResult } from './commands/dlq-redrive';
import type { SetStateResult } from './commands/set-state';
import type { SmokeResult } from './commands/smoke';
import type { JenkinsAnswer } from './commands/smoke-end-to-end';
import type { StatusReport } from './commands/status';
import type { StatusCheck } from './commands/status-check';
import type { RepositoryTrace, TraceResult } from './commands/trace';
import type { SpigotReading } from './spigot';

/** Left-aligned columns separated by two spaces; `-` for empty cells. */
export function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((row) => row.map((c) => (c === null || c === undefined || c === '' ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n');
}

/** "12s ago", "5m ago", "3h 4m ago", "2d 1h ago". */
export function ago(iso: string | null, now: Date = new Date()): string {
  if (iso === null) return 'unknown time';
  const seconds = Math.round((now.getTime() - new Date(iso).getTime()) / 1000);
  if (seconds < 0) return 'just now';
  return `${duration(seconds)} ago`;
}

export function duration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** The user part of an IAM ARN is the readable bit; keep the full ARN visible too. */
const who = (user: string | null): string => user ?? 'unknown';

export function spigotLine(reading: SpigotReading): string {
  if (!reading.recognised) return `closed (unrecognised value ${JSON.stringify(reading.value)})`;
  return reading.state;
}

function spigotLines(reading: SpigotReading, now: Date): string[] {
  return [
    `spigot:        ${spigotLine(reading)}   (${reading.parameterName}, version ${reading.version ?? '?'})`,
    `  changed:     ${reading.changedAt ?? 'unknown'} (${ago(reading.changedAt, now)}) by ${who(reading.changedBy)}`,
    `  why:         ${reading.reason ?? '(no description)'}`,
  ];
}

function oldestLine(report: StatusReport, now: Date): string {
  const age = report.buffer.oldestMessageAge;
  const main =
    age.seconds !== null
      ? `${duration(age.seconds)} (CloudWatch ApproximateAgeOfOldestMessage, ${age.at ?? 'unknown time'})`
      : `n/a (${age.unavailable ?? 'unknown reason'})`;
  const last = report.lastDrain.status === 'recorded' ? report.lastDrain.run : null;
  const hint = last !== null && last.oldestMessageAgeSeconds !== null ? `; last drain (${ago(last.at, now)}) saw ${duration(last.oldestMessageAgeSeconds)}` : '';
  return `  oldest:      ${main}${hint}`;
}

const count = (n: number | null): string => (n === null ? '?' : String(n));

function lastDrainLines(report: StatusReport, now: Date): string[] {
  const last = report.lastDrain;
  switch (last.status) {
    case 'unknown':
      return [`last drain:    unknown (${last.reason}; \`spigot drain\` runs one now and shows its result)`];
    case 'never':
      return [`last drain:    none recorded yet (${last.parameterName} is {})`];
    case 'unreadable':
      return [`last drain:    unreadable (${last.parameterName}: ${last.reason})`];
    case 'recorded': {
      const run = last.run;
      const counts = [`released ${count(run.released)}`, `held ${count(run.held)}`];
      if (run.retried) counts.push(`retried ${run.retried}`);
      counts.push(`dead-lettered ${count(run.deadLettered)}`);
      if (run.discarded) counts.push(`discarded ${run.discarded}`);
      const context = [run.trigger ?? 'unknown trigger', `spigot ${run.spigot ?? '?'}`];
      if (run.durationMs !== null) context.push(`took ${(run.durationMs / 1000).toFixed(1)}s`);
      const lines = [`last drain:    ${run.at} (${ago(run.at, now)}) ${counts.join(', ')} (${context.join('; ')})`];
      if (run.action !== null || run.reason !== null) lines.push(`  action:      ${[run.action ?? 'unknown', run.reason].filter((x) => x !== null).join(': ')}`);
      return lines;
    }
  }
}

export function formatStatus(report: StatusReport, now: Date = new Date()): string {
  const { buffer, deadLetters } = report;
  const holding = report.spigot.state === 'closed' && buffer.visible + buffer.inFlight > 0 ? ' (held: the spigot is closed)' : '';
  return [
    ...spigotLines(report.spigot, now),
    `buffer:        ${buffer.visible} waiting, ${buffer.inFlight} in flight${holding}`,
    oldestLine(report, now),
    `dead letters:  ${deadLetters.visible + deadLetters.inFlight}${deadLetters.visible + deadLetters.inFlight > 0 ? '   (see `spigot dlq list`)' : ''}`,
    ...lastDrainLines(report, now),
  ].join('\n');
}

export function formatCheck(check: StatusCheck): string {
  if (check.ok) return 'check:         ok (open, no dead letters, drain ran within the last ' + duration(check.maxDrainAgeSeconds) + ')';
  return ['check:         NOT OK', ...check.problems.map((p) => `  - ${p.check}: ${p.message}`)].join('\n');
}

export function formatSetState(result: SetStateResult, now: Date = new Date()): string {
  const verb = result.current.state === 'open' ? 'open' : 'closed';
  const head = result.unchanged ? `the spigot was already ${verb}; recorded again:` : `the spigot is now ${verb} (was ${spigotLine(result.previous)}):`;
  const lines = [head, ...spigotLines(result.current, now)];
  if (result.verdict?.kind === 'guarded') {
    lines.push(`  forced over: the close by ${result.verdict.closedBy} at ${result.verdict.closedAt ?? 'unknown time'}: ${result.verdict.reason ?? '(no description)'}`);
  } else if (result.verdict?.why === "the drain's own auto-close") {
    lines.push(`  reopened:    the drain's own auto-close (${result.previous.reason ?? ''})`);
  }
  if (result.unchanged && result.current.state === 'closed' && result.previous.reason !== result.current.reason) {
    lines.push(`  replaced:    ${result.previous.reason ?? '(no description)'} (by ${who(result.previous.changedBy)})`);
  }
  if (result.raced) {
    lines.push(`  note:        another change landed at the same time (now version ${result.current.version ?? '?'}); check \`spigot status\``);
  }
  return lines.join('\n');
}

const SCALAR_ORDER = ['state', 'released', 'held', 'deadLettered', 'failed', 'skipped', 'smokeDiscarded'];

/** Flattens the drain's JSON into `key  value` rows (nested objects as dotted keys), the usual counters first. */
export function drainRows(result: unknown): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const walk = (value: unknown, key: string): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value as Record<string, unknown>);
      if (entries.length === 0) rows.push([key, '{}']);
      for (const [k, v] of entries) walk(v, key === '' ? k : `${key}.${k}`);
    } else if (Array.isArray(value)) {
      rows.push([key, value.every((v) => v === null || typeof v !== 'object') ? value.join(', ') || '(none)' : JSON.stringify(value)]);
    } else {
      rows.push([key === '' ? 'result' : key, value === null ? 'null' : String(value)]);
    }
  };
  walk(result, '');
  const rank = (key: string): number => {
    const i = SCALAR_ORDER.indexOf(key);
    return i === -1 ? SCALAR_ORDER.length : i;
  };
  return rows.map((row, i) => ({ row, i })).sort((a, b) => rank(a.row[0]) - rank(b.row[0]) || a.i - b.i).map(({ row }) => row);
}

export function formatDrain(run: DrainRun): string {
  const version = run.executedVersion ? ` (version ${run.executedVersion})` : '';
  return [`drain run of ${run.functionName}${version} finished:`, table(['field', 'value'], drainRows(run.result))].join('\n');
}

/** Long reasons (up to 1000 bytes) would make the table unreadable: `dlq show` has them whole. */
const clip = (text: string, max = 72): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function formatDlqList(listing: FullListing): string {
  if (listing.deadLetters.length === 0) {
    return listing.approximateTotal > 0
      ? `no dead letters could be listed, but SQS counts about ${listing.approximateTotal} (in flight elsewhere, e.g. a running redrive); try again shortly`
      : 'the dead-letter queue is empty';
  }
  const rows = listing.deadLetters.map((d) => [
    d.receivedAt,
    d.route,
    d.repository ?? d.group,
    d.event ?? (d.envelopeError ? '(unreadable envelope)' : null),
    d.status,
    clip(d.reason),
    d.deliveryId,
  ]);
  const lines = [table(['received', 'route', 'repository', 'event', 'status', 'reason', 'delivery'], rows), ''];
  const how = listing.method === 'pass' ? ' (went through the DLQ: each moved to its back, every repository still in order)' : '';
  lines.push(`${listing.deadLetters.length} dead letter(s)${how}; \`spigot dlq show <delivery>\` for one`);
  return lines.join('\n');
}

export function formatDeadLetter(details: DeadLetterDetails): string {
  const d = details.deadLetter;
  const lines = [
    `dead letter ${d.deliveryId ?? d.messageId}`,
    `  repository:  ${d.repository ?? '-'} (group ${d.group ?? '?'})`,
    `  route:       ${d.route ?? '-'}`,
    `  event:       ${d.event ?? '-'}`,
    `  received:    ${d.receivedAt ?? '-'}`,
    `  status:      ${d.status ?? '- (SQS moved it after maxReceiveCount receives)'}`,
    `  reason:      ${d.reason}`,
    `  request id:  ${d.requestId ?? '-'}`,
    `  receives:    ${d.receiveCount ?? '?'}`,
  ];
  if (d.envelopeError) lines.push(`  unreadable:  ${d.envelopeError}`);
  lines.push('headers:', ...(details.headers.length > 0 ? details.headers.map(([k, v]) => `  ${k}: ${v}`) : ['  (none)']));
  if (details.query.length > 0) lines.push('query:', ...details.query.map(([k, v]) => `  ${k}=${v}`));
  if (details.body === undefined) lines.push(`body:          ${details.bodyBytes ?? '?'} bytes (--body prints it)`);
  else lines.push(`body (${details.bodyBytes ?? '?'} bytes):`, details.body);
  return lines.join('\n');
}

export function describeFilter(filter: RedriveFilter): string {
  const parts: string[] = [];
  if (filter.repo !== undefined) parts.push(`--repo ${filter.repo}`);
  if (filter.status !== undefined) parts.push(`--status ${filter.status}`);
  if (filter.event !== undefined) parts.push(`--event ${filter.event}`);
  if (filter.since !== undefined) parts.push(`--since ${new Date(filter.since).toISOString()}`);
  if (filter.reason !== undefined) parts.push(`--reason ${JSON.stringify(filter.reason)}`);
  return parts.join(' ');
}

export function formatRedrive(result: RedriveResult): string {
  const filters = describeFilter(result.filter);
  const lines = [`moved ${result.moved} dead letter(s)${filters ? ` matching ${filters}` : ''} back to the buffer, each repository in its original order`];
  if (result.duplicatesDropped > 0) {
    lines.push(`dropped ${result.duplicatesDropped} duplicate dead letter(s): second copies of webhooks moved above (dead-lettered twice), deleted from the DLQ, not redriven`);
  }
  if (result.kept > 0) lines.push(`kept ${result.kept} dead letter(s) of those repositories that did not match, in order`);
  const groups = Object.entries(result.groups);
  if (groups.length > 0) lines.push(table(['group', 'moved'], groups));
  if (result.stoppedBecause) lines.push(`stopped early: ${result.stoppedBecause}`);
  lines.push(`${result.remaining} dead letter(s) remain in the DLQ`);
  return lines.join('\n');
}

export function formatSmoke(result: SmokeResult): string {
  const what = result.endToEnd
    ? `  delivery:  ${result.smokeId} (X-GitHub-Delivery of a signed ping: the drain releases it to Jenkins)`
    : `  smoke id:  ${result.smokeId} (header X-Spigot-Smoke; the drain deletes it without calling Jenkins)`;
  return [
    `smoke delivery queued: ${result.status} {"queued":true} in ${result.elapsedMs} ms`,
    `  requestId: ${result.requestId} (search the API access log for it)`,
    what,
  ].join('\n');
}

export function formatJenkinsAnswer(answer: JenkinsAnswer): string {
  const when = `at ${new Date(answer.at).toISOString()}, ${duration(answer.afterMs / 1000)} after it was queued`;
  switch (answer.outcome) {
    case 'released':
      return `released to Jenkins ${when}: Jenkins answered ${answer.status ?? '?'}`;
    case 'refused':
      return `Jenkins refused the ping ${when}: ${answer.status ?? '?'} (${answer.reason ?? 'no reason'})`;
    case 'dead-lettered':
      return `the drain dead-lettered the ping ${when}: ${answer.status ?? 'no status'} (${answer.reason ?? 'no reason'})`;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

export function formatTrace(result: TraceResult): string {
  if (result.events.length === 0) return `no trace of ${result.id} since ${result.since}`;
  const rows = result.events.map((e) => [e.source === 'dlq' ? 'now' : iso(e.at), e.source, e.text]);
  const lines = [`trace of ${result.id} since ${result.since}:`, table(['time', 'source', 'what'], rows), '', `now: ${result.verdict.text}`];
  if (result.dlqPartial && result.verdict.state !== 'dead-letter') {
    lines.push('(the DLQ look saw only the first dead letters of each repository; `spigot dlq show <id>` goes through them all)');
  }
  return lines.join('\n');
}

export function formatRepositoryTrace(result: RepositoryTrace): string {
  // `webhook` is the delivery id when the drain's line names it, else its request or SQS message id.
  const lines = [`webhooks of ${result.repo} the drain logged since ${result.since}:`];
  if (result.deliveries.length === 0) lines.push('  (none)');
  else lines.push(table(['first seen', 'webhook', 'last seen', 'last', 'lines'], result.deliveries.map((d) => [iso(d.firstAt), d.id, iso(d.lastAt), d.last.text, d.events])));
  lines.push('', `dead letters of ${result.repo} now: ${result.deadLetters.length}${result.deadLetters.length > 0 ? ' (`spigot dlq list`)' : ''}`);
  lines.push(
    `buffer: ${result.buffer.waiting} waiting, ${result.buffer.inFlight} in flight in all; webhooks the drain has not touched yet cannot be told apart by repository ` +
      '(the access log has no repository, and looking into the buffer would count against their receives)',
  );
  return lines.join('\n');
}

/** One line per check: status, phase, check, detail. */
export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.check.length));
  const lines = report.checks.map((c) => `${c.status.padEnd(4)}  ${c.phase.padEnd(6)}  ${c.check.padEnd(width)}  ${c.detail}`);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  return [...lines, `${report.checks.length} checks: ${failed} failed, ${warned} warnings`].join('\n');
}
