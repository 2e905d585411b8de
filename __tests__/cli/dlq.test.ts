import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { dlqRedrive } from '../../cli/commands/dlq-redrive';
import { BufferQueueClient } from '../../functions/drain/adapters/buffer-queue';
import { decodeEnvelope, encodeEnvelope, headerValue } from '../../functions/shared/envelope';
import { createBufferQueues, queueDepth, startFauxqs, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';

const BODY_MARKER = 'TOP-SECRET-BODY-MARKER';

function envelope(repo: string, n: number, event = 'push', requestId = `req-${repo}-${n}`): string {
  return encodeEnvelope({
    version: 1,
    requestId,
    receivedAt: Date.UTC(2025, 0, 2, 3, 4, n),
    sourceIp: '192.0.2.1',
    route: '/github-webhook/',
    query: [],
    headers: [
      ['Content-Type', 'application/json'],
      ['x-github-event', event],
      ['X-GitHub-Delivery', `delivery-${repo.replace('/', '-')}-${n}`],
    ],
    body: Buffer.from(JSON.stringify({ repository: { full_name: repo }, n, note: BODY_MARKER }), 'utf8'),
  });
}

interface DrainCopy {
  readonly status: string;
  readonly reason: string;
  /** The buffer message the drain dead-lettered (SpigotOriginalMessageId). */
  readonly originalMessageId?: string;
}

async function deadLetter(
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
              SpigotStatus: { DataType: 'String', StringValue: drain.status },
              SpigotReason: { DataType: 'String', StringValue: drain.reason },
              ...(drain.originalMessageId ? { SpigotOriginalMessageId: { DataType: 'String', StringValue: drain.originalMessageId } } : {}),
            },
          }
        : {}),
    }),
  );
}

/** Reads the whole buffer in FIFO order (receive, delete), returning [group, n] pairs. */
async function drainBuffer(sqs: SQSClient, queueUrl: string): Promise<Array<[string, number]>> {
  const seen: Array<[string, number]> = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'] }),
    );
    if (Messages.length === 0) return seen;
    for (const m of Messages) {
      const env = decodeEnvelope(m.Body!);
      expect(m.Attributes!.MessageDeduplicationId).toMatch(/^redrive:/);
      expect(headerValue(env, 'X-GitHub-Event')).toBe('push');
      seen.push([m.Attributes!.MessageGroupId!, JSON.parse(env.body.toString('utf8')).n]);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
}

