/** Durations and points in time as operators type them: `90s`, `5m`, `2h`, `1d`, `1h30m`, or an ISO time. */
import { InvalidArgumentError } from 'commander';

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** Seconds in `90s`, `5m`, `1h30m`, `2d`; a bare number is seconds. Undefined when it is not a duration. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (!/^(\d+(\.\d+)?[smhd])+$/.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)) seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  return seconds;
}

/** commander parser for a duration option, in seconds. */
export function durationOption(value: string): number {
  const seconds = parseDuration(value);
  if (seconds === undefined || seconds <= 0) throw new InvalidArgumentError('must be a duration such as 90s, 5m, 2h or 1d');
  return seconds;
}

/** commander parser for `--since`: a duration back from now (`2h`) or an ISO-8601 time; returns epoch ms. */
export function sinceOption(value: string, now: () => number = Date.now): number {
  const seconds = parseDuration(value);
  if (seconds !== undefined && seconds > 0) return now() - seconds * 1000;
  if (/^\d{4}-\d\d-\d\d/.test(value.trim())) {
    const at = Date.parse(value.trim());
    if (!Number.isNaN(at)) return at;
  }
  throw new InvalidArgumentError('must be a duration back from now (30m, 2h, 1d) or an ISO time (2026-05-04T10:00:00Z)');
}
