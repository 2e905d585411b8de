/**
 * The run lease that keeps to one drain run at a time without reserved concurrency, against
 * fauxqs (which implements FIFO group locking and visibility timeouts as SQS does).
 */
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import {
  LEASE_GROUP,
  LEASE_MARGIN_SECONDS,
  LEASE_RENEW_AFTER_MS,
  RunLease,
  leaseHoldSeconds,
  leaseMissing,
  leaseNeedsRenewal,
  leaseSettings,
} from '../../functions/drain/adapters/run-lease';
import { loadDrain } from '../support/drain-harness';
import { createBufferQueues, queueDepth, startFauxqs, type Fauxqs } from '../support/fauxqs';
import { startLoopbackJenkins, type LoopbackJenkins } from '../support/loopback-jenkins';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';

describe('run lease decisions', () => {
  it('when a run has time left, the lease is held for that time plus a margin, within SQS limits', () => {
    expect(leaseHoldSeconds(300_000)).toBe(300 + LEASE_MARGIN_SECONDS);
    expect(leaseHoldSeconds(1_200)).toBe(2 + LEASE_MARGIN_SECONDS);
    expect(leaseHoldSeconds(-5)).toBe(1 + LEASE_MARGIN_SECONDS);
    expect(leaseHoldSeconds(100 * 3600_000)).toBe(43200);
  });

  it('when nothing was received, only an empty queue means the lease message is missing', () => {
    expect(leaseMissing(0, 0)).toBe(true);
    expect(leaseMissing(0, 1)).toBe(false);
    expect(leaseMissing(2, 0)).toBe(false);
  });

  it('when the lease message is a day old, it is renewed before SQS retention could expire it', () => {
    expect(leaseNeedsRenewal(0, LEASE_RENEW_AFTER_MS - 1)).toBe(false);
    expect(leaseNeedsRenewal(0, LEASE_RENEW_AFTER_MS)).toBe(true);
  });

  it('when LEASE_WAIT_SECONDS is malformed, the cold start fails naming it; unset, there is no guard', () => {
    expect(leaseSettings({})).toEqual({ queueUrl: undefined, waitSeconds: 5 });
    expect(leaseSettings({ LEASE_QUEUE_URL: ' q ', LEASE_WAIT_SECONDS: '0' })).toEqual({ queueUrl: 'q', waitSeconds: 0 });
    expect(() => leaseSettings({ LEASE_WAIT_SECONDS: '21' })).toThrow(/LEASE_WAIT_SECONDS must be a whole number from 0 to 20/);
  });
});

