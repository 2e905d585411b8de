/**
 * When the drain-status parameter (what `spigot status` shows as the last run) is worth writing.
 * Pure. The agent runs every 2 s while the spigot is closed or the queue is empty, and writing each
 * of those would add a parameter version every 2 s to say the same thing. So a record that only
 * differs in its time is written once a minute (well inside the 5 minutes after which `status
 * --check` calls the drain not running), and any record that says something new is written at once.
 */
export const STATUS_REWRITE_MS = 60_000;

/** Fields that change with every run without saying anything new. */
const EVERY_RUN = new Set(['at', 'durationMs', 'trigger']);

export interface WrittenStatus {
  readonly record: Record<string, unknown>;
  readonly at: number;
}

export function statusWorthWriting(previous: WrittenStatus | undefined, record: Record<string, unknown>, now: number, rewriteMs = STATUS_REWRITE_MS): boolean {
  if (!previous || now - previous.at >= rewriteMs) return true;
  const keys = new Set([...Object.keys(previous.record), ...Object.keys(record)].filter((key) => !EVERY_RUN.has(key)));
  return [...keys].some((key) => JSON.stringify(previous.record[key]) !== JSON.stringify(record[key]));
}