describe('spigot dlq', () => {
  let fauxqs: Fauxqs;
  let counter = 0;
  let queues: BufferQueues;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
    useEmulatorEnvironment({ sqs: fauxqs.endpoint });
  });
  afterAll(async () => {
    await fauxqs?.stop();
  });
  beforeEach(async () => {
    queues = await createBufferQueues(fauxqs.sqs, `cli-dlq-${++counter}`);
    env = cliEnv({ SPIGOT_QUEUE_URL: queues.queueUrl, SPIGOT_DLQ_URL: queues.dlqUrl });
  });

  it('when dead letters exist, list shows event, repository, status, reason, delivery id and received time, and no body', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, { status: '404', reason: 'Jenkins answered 404: no job for this repository' });
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/dog', 1);

    const human = await runCli(['dlq', 'list'], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/received\s+event\s+repository\s+status\s+reason\s+delivery/);
    const cat = human.stdout.split('\n').find((l) => l.includes('octo/cat'))!;
    expect(cat).toMatch(/2025-01-02T03:04:01.000Z\s+push\s+octo\/cat\s+404\s+Jenkins answered 404: no job for this repository\s+delivery-octo-cat-1/);
    const dog = human.stdout.split('\n').find((l) => l.includes('octo/dog'))!;
    expect(dog).toMatch(/push\s+octo\/dog\s+-\s+exceeded maxReceiveCount\s+delivery-octo-dog-1/);

    const json = await runCli(['dlq', 'list', '--json'], { env });
    const listing = JSON.parse(json.stdout);
    expect(listing.deadLetters).toHaveLength(2);
    expect(listing.deadLetters[0]).toMatchObject({
      event: 'push',
      group: 'repo:octo/cat',
      repository: 'octo/cat',
      status: '404',
      reason: 'Jenkins answered 404: no job for this repository',
      deliveryId: 'delivery-octo-cat-1',
      receivedAt: '2025-01-02T03:04:01.000Z',
      route: '/github-webhook/',
    });
    expect(listing.deadLetters[1]).toMatchObject({ repository: 'octo/dog', status: null, reason: 'exceeded maxReceiveCount' });
    for (const out of [human.stdout, json.stdout]) {
      expect(out).not.toContain(BODY_MARKER);
      expect(out).not.toContain(Buffer.from(BODY_MARKER).toString('base64').slice(0, 12));
      expect(out).not.toMatch(/"(Body|body|b)"\s*:/);
    }
  });

  it('when it lists, it makes the dead letters visible again right away', async () => {
    for (const repo of ['octo/a', 'octo/b', 'octo/c']) await deadLetter(fauxqs.sqs, queues.dlqUrl, repo, 1);
    expect((await runCli(['dlq', 'list'], { env })).code).toBe(0);
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 3, inFlight: 0 });
    const again = JSON.parse((await runCli(['dlq', 'list', '--json'], { env })).stdout);
    expect(again.deadLetters.map((d: { deliveryId: string }) => d.deliveryId)).toEqual(['delivery-octo-a-1', 'delivery-octo-b-1', 'delivery-octo-c-1']);
    expect(again.partial).toBe(false);
  });

  it('when --max is smaller than the queue, it lists only that many and says the listing is partial', async () => {
    for (const repo of ['octo/a', 'octo/b', 'octo/c']) await deadLetter(fauxqs.sqs, queues.dlqUrl, repo, 1);
    const result = await runCli(['dlq', 'list', '--max', '2'], { env });
    expect(result.stdout).toContain('2 listed of about 3');
    const bad = await runCli(['dlq', 'list', '--max', 'zero'], { env });
    expect(bad.code).toBe(2);
  });

  it('when one repository has several dead letters, it lists the first and says later ones are hidden by FIFO group locking', async () => {
    for (const n of [1, 2, 3]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n);
    const result = await runCli(['dlq', 'list', '--json'], { env });
    const listing = JSON.parse(result.stdout);
    // SQS returns up to 10 of a group per receive; fauxqs returns one. Either way the first comes first.
    expect(listing.deadLetters[0].deliveryId).toBe('delivery-octo-cat-1');
    expect(listing.approximateTotal).toBe(3);
    expect(listing.partial).toBe(listing.deadLetters.length < 3);
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 3, inFlight: 0 });
  });

  it('when the DLQ is empty, it says so', async () => {
    const result = await runCli(['dlq', 'list'], { env });
    expect(result).toMatchObject({ code: 0, stdout: 'the dead-letter queue is empty\n' });
  });

  it('when redriving, it restores each repository in its original order into the buffer and empties the DLQ', async () => {
    // Interleaved across two groups; one group larger than a receive batch (10).
    const sent: Array<[string, number]> = [];
    for (let n = 1; n <= 14; n++) {
      await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/big', n, { status: '500', reason: 'Jenkins 500 after 3 attempts' });
      sent.push(['repo:octo/big', n]);
      if (n % 4 === 0) {
        await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/small', n);
        sent.push(['repo:octo/small', n]);
      }
    }
    const result = await runCli(['dlq', 'redrive', '--yes'], { env });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('moved 17 dead letter(s) back to the buffer');
    expect(result.stdout).toContain('0 dead letter(s) remain');
    expect(result.stderr).toContain('moved 17 dead letter(s)');
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });

    const buffered = await drainBuffer(fauxqs.sqs, queues.queueUrl);
    const perGroup = (pairs: Array<[string, number]>, group: string): number[] => pairs.filter(([g]) => g === group).map(([, n]) => n);
    for (const group of ['repo:octo/big', 'repo:octo/small']) expect(perGroup(buffered, group)).toEqual(perGroup(sent, group));
    expect(buffered).toHaveLength(17);
  });

  it.each([
    ['the drain dead-lettered it twice (same SpigotOriginalMessageId)', { status: '404', reason: 'no job', originalMessageId: 'buffer-message-1' }],
    ['SQS moved one copy and the drain the other (same envelope)', undefined],
  ])('when the DLQ holds two copies of one webhook because %s, redrive moves it once, drops the copy and says so', async (_case, second) => {
    const first: DrainCopy = { status: '404', reason: 'no job', originalMessageId: 'buffer-message-1' };
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, first, { dedupId: 'dl:buffer-message-1' });
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, second, { dedupId: 'buffer-message-1' });
    // A redelivery of the same delivery is another accepted request (its own request id): not a copy.
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, first, { dedupId: 'dl:buffer-message-2', body: envelope('octo/cat', 1, 'push', 'req-redelivered') });
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 2);

    const result = await runCli(['dlq', 'redrive', '--yes'], { env });
    expect(result.stderr).not.toContain('came back');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('moved 3 dead letter(s) back to the buffer');
    expect(result.stdout).toContain('dropped 1 duplicate dead letter(s)');
    expect(result.stdout).toContain('0 dead letter(s) remain');
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 0, inFlight: 0 });
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual([['repo:octo/cat', 1], ['repo:octo/cat', 1], ['repo:octo/cat', 2]]);

    const json = JSON.parse((await runCli(['dlq', 'redrive', '--yes', '--json'], { env })).stdout);
    expect(json).toMatchObject({ moved: 0, duplicatesDropped: 0 });
  });

  it('when the drain dead-letters a redriven webhook again during the run, redrive stops and says so instead of dropping it', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, { status: '404', reason: 'no job', originalMessageId: 'buffer-message-1' });
    const drain = new BufferQueueClient(fauxqs.sqs, queues.queueUrl, queues.dlqUrl);
    // The drain runs right after the redrive's send: it receives the redriven webhook and dead-letters it again.
    const sqs = {
      send: async (command: unknown) => {
        const answer = await fauxqs.sqs.send(command as SendMessageCommand);
        if (command instanceof SendMessageCommand && command.input.QueueUrl === queues.queueUrl) {
          const [held] = await drain.receive(1, 0);
          await drain.deadLetter(held, { status: 404, reason: 'still no job' });
          await drain.deleteBatch([held]);
        }
        return answer;
      },
    } as unknown as SQSClient;
    const result = await dlqRedrive({ sqs }, { dlqUrl: queues.dlqUrl, queueUrl: queues.queueUrl });
    expect(result).toMatchObject({ moved: 1, duplicatesDropped: 0, remaining: 1 });
    expect(result.stoppedBecause).toMatch(/moved to the buffer in this run and came back: the drain is dead-lettering redriven webhooks again/);
  });

  it('when redrive runs without --yes and no terminal, it refuses with a usage error and moves nothing', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1);
    const result = await runCli(['dlq', 'redrive'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --yes to confirm');
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('when the operator declines the prompt, it moves nothing and exits 1', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1);
    const questions: string[] = [];
    const result = await runCli(['dlq', 'redrive'], {
      env,
      interactive: true,
      confirm: async (q) => {
        questions.push(q);
        return false;
      },
    });
    expect(questions[0]).toContain('move about 1 dead letter(s)');
    expect(result.code).toBe(1);
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
  });

  it('when sending to the buffer fails, it keeps the dead letter (and the rest of its group) in the DLQ and exits 1', async () => {
    for (const n of [1, 2]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n);
    const missingBuffer = queues.queueUrl.replace(/cli-dlq-\d+\.fifo$/, 'no-such-queue.fifo');
    const result = await runCli(['dlq', 'redrive', '--yes', '--queue-url', missingBuffer], { env });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^spigot: sending dead letter \S+ \(group repo:octo\/cat\) to the buffer failed after moving 0/);
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 2, inFlight: 0 });
    // And a later run still moves them in order.
    expect((await runCli(['dlq', 'redrive', '--yes'], { env })).code).toBe(0);
    expect(await drainBuffer(fauxqs.sqs, queues.queueUrl)).toEqual([['repo:octo/cat', 1], ['repo:octo/cat', 2]]);
  });
});
