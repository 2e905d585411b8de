/**
 * How long a held repository stays hidden. Pure.
 *
 * Every receive of a message that is not deleted counts toward SQS's maxReceiveCount, so a
 * hold must never let a refused webhook be received again within seconds: each hold is at
 * least a floor that starts at about one schedule period and doubles with every receive, up
 * to a cap. What a refused webhook survives before SQS dead-letters it is then a matter of
 * time (see `survivalSeconds`), not of how often Jenkins said "busy".
 */

/** SQS visibility timeouts are whole seconds from 0 to 12 hours. */
export const MAX_VISIBILITY_SECONDS = 43200;

export interface HoldPolicy {
  /** Hold when Jenkins gives no Retry-After. @default 30 */
  readonly defaultHoldSeconds: number;
  /** The shortest hold: about one schedule period, so a held repository waits for the next run. @default 60 */
  readonly minHoldSeconds: number;
  /** Where the doubling floor stops. @default 300 */
  readonly maxHoldSeconds: number;
}

/** The floor for a message received `receiveCount` times: min, doubling per receive, capped. */
export function holdFloorSeconds(receiveCount: number, policy: HoldPolicy): number {
  const doublings = Math.min(30, Math.max(0, receiveCount - 1));
  return Math.min(Math.max(policy.minHoldSeconds, policy.maxHoldSeconds), policy.minHoldSeconds * 2 ** doublings);
}

/**
 * Seconds to hide a held repository: what Jenkins asked for (Retry-After) or the default,
 * never below the floor of its most-received message, never beyond SQS's limit.
 */
export function holdSeconds(retryAfterMs: number | undefined, receiveCount: number, policy: HoldPolicy): number {
  const asked = retryAfterMs === undefined ? policy.defaultHoldSeconds : Math.ceil(retryAfterMs / 1000);
  const seconds = Math.max(asked, holdFloorSeconds(receiveCount, policy), 1);
  return Math.min(MAX_VISIBILITY_SECONDS, seconds);
}

/**
 * SQS rejects a visibility timeout that reaches past 12 hours after the CURRENT receive
 * ("the next time it is received reverts to the original timeout"), so the window is
 * measured from when this run received the messages. A hold is never turned into 0 s.
 */
export function visibilityWithinWindow(seconds: number, receivedAt: readonly number[], now: number): number {
  const earliest = Math.min(now, ...receivedAt);
  const leftSeconds = MAX_VISIBILITY_SECONDS - Math.ceil((now - earliest) / 1000) - 1;
  return Math.max(1, Math.min(seconds, leftSeconds));
}

/**
 * The least time a webhook that Jenkins keeps refusing (busy, errors) survives before SQS's
 * redrive dead-letters it: every receive but the last is followed by at least its floor.
 */
export function survivalSeconds(maxReceiveCount: number, policy: HoldPolicy): number {
  let total = 0;
  for (let receive = 1; receive < maxReceiveCount; receive += 1) total += holdFloorSeconds(receive, policy);
  return total;
}
