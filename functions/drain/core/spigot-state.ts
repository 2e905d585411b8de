/** What the spigot parameter says, and what the drain writes back when it closes it. */
export type SpigotState = 'open' | 'closed';

export interface ParsedSpigotState {
  readonly state: SpigotState;
  /** False when the value was not recognised and the drain fails safe to closed. */
  readonly recognised: boolean;
}

const OPEN = new Set(['open', 'on']);
const CLOSED = new Set(['closed', 'off']);

/** `open`/`closed`, case-insensitive, with `on`/`off` as aliases. Anything else is closed. */
export function parseSpigotState(value: string | undefined): ParsedSpigotState {
  const normalised = (value ?? '').trim().toLowerCase();
  if (OPEN.has(normalised)) return { state: 'open', recognised: true };
  if (CLOSED.has(normalised)) return { state: 'closed', recognised: true };
  return { state: 'closed', recognised: false };
}

/** Descriptions the drain writes start with this, so it knows which closes were its own. */
export const AUTO_CLOSE_PREFIX = 'auto-closed by drain';

const PROBES_SUFFIX = '; healthy probes since: ';
/** SSM descriptions are limited to 1024 characters. */
const MAX_DESCRIPTION = 1024;

export function autoCloseDescription(reason: string, at: Date, healthyProbes = 0): string {
  // Shorten the reason, never the suffix: the reopen count lives at the end.
  const head = `${AUTO_CLOSE_PREFIX} at ${at.toISOString()}: `;
  const room = MAX_DESCRIPTION - head.length - PROBES_SUFFIX.length - Math.max(4, String(healthyProbes).length);
  return `${head}${reason.slice(0, Math.max(0, room))}${PROBES_SUFFIX}${healthyProbes}`;
}

export interface AutoCloseRecord {
  readonly healthyProbes: number;
}

/** Reads back a description the drain wrote; undefined when a person closed the spigot. */
export function parseAutoCloseDescription(description: string | undefined): AutoCloseRecord | undefined {
  if (!description?.startsWith(AUTO_CLOSE_PREFIX)) return undefined;
  const match = /healthy probes since: (\d+)$/.exec(description);
  return { healthyProbes: match ? Number(match[1]) : 0 };
}

export function withHealthyProbes(description: string, healthyProbes: number): string {
  return description.replace(/healthy probes since: \d+$/, `healthy probes since: ${healthyProbes}`);
}
