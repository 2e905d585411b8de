/** Human-readable output. Every function returns text; printing happens in cli/index.ts. */
import type { DlqListing } from './commands/dlq-list';
import type { DrainRun } from './commands/drain';
import type { DoctorReport } from './commands/doctor';
import type { RedriveResult } from './commands/dlq-redrive';
import type { SetStateResult } from './commands/set-state';
import type { SmokeResult } from './commands/smoke';
import type { StatusReport } from './commands/status';
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

export function formatSetState(result: SetStateResult, now: Date = new Date()): string {
  const verb = result.current.state === 'open' ? 'open' : 'closed';
  const head = result.unchanged ? `the spigot was already ${verb}; recorded again:` : `the spigot is now ${verb} (was ${spigotLine(result.previous)}):`;
  return [head, ...spigotLines(result.current, now)].join('\n');
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

export function formatDlqList(listing: DlqListing): string {
  if (listing.deadLetters.length === 0) {
    return listing.approximateTotal > 0
      ? `no dead letters could be listed, but SQS counts about ${listing.approximateTotal} (in flight elsewhere, e.g. a running redrive); try again shortly`
      : 'the dead-letter queue is empty';
  }
  const rows = listing.deadLetters.map((d) => [
    d.receivedAt,
    d.event ?? (d.envelopeError ? '(unreadable envelope)' : null),
    d.repository ?? d.group,
    d.status,
    d.reason,
    d.deliveryId,
  ]);
  const lines = [table(['received', 'event', 'repository', 'status', 'reason', 'delivery'], rows)];
  lines.push('');
  lines.push(
    listing.partial
      ? `${listing.deadLetters.length} listed of about ${listing.approximateTotal}: FIFO hides a repository's later dead letters while its first ones are being listed (at most 10 per repository), and --max limits the listing`
      : `${listing.deadLetters.length} dead letter(s)`,
  );
  return lines.join('\n');
}

export function formatRedrive(result: RedriveResult): string {
  const lines = [`moved ${result.moved} dead letter(s) back to the buffer, each repository in its original order`];
  if (result.duplicatesDropped > 0) {
    lines.push(`dropped ${result.duplicatesDropped} duplicate dead letter(s): second copies of webhooks moved above (dead-lettered twice), deleted from the DLQ, not redriven`);
  }
  const groups = Object.entries(result.groups);
  if (groups.length > 0) lines.push(table(['group', 'moved'], groups));
  if (result.stoppedBecause) lines.push(`stopped early: ${result.stoppedBecause}`);
  lines.push(`${result.remaining} dead letter(s) remain in the DLQ`);
  return lines.join('\n');
}

export function formatSmoke(result: SmokeResult): string {
  return [
    `smoke delivery queued: ${result.status} {"queued":true} in ${result.elapsedMs} ms`,
    `  requestId: ${result.requestId} (search the API access log for it)`,
    `  smoke id:  ${result.smokeId} (header X-Spigot-Smoke; the drain deletes it without calling Jenkins)`,
  ].join('\n');
}

/** One line per check: status, phase, check, detail. */
export function formatDoctor(report: DoctorReport): string {
  const width = Math.max(...report.checks.map((c) => c.check.length));
  const lines = report.checks.map((c) => `${c.status.padEnd(4)}  ${c.phase.padEnd(6)}  ${c.check.padEnd(width)}  ${c.detail}`);
  const failed = report.checks.filter((c) => c.status === 'fail').length;
  const warned = report.checks.filter((c) => c.status === 'warn').length;
  return [...lines, `${report.checks.length} checks: ${failed} failed, ${warned} warnings`].join('\n');
}
