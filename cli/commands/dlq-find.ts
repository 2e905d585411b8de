/**
 * Every dead letter, one by id, and dropping one: a look without moving anything first (SQS has no
 * peek: receive, then make visible again), and a pass through the DLQ (dlq-pass.ts) only when FIFO hid
 * some repository's later dead letters from that look.
 */
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import { decodeEnvelope } from '../../functions/shared/envelope';
import { CliError } from '../errors';
import { dlqList, type DeadLetter, type DlqListing } from './dlq-list';
import { decidedCount, dlqPass } from './dlq-pass';

export interface FullListing extends DlqListing {
  /** `look`: every dead letter was seen without moving any; `pass`: the DLQ was gone through, each moved to its back. */
  readonly method: 'look' | 'pass';
}

const notice = (progress?: (m: string) => void) =>
  progress?.("FIFO hides some repositories' later dead letters: going through the DLQ, moving each to its back in order ...");

export async function dlqListAll(clients: { sqs: SQSClient }, options: { dlqUrl: string; progress?: (m: string) => void }): Promise<FullListing> {
  const look = await dlqList(clients, { dlqUrl: options.dlqUrl, max: Number.MAX_SAFE_INTEGER, progress: options.progress });
  if (!look.partial) return { ...look, method: 'look' };
  notice(options.progress);
  const pass = await dlqPass(clients, { dlqUrl: options.dlqUrl, decide: () => 'keep', progress: options.progress });
  const deadLetters = pass.visited.map((v) => v.deadLetter);
  return { dlqUrl: options.dlqUrl, deadLetters, approximateTotal: look.approximateTotal, partial: false, method: 'pass' };
}

/** A dead letter by the sender's delivery id (what GitHub shows), API Gateway's request id, or its SQS message id. */
export const matchesId = (deadLetter: DeadLetter, id: string): boolean =>
  deadLetter.deliveryId === id || deadLetter.requestId === id || deadLetter.messageId === id;

export interface FoundDeadLetter {
  readonly deadLetter: DeadLetter;
  /** The message as received, body included: only for `show`, never printed without --body. */
  readonly message: Message;
}

/** Every dead letter matching `id`, with its message. */
export async function findDeadLetters(clients: { sqs: SQSClient }, options: { dlqUrl: string; id: string; progress?: (m: string) => void }): Promise<FoundDeadLetter[]> {
  const found: FoundDeadLetter[] = [];
  const look = await dlqList(clients, {
    dlqUrl: options.dlqUrl,
    max: Number.MAX_SAFE_INTEGER,
    progress: options.progress,
    onMessage: (deadLetter, message) => {
      if (matchesId(deadLetter, options.id)) found.push({ deadLetter, message });
    },
  });
  // More may hide behind a match (a redelivery shares the delivery id): only a complete look is the answer.
  if (!look.partial) return found;
  found.length = 0;
  notice(options.progress);
  await dlqPass(clients, {
    dlqUrl: options.dlqUrl,
    progress: options.progress,
    decide: (deadLetter, message) => {
      if (matchesId(deadLetter, options.id)) found.push({ deadLetter, message });
      return 'keep';
    },
  });
  return found;
}

/** One line per candidate, for "which one?" errors. */
const candidates = (found: readonly FoundDeadLetter[]): string =>
  found.map(({ deadLetter: d }) => `request ${d.requestId ?? '?'} (${d.repository ?? d.group ?? '?'}, ${d.event ?? '?'}, received ${d.receivedAt ?? '?'})`).join('; ');

/** Exactly one match, or a CliError saying none or which ones. */
export function onlyMatch(found: readonly FoundDeadLetter[], id: string): FoundDeadLetter {
  if (found.length === 0) throw new CliError(`no dead letter has the delivery id, request id or message id ${id} (\`spigot dlq list\` shows them)`);
  if (found.length > 1) {
    throw new CliError(`${found.length} dead letters match ${id} (a redelivery reuses the delivery id): name one by its request id: ${candidates(found)}`);
  }
  return found[0]!;
}

export interface DropResult {
  readonly dropped: DeadLetter;
  /** Dead letters of the same repository moved to the back of the DLQ (in order) to reach it. */
  readonly keptInOrder: number;
}

/**
 * Deletes the one dead letter `target` names, found by its request id (unique per accepted request).
 * Only its repository is gone through; the others are left as they are.
 */
export async function dlqDrop(clients: { sqs: SQSClient }, options: { dlqUrl: string; target: DeadLetter; progress?: (m: string) => void }): Promise<DropResult> {
  const { target } = options;
  const isTarget = (d: DeadLetter): boolean =>
    target.requestId !== null ? d.requestId === target.requestId && d.group === target.group : d.messageId === target.messageId;
  const pass = await dlqPass(clients, {
    dlqUrl: options.dlqUrl,
    progress: options.progress,
    decide: (d) => (d.group !== target.group ? 'leave' : isTarget(d) ? 'drop' : 'keep'),
  });
  const dropped = pass.visited.filter((v) => v.decision === 'drop');
  if (dropped.length === 0) throw new CliError(`dead letter ${target.requestId ?? target.messageId} was not found in the DLQ any more (redriven or dropped meanwhile?); nothing was dropped`);
  return { dropped: dropped[0]!.deadLetter, keptInOrder: decidedCount(pass, 'keep') };
}

/** Header names whose values are credentials or signatures: shown as (redacted). */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-gitlab-token', 'x-hub-signature', 'x-hub-signature-256', 'x-gitea-signature', 'x-gogs-signature', 'x-hook-uuid-signature']);
/** Query parameters that carry tokens (the Generic Webhook Trigger's `token`). */
const SECRET_QUERY = new Set(['token', 'secret', 'api_key', 'apikey']);

export interface DeadLetterDetails {
  readonly deadLetter: DeadLetter;
  readonly headers: Array<[string, string]>;
  readonly query: Array<[string, string]>;
  readonly bodyBytes: number | null;
  /** Only when asked for (--body). */
  readonly body?: string;
}

export function deadLetterDetails(found: FoundDeadLetter, withBody: boolean): DeadLetterDetails {
  let envelope;
  try {
    envelope = decodeEnvelope(found.message.Body ?? '');
  } catch {
    return { deadLetter: found.deadLetter, headers: [], query: [], bodyBytes: null };
  }
  const redact = (secret: Set<string>) => ([name, value]: readonly [string, string]): [string, string] => [name, secret.has(name.toLowerCase()) ? '(redacted)' : value];
  return {
    deadLetter: found.deadLetter,
    headers: envelope.headers.map(redact(SECRET_HEADERS)),
    query: envelope.query.map(redact(SECRET_QUERY)),
    bodyBytes: envelope.body.length,
    ...(withBody ? { body: envelope.body.toString('utf8') } : {}),
  };
}
