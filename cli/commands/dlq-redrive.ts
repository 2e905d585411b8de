/**
 * `spigot dlq redrive [--repo] [--status] [--event] [--since]`: moves dead letters back into the buffer,
 * keeping each repository's order, in one pass through the DLQ (dlq-pass.ts).
 *
 * For every dead letter that matches: SendMessage to the buffer (same body, same MessageGroupId,
 * MessageDeduplicationId `redrive:<DLQ message id>`), then DeleteMessage from the DLQ. A failure or crash
 * between the two leaves the message in both queues: duplicated, never lost. Re-running within SQS's
 * five-minute deduplication window does not even duplicate it, because the DLQ message id (and so the
 * dedup id) is the same. Using the DLQ message id rather than the sender's delivery id means a delivery that
 * dead-letters again and is redriven again minutes later is not silently swallowed by deduplication.
 *
 * Order: the pass visits each repository's dead letters in order and moves them one at a time, so each
 * repository is appended to the buffer in its original order. Dead letters of a matching repository that
 * do not match the other filters go to the back of the DLQ, in order; other repositories are not touched.
 *
 * Copies: a poison message whose buffer delete was lost is dead-lettered again later, so the DLQ can hold
 * two copies of one webhook (same body). A copy whose body was already moved in this run is deleted from
 * the DLQ without being redriven again, unless it descends from a buffer message this run created: then
 * the drain is dead-lettering redriven webhooks again and the run stops.
 */
import { createHash } from 'node:crypto';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../functions/shared/dead-letter-attributes';
import type { DeadLetter } from './dlq-list';
import { decidedCount, dlqPass } from './dlq-pass';
import { queueDepth } from './status';

export interface RedriveFilter {
  /** owner/name, any case. */
  readonly repo?: string;
  /** An HTTP status (`404`), a class (`4xx`), or `none` for dead letters SQS moved (no status). */
  readonly status?: string;
  /** The event header's value (`push`), any case. */
  readonly event?: string;
  /** Epoch ms: only webhooks API Gateway received at or after it. */
  readonly since?: number;
  /** Text the reason contains, any case (`signature mismatch`, `Jenkins answered 404`). */
  readonly reason?: string;
}

export interface RedriveOptions {
  readonly dlqUrl: string;
  readonly queueUrl: string;
  readonly filter?: RedriveFilter;
  /** Seconds a received batch stays hidden while it is moved. @default 120 */
  readonly visibilityTimeoutSeconds?: number;
  readonly progress?: (message: string) => void;
}

export interface RedriveResult {
  readonly dlqUrl: string;
  readonly queueUrl: string;
  readonly filter: RedriveFilter;
  readonly moved: number;
  /** Second copies of webhooks moved in this run, deleted from the DLQ without a second redrive. */
  readonly duplicatesDropped: number;
  /** Dead letters of matching repositories that did not match the other filters: sent to the back of the DLQ, in order. */
  readonly kept: number;
  /** Moved per MessageGroupId. */
  readonly groups: Record<string, number>;
  /** Dead letters still in the DLQ after the run (approximate). */
  readonly remaining: number;
  /** Why the run stopped before the DLQ was gone through, or null. */
  readonly stoppedBecause: string | null;
}

/** `match`, `other-repository` (leave that repository alone), or `no`. Pure. */
export function matchFilter(deadLetter: DeadLetter, filter: RedriveFilter): 'match' | 'other-repository' | 'no' {
  if (filter.repo !== undefined && deadLetter.repository?.toLowerCase() !== filter.repo.toLowerCase()) return 'other-repository';
  if (filter.status !== undefined) {
    const wanted = filter.status.toLowerCase();
    const status = deadLetter.status;
    const ok = wanted === 'none' ? status === null : /^[1-5]xx$/.test(wanted) ? status?.[0] === wanted[0] : status === wanted;
    if (!ok) return 'no';
  }
  if (filter.event !== undefined && deadLetter.event?.toLowerCase() !== filter.event.toLowerCase()) return 'no';
  if (filter.since !== undefined && (deadLetter.receivedAt === null || Date.parse(deadLetter.receivedAt) < filter.since)) return 'no';
  if (filter.reason !== undefined && !deadLetter.reason.toLowerCase().includes(filter.reason.toLowerCase())) return 'no';
  return 'match';
}

/**
 * The buffer message a dead letter was made from: the drain's copy names it in SpigotOriginalMessageId;
 * a message SQS itself moved keeps its message id, and FIFO sets its deduplication id to it.
 */
function originIds(message: Message): string[] {
  const named = message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.originalMessageId.name]?.StringValue;
  return [named, message.MessageId, message.Attributes?.MessageDeduplicationId].filter((id): id is string => id !== undefined);
}

const bodyKey = (message: Message): string => createHash('sha256').update(message.Body ?? '').digest('hex');

export async function dlqRedrive(clients: { sqs: SQSClient }, options: RedriveOptions): Promise<RedriveResult> {
  const filter = options.filter ?? {};
  const groups: Record<string, number> = {};
  const movedBodies = new Set<string>();
  const createdInBuffer = new Set<string>();
  let stoppedBecause: string | null = null;
  let duplicatesDropped = 0;
  const pass = await dlqPass(clients, {
    dlqUrl: options.dlqUrl,
    queueUrl: options.queueUrl,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    decide: (deadLetter, message) => {
      const group = deadLetter.group ?? '?';
      if (originIds(message).some((id) => createdInBuffer.has(id))) {
        stoppedBecause = `dead letter ${message.MessageId} (group ${group}) was moved to the buffer in this run and came back: the drain is dead-lettering redriven webhooks again; fix the cause (see \`spigot dlq list\`) before redriving`;
        return 'stop';
      }
      const match = matchFilter(deadLetter, filter);
      if (match === 'other-repository') return 'leave';
      if (match === 'no') return 'keep';
      if (movedBodies.has(bodyKey(message))) return 'drop';
      return 'move';
    },
    onDone: (entry, message) => {
      const group = entry.deadLetter.group ?? '?';
      if (entry.decision === 'drop') {
        duplicatesDropped++;
        options.progress?.(`dropped duplicate dead letter ${message.MessageId} (group ${group}): a copy of a webhook already moved in this run`);
      } else if (entry.decision === 'move') {
        movedBodies.add(bodyKey(message));
        if (entry.movedAs) createdInBuffer.add(entry.movedAs);
        groups[group] = (groups[group] ?? 0) + 1;
        options.progress?.(`moved ${Object.values(groups).reduce((a, b) => a + b, 0)} dead letter(s) back to the buffer`);
      }
    },
  });
  const remaining = await queueDepth(clients.sqs, options.dlqUrl, 'dead-letter queue');
  return {
    dlqUrl: options.dlqUrl,
    queueUrl: options.queueUrl,
    filter,
    moved: decidedCount(pass, 'move'),
    duplicatesDropped,
    kept: decidedCount(pass, 'keep'),
    groups,
    remaining: remaining.visible + remaining.inFlight,
    stoppedBecause,
  };
}
