/**
 * Grouping received messages by repository (the FIFO MessageGroupId) while keeping
 * SQS's order inside each group. SQS already returns a group's messages in order and
 * locks the group while any are in flight; the drain must only never reorder them.
 */
export interface Sequenced {
  readonly groupId: string;
  readonly sequenceNumber: string;
}

export function compareSequence(a: string, b: string): number {
  // FIFO sequence numbers are up to 128-bit decimals: compare as big integers.
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Groups in first-seen order; each group's messages sorted by sequence number. */
export function groupByRepository<T extends Sequenced>(messages: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const message of messages) {
    const group = groups.get(message.groupId);
    if (group) group.push(message);
    else groups.set(message.groupId, [message]);
  }
  for (const group of groups.values()) group.sort((a, b) => compareSequence(a.sequenceNumber, b.sequenceNumber));
  return groups;
}
