/**
 * `spigot dlq redrive`: moves dead letters back into the buffer, keeping each repository's order.
 *
 * For every message: SendMessage to the buffer (same body, same MessageGroupId,
 * MessageDeduplicationId `redrive:<DLQ message id>`), then DeleteMessage from the DLQ. A failure or crash
 * between the two leaves the message in both queues: duplicated, never lost. Re-running within SQS's
 * five-minute deduplication window does not even duplicate it, because the DLQ message id (and so the
 * dedup id) is the same. Using the DLQ message id rather than the sender's delivery id means a delivery that
 * dead-letters again and is redriven again minutes later is not silently swallowed by deduplication.
 *
 * Order: a FIFO receive returns each group's messages in order and locks the group while they are in
 * flight, so handling each batch group by group, strictly one message at a time, and deleting before the
 * next receive, appends each group to the buffer in its original order. When one message of a group fails,
 * the rest of that group is left untouched (made visible again) and the command fails.
 *
 * Copies: a poison message whose buffer delete was lost is dead-lettered again later, so the DLQ can hold
 * two copies of one webhook (same body, same SpigotOriginalMessageId). A copy whose body was already moved
 * in this run is deleted from the DLQ without being redriven again, unless it descends from a buffer message
 * this run created: then the drain is dead-lettering redriven webhooks again and the run stops.
 */
import { createHash } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { DEAD_LETTER_ATTRIBUTES } from '../../functions/shared/dead-letter-attributes';
import { CliError, describeError, step } from '../errors';
import { releaseMessages } from './dlq-list';
import { queueDepth } from './status';

export interface RedriveOptions {
  readonly dlqUrl: string;
  readonly queueUrl: string;
  /** Seconds a received batch stays hidden while it is moved. @default 60 */
  readonly visibilityTimeoutSeconds?: number;
  readonly progress?: (message: string) => void;
}

export interface RedriveResult {
  readonly dlqUrl: string;
  readonly queueUrl: string;
  readonly moved: number;
  /** Second copies of webhooks moved in this run, deleted from the DLQ without a second redrive. */
  readonly duplicatesDropped: number;
  /** Moved per MessageGroupId. */
  readonly groups: Record<string, number>;
  /** Dead letters still in the DLQ after the run (approximate). */
  readonly remaining: number;
  /** Why the run stopped before the DLQ was empty, or null. */
  readonly stoppedBecause: string | null;
}

/**
 * The buffer message a dead letter was made from: the drain's copy names it in SpigotOriginalMessageId;
 * a message SQS itself moved keeps its message id, and FIFO sets its deduplication id to it.
 */
function originIds(message: Message): string[] {
  const named = message.MessageAttributes?.[DEAD_LETTER_ATTRIBUTES.originalMessageId.name]?.StringValue;
  return [named, message.MessageId, message.Attributes?.MessageDeduplicationId].filter((id): id is string => id !== undefined);
}

/** SQS caps MessageDeduplicationId at 128 characters from [A-Za-z0-9 punctuation]. */
export const redriveDeduplicationId = (message: Message): string => `redrive:${message.MessageId}`.slice(0, 128);

