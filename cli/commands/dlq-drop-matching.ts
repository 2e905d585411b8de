/**
 * `spigot dlq drop --reason ... [--repo] [--status] [--event] [--since]`: deletes every dead letter
 * the filters match, for good, in one pass through the DLQ (dlq-pass.ts): the way to clear a flood
 * of forged deliveries (`--reason "signature mismatch"`). Dead letters of a matching repository that
 * do not match go to the back of the DLQ in order; other repositories are not touched.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UsageError } from '../errors';
import { decidedCount, dlqPass } from './dlq-pass';
import { matchFilter, type RedriveFilter } from './dlq-redrive';
import { queueDepth } from './status';

export interface DropMatchingResult {
  readonly dlqUrl: string;
  readonly filter: RedriveFilter;
  readonly dropped: number;
  /** Dropped per MessageGroupId. */
  readonly groups: Record<string, number>;
  /** Dead letters of matching repositories that did not match the other filters, kept in order. */
  readonly kept: number;
  /** Dead letters still in the DLQ after the run (approximate). */
  readonly remaining: number;
}

/** A filtered drop needs at least one filter: dropping every dead letter is never what a typo should do. */
export function assertNarrowed(filter: RedriveFilter): void {
  if (Object.values(filter).every((value) => value === undefined)) {
    throw new UsageError('say which dead letters to drop: an id, or filters such as --reason "signature mismatch" (with --repo, --status, --event, --since)');
  }
}

export async function dlqDropMatching(
  clients: { sqs: SQSClient },
  options: { dlqUrl: string; filter: RedriveFilter; progress?: (message: string) => void },
): Promise<DropMatchingResult> {
  assertNarrowed(options.filter);
  const groups: Record<string, number> = {};
  const pass = await dlqPass(clients, {
    dlqUrl: options.dlqUrl,
    progress: options.progress,
    decide: (deadLetter) => {
      const match = matchFilter(deadLetter, options.filter);
      return match === 'match' ? 'drop' : match === 'other-repository' ? 'leave' : 'keep';
    },
    onDone: (entry) => {
      if (entry.decision !== 'drop') return;
      const group = entry.deadLetter.group ?? '?';
      groups[group] = (groups[group] ?? 0) + 1;
    },
  });
  const remaining = await queueDepth(clients.sqs, options.dlqUrl, 'dead-letter queue');
  return { dlqUrl: options.dlqUrl, filter: options.filter, dropped: decidedCount(pass, 'drop'), groups, kept: decidedCount(pass, 'keep'), remaining: remaining.visible + remaining.inFlight };
}
