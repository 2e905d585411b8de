/** The drain's own bookkeeping in the spigot parameter's description. */
import { MAX_DESCRIPTION_LENGTH } from '../../shared/spigot-state';

/** Descriptions the drain writes start with this, so it knows which closes were its own. */
export const AUTO_CLOSE_PREFIX = 'auto-closed by drain';

const PROBES_SUFFIX = '; healthy probes since: ';

export function autoCloseDescription(reason: string, at: Date, healthyProbes = 0): string {
  // Shorten the reason, never the suffix: the reopen count lives at the end.
  const head = `${AUTO_CLOSE_PREFIX} at ${at.toISOString()}: `;
  const room = MAX_DESCRIPTION_LENGTH - head.length - PROBES_SUFFIX.length - Math.max(4, String(healthyProbes).length);
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
