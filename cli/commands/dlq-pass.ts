/**
 * One pass over every dead letter, each repository in its order: the way to reach a repository's later
 * dead letters, which FIFO hides while its first ones are in the queue.
 *
 * Each dead letter is visited once and then kept (copied to the back of the DLQ, then deleted), moved
 * (copied to the buffer, then deleted) or dropped (deleted). Copy first, delete second: a failure can
 * leave a webhook twice, never lose it. Every dead letter of a repository goes to the back once, in
 * order, so after the pass the kept ones are in their original order again. A repository is done when
 * this pass's own first copy comes round (its deduplication id names the pass): the copy counts no
 * bytes against the 1 MiB message size, unlike an attribute would.
 *
 * Limits: a dead letter that arrives for a repository while the pass is going through it lands between
 * that repository's copies; a pass interrupted by an SQS error leaves the repository it was in with its
 * first dead letters behind its later ones. Both are said in the runbook ("Dead letters").
 */
import { randomBytes } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type MessageAttributeValue,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { CliError, describeError, step } from '../errors';
import { describeDeadLetter, type DeadLetter } from './dlq-list';

/**
 * `leave`: this repository is not part of the pass (its dead letters stay as they are); only valid for a
 * repository's first dead letter in the pass, since leaving one half-way would leave it out of order.
 * `stop`: end the pass before this dead letter.
 */
export type PassDecision = 'keep' | 'move' | 'drop' | 'leave' | 'stop';

export interface PassOptions {
  readonly dlqUrl: string;
  /** Where `move` sends; required when anything may be moved. */
  readonly queueUrl?: string;
  /** Decides each dead letter, in each repository's order. `stop` ends the pass before this one. */
  readonly decide: (deadLetter: DeadLetter, message: Message) => PassDecision;
  /** Seconds a received batch stays hidden while it is handled. @default 120 */
  readonly visibilityTimeoutSeconds?: number;
  readonly progress?: (message: string) => void;
  /** Hears each dead letter once it was kept, moved (with the buffer message it became) or dropped. */
  readonly onDone?: (entry: PassResult['visited'][number], message: Message) => void;
}

export interface PassResult {
  /** Every dead letter visited, in the order visited (each repository in its order), with what became of it. */
  readonly visited: Array<{ readonly deadLetter: DeadLetter; readonly decision: 'keep' | 'move' | 'drop'; readonly movedAs?: string }>;
  readonly stoppedAt: DeadLetter | null;
}

/** How many dead letters the pass kept, moved or dropped. */
export const decidedCount = (pass: PassResult, decision: PassResult['visited'][number]['decision']): number =>
  pass.visited.filter((v) => v.decision === decision).length;

/** Deduplication ids are at most 128 characters. */
const dedupId = (prefix: string, message: Message): string => `${prefix}${message.MessageId}`.slice(0, 128);

/** Only the parts SendMessage takes (SQS does not accept the list forms). */
function copyAttributes(message: Message): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(message.MessageAttributes ?? {}).map(
    ([name, v]) => [name, { DataType: v.DataType, ...(v.StringValue !== undefined ? { StringValue: v.StringValue } : { BinaryValue: v.BinaryValue }) }] as const,
  );
  return entries.length === 0 ? undefined : Object.fromEntries(entries);
}

async function setVisible(sqs: SQSClient, queueUrl: string, messages: readonly Message[], seconds: number): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    await sqs
      .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle!, VisibilityTimeout: seconds })) }))
      .catch(() => undefined); // an expired handle is visible anyway
  }
}