describe('run lease on fauxqs', () => {
  let fauxqs: Fauxqs;
  let counter = 0;
  const newLeaseQueue = async (): Promise<string> => {
    counter += 1;
    const created = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: `lease-${counter}.fifo`, Attributes: { FifoQueue: 'true', MessageRetentionPeriod: '1209600' } }));
    return created.QueueUrl!;
  };
  const minute = () => 60_000;

  beforeAll(async () => {
    fauxqs = await startFauxqs();
  });
  afterAll(async () => {
    await fauxqs.stop();
  });

  it('when the lease queue is empty, the first run seeds the lease message and holds it', async () => {
    const url = await newLeaseQueue();
    const held = await new RunLease(fauxqs.sqs, url).acquire(0, minute);
    expect(held).toBeDefined();
    expect(await queueDepth(fauxqs.sqs, url)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('when one run holds the lease, a second run does not get it; once released, the next run does', async () => {
    const url = await newLeaseQueue();
    const first = await new RunLease(fauxqs.sqs, url).acquire(0, minute);
    expect(first).toBeDefined();
    expect(await new RunLease(fauxqs.sqs, url).acquire(0, minute)).toBeUndefined();
    await first!.release();
    const third = await new RunLease(fauxqs.sqs, url).acquire(0, minute);
    expect(third).toBeDefined();
    expect(await queueDepth(fauxqs.sqs, url)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('when the holder releases while another run waits, the waiting run gets the lease within its wait', async () => {
    const url = await newLeaseQueue();
    const first = await new RunLease(fauxqs.sqs, url).acquire(0, minute);
    const waiting = new RunLease(fauxqs.sqs, url).acquire(5, minute);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await first!.release();
    expect(await waiting).toBeDefined();
  });

  it('when the holder dies without releasing, the lease frees itself after the holder\'s deadline', async () => {
    const url = await newLeaseQueue();
    // A run with 1 s left holds the lease for 1 s + the margin.
    expect(await new RunLease(fauxqs.sqs, url).acquire(0, () => 1_000)).toBeDefined();
    expect(await new RunLease(fauxqs.sqs, url).acquire(0, minute)).toBeUndefined();
    const later = await new RunLease(fauxqs.sqs, url).acquire(LEASE_MARGIN_SECONDS + 3, minute);
    expect(later).toBeDefined();
  });

  it('when a duplicate lease message exists, FIFO group locking still gives the lease to one run only', async () => {
    const url = await newLeaseQueue();
    for (const id of ['a', 'b']) {
      await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageGroupId: LEASE_GROUP, MessageDeduplicationId: id, MessageBody: 'lease' }));
    }
    const holders = await Promise.all([1, 2, 3].map(() => new RunLease(fauxqs.sqs, url).acquire(0, minute)));
    expect(holders.filter(Boolean)).toHaveLength(1);
  });

  it('when the held lease message is old, releasing it replaces it with a fresh one', async () => {
    const url = await newLeaseQueue();
    const future = Date.now() + LEASE_RENEW_AFTER_MS + 60_000;
    const held = await new RunLease(fauxqs.sqs, url, () => future).acquire(0, minute);
    await held!.release();
    const next = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageSystemAttributeNames: ['MessageDeduplicationId'] }));
    expect(next.Messages?.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual([expect.stringMatching(/^renew-\d+$/)]);
  });
});

describe('the drain bundle with a run lease', () => {
  let fauxqs: Fauxqs;
  let jenkins: LoopbackJenkins;
  let ssm: LoopbackSsm;

  beforeAll(async () => {
    [fauxqs, jenkins, ssm] = await Promise.all([startFauxqs(), startLoopbackJenkins({}), startLoopbackSsm()]);
    ssm.putDirect('/lease/spigot', 'open');
    ssm.putDirect('/lease/drain-status', '{}');
  });
  afterAll(async () => {
    await Promise.all([fauxqs.stop(), jenkins.stop(), ssm.stop()]);
  });

  it('when another run holds the lease, a run does nothing, records nothing, and says it was skipped', async () => {
    const queues = await createBufferQueues(fauxqs.sqs, 'lease-bundle');
    const lease = await fauxqs.sqs.send(new CreateQueueCommand({ QueueName: 'lease-bundle-lease.fifo', Attributes: { FifoQueue: 'true' } }));
    const drain = loadDrain({
      jenkinsUrl: jenkins.url, queueUrl: queues.queueUrl, dlqUrl: queues.dlqUrl, parameterName: '/lease/spigot',
      sqsEndpoint: fauxqs.endpoint, ssmEndpoint: ssm.endpoint,
      extra: { LEASE_QUEUE_URL: lease.QueueUrl!, LEASE_WAIT_SECONDS: '0', DRAIN_STATUS_PARAMETER_NAME: '/lease/drain-status', MAX_RUN_SECONDS: '1' },
    });
    const other = await new RunLease(fauxqs.sqs, lease.QueueUrl!).acquire(0, () => 60_000);
    expect(other).toBeDefined();
    const skipped = await drain.invoke();
    expect(skipped.result).toEqual({ skipped: true, reason: 'another drain run is in progress' });
    expect(ssm.parameter('/lease/drain-status')?.value).toBe('{}');
    expect(skipped.output.some((line) => line.includes('"Released"'))).toBe(false);

    await other!.release();
    const ran = await drain.invoke();
    expect(ran.result).toMatchObject({ spigot: 'open', action: 'released' });
    expect(JSON.parse(ssm.parameter('/lease/drain-status')!.value)).toMatchObject({ action: 'released' });
    // The run handed the lease back: the next one gets it at once.
    expect(await new RunLease(fauxqs.sqs, lease.QueueUrl!).acquire(0, () => 60_000)).toBeDefined();
  });
});
