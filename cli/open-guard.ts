/**
 * Whether `spigot open` may reopen the spigot as it stands, or must refuse without --force.
 *
 * Free to open: a spigot already open, a close the drain still owns (recognised exactly as the drain
 * recognises it, `drainOwnsClose` on the newest version), and the operator's own close through this CLI.
 * Anything else is someone else's close in force: a person's, or an auto-close somebody has since
 * written over (the drain no longer owns it, and neither does the opener).
 */
import { drainOwnsClose } from '../functions/drain/core/spigot-state';
import type { SpigotReading } from './spigot';

export type OpenVerdict =
  | { readonly kind: 'free'; readonly why: 'already open' | "the drain's own auto-close" | 'your own close' }
  | { readonly kind: 'guarded'; readonly closedBy: string; readonly closedAt: string | null; readonly reason: string | null; readonly version: number | null };

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** True when the description is `closed by <operator> via spigot CLI` (with or without a reason). */
export function isOwnClose(description: string | null, operator: string): boolean {
  return description !== null && new RegExp(`^closed by ${escapeRegExp(operator)} via spigot CLI(:|$)`).test(description);
}

export function judgeOpen(reading: SpigotReading, operator: string): OpenVerdict {
  if (reading.state === 'open' && reading.recognised) return { kind: 'free', why: 'already open' };
  const description = reading.reason ?? undefined;
  if (reading.version !== null && drainOwnsClose({ value: reading.value, version: reading.version, description })) {
    return { kind: 'free', why: "the drain's own auto-close" };
  }
  if (isOwnClose(reading.reason, operator)) return { kind: 'free', why: 'your own close' };
  return { kind: 'guarded', closedBy: reading.changedBy ?? 'an unknown identity', closedAt: reading.changedAt, reason: reading.reason, version: reading.version };
}