export async function dlqRedrive(clients: { sqs: SQSClient }, options: RedriveOptions): Promise<RedriveResult> {
  const { sqs } = clients;
  const groups: Record<string, number> = {};
  const done = new Set<Message>();
  const notDone = (batch: readonly Message[]): Message[] => batch.filter((m) => !done.has(m));
  // Bodies moved in this run, and the buffer messages the moves created.
  const movedBodies = new Set<string>();
  const createdInBuffer = new Set<string>();
  let stoppedBecause: string | null = null;
  let moved = 0;
  let duplicatesDropped = 0;
  /** Deletes a handled dead letter; on failure hands the rest of the batch back and fails with `what` and `consequence`. */
  const deleteFromDlq = async (message: Message, group: string, batch: readonly Message[], what: string, consequence: string): Promise<void> => {
    try {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: options.dlqUrl, ReceiptHandle: message.ReceiptHandle! }));
    } catch (error) {
      await releaseMessages(sqs, options.dlqUrl, notDone(batch));
      throw new CliError(`dead letter ${message.MessageId} (group ${group}) ${what} but deleting it from the DLQ failed after moving ${moved}: ${describeError(error)}; ${consequence}`);
    }
    done.add(message);
  };
  for (;;) {
    const { Messages: batch = [] } = await step(`receiving from the dead-letter queue ${options.dlqUrl} (sqs:ReceiveMessage)`, () =>
      sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.dlqUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 60,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
          MessageAttributeNames: [DEAD_LETTER_ATTRIBUTES.originalMessageId.name],
        }),
      ),
    );
    if (batch.length === 0) break;

    // Group the batch, keeping the order SQS returned within each group.
    const byGroup = new Map<string, Message[]>();
    for (const message of batch) {
      const group = message.Attributes?.MessageGroupId;
      if (group === undefined) {
        await releaseMessages(sqs, options.dlqUrl, batch);
        throw new CliError(`dead letter ${message.MessageId} has no MessageGroupId: ${options.dlqUrl} is not a FIFO queue? nothing more was moved`);
      }
      byGroup.set(group, [...(byGroup.get(group) ?? []), message]);
    }

    for (const [group, messages] of byGroup) {
      for (const message of messages) {
        if (originIds(message).some((id) => createdInBuffer.has(id))) {
          stoppedBecause = `dead letter ${message.MessageId} (group ${group}) was moved to the buffer in this run and came back: the drain is dead-lettering redriven webhooks again; fix the cause (see \`spigot dlq list\`) before redriving`;
          break;
        }
        const bodyKey = createHash('sha256').update(message.Body ?? '').digest('hex');
        if (movedBodies.has(bodyKey)) {
          await deleteFromDlq(message, group, batch, 'is a second copy of a webhook already moved in this run',
            'a later redrive would deliver that webhook twice; `spigot dlq list` shows the copy');
          duplicatesDropped++;
          options.progress?.(`dropped duplicate dead letter ${message.MessageId} (group ${group}): a copy of a webhook already moved in this run`);
          continue;
        }
        let sent: { MessageId?: string };
        try {
          sent = await sqs.send(
            new SendMessageCommand({
              QueueUrl: options.queueUrl,
              MessageBody: message.Body!,
              MessageGroupId: group,
              MessageDeduplicationId: redriveDeduplicationId(message),
            }),
          );
        } catch (error) {
          await releaseMessages(sqs, options.dlqUrl, notDone(batch));
          throw new CliError(
            `sending dead letter ${message.MessageId} (group ${group}) to the buffer failed after moving ${moved}: ${describeError(error)}; ` +
              'it and the rest of its group stay in the DLQ in order; re-run `spigot dlq redrive` when the cause is fixed',
          );
        }
        if (sent.MessageId) createdInBuffer.add(sent.MessageId);
        await deleteFromDlq(message, group, batch, 'was copied to the buffer',
          're-running within 5 minutes is safe (SQS deduplicates the copy); later it may be delivered twice');
        movedBodies.add(bodyKey);
        moved++;
        groups[group] = (groups[group] ?? 0) + 1;
        options.progress?.(`moved ${moved} dead letter(s) back to the buffer`);
      }
      if (stoppedBecause !== null) break;
    }
    if (stoppedBecause !== null) {
      await releaseMessages(sqs, options.dlqUrl, notDone(batch));
      break;
    }
    done.clear();
  }
  const remaining = await queueDepth(sqs, options.dlqUrl, 'dead-letter queue');
  return { dlqUrl: options.dlqUrl, queueUrl: options.queueUrl, moved, duplicatesDropped, groups, remaining: remaining.visible + remaining.inFlight, stoppedBecause };
}
