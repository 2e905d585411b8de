/**
 * The drain's own bookkeeping in the spigot parameter's description, and who owns a close.
 *
 * SSM has no compare-and-set, and a description can be copied (a `put-parameter` without one
 * may carry the previous description forward). So the drain writes into its description the
 * version it wrote over, and a close is the drain's only while the parameter's current
 * version is exactly the one after that: any later write, by anyone, takes it over.
 */
import { MAX_DESCRIPTION_LENGTH } from '../../shared/spigot-state';

/** Descriptions the drain writes start with this. */
export const AUTO_CLOSE_PREFIX = 'auto-closed by drain';

const PROBES_SUFFIX = '; healthy probes since: ';

/** `auto-closed by drain at <time> over version <n>: <reason>; healthy probes since: <k>` */
export function autoCloseDescription(reason: string, at: Date, overVersion: number, healthyProbes = 0): string {
  // Shorten the reason, never the suffix: the reopen count lives at the end.
  const head = `${AUTO_CLOSE_PREFIX} at ${at.toISOString()} over version ${overVersion}: `;
  // Room for the count and the version to grow by a few digits when the close is rewritten.
  const growth = Math.max(0, 12 - String(overVersion).length) + Math.max(4, String(healthyProbes).length);
  const room = MAX_DESCRIPTION_LENGTH - head.length - PROBES_SUFFIX.length - growth;
  return `${head}${reason.slice(0, Math.max(0, room))}${PROBES_SUFFIX}${healthyProbes}`;
}

export interface AutoCloseRecord {
  readonly healthyProbes: number;
  /** The version the drain wrote this close over; undefined in descriptions from older drains. */
  readonly overVersion?: number;
}

/** Reads back a description in the drain's format; undefined for any other description. */
export function parseAutoCloseDescription(description: string | undefined): AutoCloseRecord | undefined {
  if (!description?.startsWith(AUTO_CLOSE_PREFIX)) return undefined;
  const probes = /healthy probes since: (\d+)$/.exec(description);
  const over = /^auto-closed by drain at \S+ over version (\d+): /.exec(description);
  return { healthyProbes: probes ? Number(probes[1]) : 0, ...(over ? { overVersion: Number(over[1]) } : {}) };
}

/** The same close, with a new probe count, to be written over `overVersion`. */
export function withHealthyProbes(description: string, healthyProbes: number, overVersion: number): string {
  return description
    .replace(/^(auto-closed by drain at \S+) over version \d+: /, `$1 over version ${overVersion}: `)
    .replace(/healthy probes since: \d+$/, `healthy probes since: ${healthyProbes}`);
}

export interface SpigotVersion {
  readonly value?: string;
  readonly version: number;
  readonly description?: string;
}

/**
 * The drain owns a closed spigot only when the current version is the one it wrote: its own
 * description, naming the version right before the current one.
 */
export function drainOwnsClose(current: SpigotVersion): AutoCloseRecord | undefined {
  const record = parseAutoCloseDescription(current.description);
  if (record?.overVersion === undefined || current.version !== record.overVersion + 1) return undefined;
  return record;
}
