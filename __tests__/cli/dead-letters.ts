/** Dead letters as the drain (or SQS) leaves them, for the dlq suites; bodies carry BODY_MARKER so leaks show. */
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { decodeEnvelope, encodeEnvelope, headerValue } from '../../functions/shared/envelope';

export const BODY_MARKER = 'TOP-SECRET-BODY-MARKER';

export function envelope(
  repo: string,
  n: number,
  event = 'push',
  requestId = `req-${repo}-${n}`,
  extra: { headers?: Array<[string, string]>; query?: Array<[string, string]>; receivedAt?: number } = {},
): string {
  return encodeEnvelope({
    version: 1,
    requestId,
    receivedAt: extra.receivedAt ?? Date.UTC(2025, 0, 2, 3, 4, n),
    sourceIp: '192.0.2.1',
    route: '/github-webhook/',
    query: extra.query ?? [],
    headers: [
      ['Content-Type', 'application/json'],
      ['x-github-event', event],
      ['X-GitHub-Delivery', `delivery-${repo.replace('/', '-')}-${n}`],
      ...(extra.headers ?? []),
    ],
    body: Buffer.from(JSON.stringify({ repository: { full_name: repo }, n, note: BODY_MARKER }), 'utf8'),
  });
}

export interface DrainCopy {
  /** Absent when Jenkins never answered (the drain's own checks: signature, envelope). */
  readonly status?: string;
  readonly reason: string;
  /** The buffer message the drain dead-lettered (SpigotOriginalMessageId). */
  readonly originalMessageId?: string;
}

export async function deadLetter(
  sqs: SQSClient,
  dlqUrl: string,
  repo: string,
  n: number,
  drain?: DrainCopy,
  copy: { dedupId?: string; body?: string } = {},
): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: dlqUrl,
      MessageBody: copy.body ?? envelope(repo, n),
      MessageGroupId: `repo:${repo}`,
      MessageDeduplicationId: copy.dedupId ?? `gh:1:delivery-${repo.replace('/', '-')}-${n}`,
      ...(drain
        ? {
            MessageAttributes: {
              ...(drain.status !== undefined ? { SpigotStatus: { DataType: 'String', StringValue: drain.status } } : {}),
              SpigotReason: { DataType: 'String', StringValue: drain.reason },
              ...(drain.originalMessageId ? { SpigotOriginalMessageId: { DataType: 'String', StringValue: drain.originalMessageId } } : {}),
            },
          }
        : {}),
    }),
  );
}

/** Reads the whole buffer in FIFO order (receive, delete), returning [group, n] pairs. */
export async function drainBuffer(sqs: SQSClient, queueUrl: string): Promise<Array<[string, number]>> {
  const seen: Array<[string, number]> = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'] }),
    );
    if (Messages.length === 0) return seen;
    for (const m of Messages) {
      const env = decodeEnvelope(m.Body!);
      expect(m.Attributes!.MessageDeduplicationId).toMatch(/^redrive:/);
      expect(headerValue(env, 'X-GitHub-Event')).toBeDefined();
      seen.push([m.Attributes!.MessageGroupId!, JSON.parse(env.body.toString('utf8')).n]);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}