export async function dlqPass(clients: { sqs: SQSClient }, options: PassOptions): Promise<PassResult> {
  const { sqs } = clients;
  const passId = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  const ours = `pass:${passId}:`;
  const visited: PassResult['visited'] = [];
  // This pass's own copies, and what queued behind them: hidden until the pass ends, then visible again.
  const parked: Message[] = [];
  const release = () => setVisible(sqs, options.dlqUrl, parked.splice(0), 0);
  try {
    for (;;) {
      const { Messages: batch = [] } = await step(`receiving from the dead-letter queue ${options.dlqUrl} (sqs:ReceiveMessage)`, () =>
        sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: options.dlqUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: options.visibilityTimeoutSeconds ?? 120,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        ),
      );
      if (batch.length === 0) break;
      const byGroup = new Map<string, Message[]>();
      for (const message of batch) {
        const group = message.Attributes?.MessageGroupId;
        if (group === undefined) {
          await setVisible(sqs, options.dlqUrl, batch, 0);
          throw new CliError(`dead letter ${message.MessageId} has no MessageGroupId: ${options.dlqUrl} is not a FIFO queue? nothing was changed`);
        }
        byGroup.set(group, [...(byGroup.get(group) ?? []), message]);
      }
      const handled = new Set<Message>();
      // Everything of this batch not yet handled nor parked, to hand back when the pass ends early.
      const unhandled = (): Message[] => batch.filter((m) => !handled.has(m) && !parked.includes(m));
      for (const [group, messages] of byGroup) {
        for (let i = 0; i < messages.length; i++) {
          const message = messages[i]!;
          if (message.Attributes?.MessageDeduplicationId?.startsWith(ours)) {
            parked.push(...messages.slice(i)); // the repository came round: done
            break;
          }
          const deadLetter = describeDeadLetter(message);
          const decision = options.decide(deadLetter, message);
          if (decision === 'stop') {
            await setVisible(sqs, options.dlqUrl, unhandled(), 0);
            return { visited, stoppedAt: deadLetter };
          }
          if (decision === 'leave') {
            if (visited.some((v) => v.deadLetter.group === group)) throw new Error(`internal: group ${group} left half-way through the pass`);
            parked.push(...messages.slice(i)); // hidden (so locked) until the pass ends: untouched
            break;
          }
          let movedAs: string | undefined;
          try {
            if (decision === 'keep') {
              await sqs.send(
                new SendMessageCommand({ QueueUrl: options.dlqUrl, MessageBody: message.Body!, MessageGroupId: group, MessageDeduplicationId: dedupId(ours, message), MessageAttributes: copyAttributes(message) }),
              );
            } else if (decision === 'move') {
              if (options.queueUrl === undefined) throw new Error('no buffer queue to move to');
              const sent = await sqs.send(
                new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: message.Body!, MessageGroupId: group, MessageDeduplicationId: dedupId('redrive:', message) }),
              );
              movedAs = sent.MessageId;
            }
          } catch (error) {
            await setVisible(sqs, options.dlqUrl, unhandled(), 0);
            const moved = visited.filter((v) => v.decision === 'move').length;
            const rotated = visited.some((v) => v.deadLetter.group === group && v.decision === 'keep')
              ? `; group ${group}'s dead letters before it now sit behind the rest (check the order before a redrive)`
              : '';
            throw new CliError(
              decision === 'move'
                ? `sending dead letter ${message.MessageId} (group ${group}) to the buffer failed after moving ${moved}: ${describeError(error)}; ` +
                    `it and the rest of its group stay in the DLQ in order; re-run \`spigot dlq redrive\` when the cause is fixed${rotated}`
                : `copying dead letter ${message.MessageId} (group ${group}) to the back of the DLQ failed after ${visited.length} in this pass: ${describeError(error)}; ` +
                    `it and the rest of its group are untouched${rotated}`,
            );
          }
          try {
            await sqs.send(new DeleteMessageCommand({ QueueUrl: options.dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
          } catch (error) {
            handled.add(message); // its copy exists; the original stays hidden until its visibility ends
            await setVisible(sqs, options.dlqUrl, unhandled(), 0);
            throw new CliError(
              `dead letter ${message.MessageId} (group ${group}) was copied but deleting it from the DLQ failed: ${describeError(error)}; ` +
                'it is there twice now (a later redrive drops the second copy)',
            );
          }
          handled.add(message);
          const entry = { deadLetter, decision, ...(movedAs ? { movedAs } : {}) };
          visited.push(entry);
          options.onDone?.(entry, message);
          options.progress?.(`went through ${visited.length} dead letter(s)...`);
        }
      }
    }
    return { visited, stoppedAt: null };
  } finally {
    await release();
  }
}
