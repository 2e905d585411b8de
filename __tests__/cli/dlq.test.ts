import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { dlqRedrive } from '../../cli/commands/dlq-redrive';
import { BufferQueueClient } from '../../functions/drain/adapters/buffer-queue';
import { BODY_MARKER, deadLetter, drainBuffer, envelope, type DrainCopy } from './dead-letters';
import { queueDepth, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { cliEnv, runCli, runCliInTerminal, useCliEmulators } from './harness';

describe('spigot dlq', () => {
  const emulators = useCliEmulators('cli-dlq');
  let fauxqs: Fauxqs;
  let queues: BufferQueues;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    fauxqs = emulators.fauxqs();
    queues = emulators.queues();
    env = cliEnv({ SPIGOT_QUEUE_URL: queues.queueUrl, SPIGOT_DLQ_URL: queues.dlqUrl });
  });

  it('when dead letters exist, list shows event, repository, status, reason, delivery id and received time, and no body', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1, { status: '404', reason: 'Jenkins answered 404: no job for this repository' });
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/dog', 1);

    const human = await runCli(['dlq', 'list'], { env });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^received\s+route\s+repository\s+event\s+status\s+reason\s+delivery$/m);
    const cat = human.stdout.split('\n').find((l) => l.includes('octo/cat'))!;
    expect(cat).toMatch(/^2025-01-02T03:04:01.000Z\s+\/github-webhook\/\s+octo\/cat\s+push\s+404\s+Jenkins answered 404: no job for this repository\s+delivery-octo-cat-1$/);
    const dog = human.stdout.split('\n').find((l) => l.includes('octo/dog'))!;
    expect(dog).toMatch(/\/github-webhook\/\s+octo\/dog\s+push\s+-\s+exceeded maxReceiveCount\s+delivery-octo-dog-1$/);
    expect(human.stdout).toContain('2 dead letter(s); `spigot dlq show <delivery>` for one');

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

  it('when one repository has several dead letters, list shows all of them and leaves every repository in its original order', async () => {
    for (const n of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', n, { status: '404', reason: `no job ${n}` });
    for (const n of [1, 2]) await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/dog', n);
    const result = await runCli(['dlq', 'list', '--json'], { env });
    expect(result.code).toBe(0);
    const listing = JSON.parse(result.stdout);
    expect(listing).toMatchObject({ method: 'pass', partial: false, approximateTotal: 14 });
    const ids = (repo: string) => listing.deadLetters.filter((d: { repository: string }) => d.repository === repo).map((d: { deliveryId: string }) => d.deliveryId);
    expect(ids('octo/cat')).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `delivery-octo-cat-${n}`));
    expect(ids('octo/dog')).toEqual(['delivery-octo-dog-1', 'delivery-octo-dog-2']);
    expect(result.stderr).toContain("FIFO hides some repositories' later dead letters");
    // Nothing lost, nothing left hidden, attributes kept, and each repository still in its order.
    expect(await queueDepth(fauxqs.sqs, queues.dlqUrl)).toEqual({ visible: 14, inFlight: 0 });
    const again = JSON.parse((await runCli(['dlq', 'list', '--json'], { env })).stdout);
    expect(again.deadLetters.filter((d: { repository: string }) => d.repository === 'octo/cat').map((d: { reason: string }) => d.reason)).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12].map((n) => `no job ${n}`),
    );
    expect((await runCli(['dlq', 'redrive', '--yes'], { env })).code).toBe(0);
    const buffered = await drainBuffer(fauxqs.sqs, queues.queueUrl);
    expect(buffered.filter(([g]) => g === 'repo:octo/cat').map(([, n]) => n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(buffered.filter(([g]) => g === 'repo:octo/dog').map(([, n]) => n)).toEqual([1, 2]);
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

  it('when the operator declines the prompt on a terminal, it moves nothing and exits 1', async () => {
    await deadLetter(fauxqs.sqs, queues.dlqUrl, 'octo/cat', 1);
    const result = await runCliInTerminal(['dlq', 'redrive'], { env, input: 'n\n' });
    expect(result.stdout).toContain('move about 1 dead letter(s)');
    expect(result.stdout).toContain('redrive cancelled; nothing was moved');
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
