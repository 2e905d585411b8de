import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { progressLine, progressOf } from '../../cli/commands/wait';
import { progressReporter } from '../../cli/progress';
import type { BufferQueues, Fauxqs } from '../support/fauxqs';
import type { LoopbackSsm } from '../support/loopback-ssm';
import { cliEnv, runCli, runCliInTerminal, useCliEmulators } from './harness';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('spigot wait --drained', () => {
  const emulators = useCliEmulators('cli-wait', { ssm: true });
  let fauxqs: Fauxqs;
  let ssm: LoopbackSsm;
  let queues: BufferQueues;
  const parameter = '/cli-wait/spigot';
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    [fauxqs, ssm, queues] = [emulators.fauxqs(), emulators.ssm(), emulators.queues()];
    env = cliEnv({ SPIGOT_PARAMETER_NAME: parameter, SPIGOT_QUEUE_URL: queues.queueUrl });
    ssm.putDirect(parameter, 'open', { description: 'opened by alice via spigot CLI' });
  });

  const hold = async (count: number) => {
    for (let n = 0; n < count; n++) {
      await fauxqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.queueUrl, MessageBody: '{}', MessageGroupId: `repo:o/r${n}`, MessageDeduplicationId: `wait-${n}` }));
    }
  };
  /**
   * A stand-in drain: once the CLI has taken its first reading (its first SSM call) and a little more,
   * releases (receives and deletes) a couple of webhooks at a time until the buffer is empty.
   */
  const drainSlowly = async (startAfterMs: number) => {
    const before = ssm.calls.length;
    while (ssm.calls.length === before) await sleep(20);
    await sleep(startAfterMs);
    for (;;) {
      const { Messages = [] } = await fauxqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.queueUrl, MaxNumberOfMessages: 2 }));
      if (Messages.length === 0) return;
      await sleep(250);
      for (const m of Messages) await fauxqs.sqs.send(new DeleteMessageCommand({ QueueUrl: queues.queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  };

  it('when the buffer drains while it waits on a pipe, it prints plain timestamped lines as the count changes and exits 0', async () => {
    await hold(6);
    const [result] = await Promise.all([runCli(['wait', '--drained', '--interval', '0.2s', '--timeout', '30s'], { env }), drainSlowly(400)]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^drained: the buffer is empty \(released ~6 in \d+s\)\n$/);
    expect(result.stderr).not.toContain('\r');
    const lines = result.stderr.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\S+Z left \d+ \(\d+ in flight\), released ~\d+, /);
    expect(lines[0]).toMatch(/ left 6 \(0 in flight\), released ~0, rate not known yet, 0s elapsed$/);
    expect(lines[lines.length - 1]).toMatch(/ left 0 \(0 in flight\), released ~6, /);
    // Only changes are printed: far fewer lines than readings, and no two in a row alike.
    const counts = lines.map((l) => /left (\d+ \(\d+ in flight\))/.exec(l)![1]);
    counts.slice(1).forEach((c, i) => expect(c).not.toBe(counts[i]));
    expect(lines.some((l) => /\d+(\.\d)?\/s, about \d+s to go/.test(l))).toBe(true);
  });

  it('when attached to a terminal, it rewrites one progress line in place and ends it before the result', async () => {
    await hold(4);
    const [result] = await Promise.all([runCliInTerminal(['wait', '--drained', '--interval', '0.2s', '--timeout', '30s'], { env }), drainSlowly(400)]);
    expect(result.code).toBe(0);
    const rewrites = result.stdout.split('\r\u001b[2K').slice(1);
    expect(rewrites.length).toBeGreaterThan(3);
    expect(rewrites[0]).toMatch(/^left 4 \(0 in flight\), released ~0, rate not known yet, 0s elapsed/);
    expect(result.stdout).not.toMatch(/\d{4}-\d\d-\d\dT\S+Z left/); // no plain lines
    expect(result.stdout).toMatch(/left 0 \(0 in flight\), released ~4, [^\r]*\r\n(\r\n)?drained: the buffer is empty \(released ~4 in \d+s\)\r\n$/);
  });

  it('when the buffer is empty from the start, it still reads twice and exits 0 with --json', async () => {
    const result = await runCli(['wait', '--drained', '--interval', '0.2s', '--json'], { env });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ queueUrl: queues.queueUrl, drained: true, released: 0, elapsedSeconds: expect.any(Number) });
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1); // the second identical reading is not printed
  });

  it('when nothing drains before --timeout, it exits 3 saying how many are left', async () => {
    await hold(2);
    const result = await runCli(['wait', '--drained', '--interval', '0.2s', '--timeout', '1s'], { env });
    expect(result.code).toBe(3);
    expect(result.stderr.trimEnd().split('\n').pop()).toMatch(/^spigot: timed out after 1s: left 2 \(0 in flight\), released ~0, rate not known yet, 1s elapsed$/);
  });

  it('when the spigot is closed with webhooks held, it exits 3 at once saying who closed it', async () => {
    await hold(1);
    ssm.putDirect(parameter, 'closed', { description: 'closed by bob via spigot CLI: upgrade' });
    const result = await runCli(['wait', '--drained', '--timeout', '1h'], { env });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('spigot: the spigot is closed (closed by bob via spigot CLI: upgrade): 1 webhook(s) stay held until it is opened');
  });

  it('when --drained is missing, it is a usage error', async () => {
    const result = await runCli(['wait'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('say what to wait for: spigot wait --drained');
  });
});

describe('wait progress without AWS', () => {
  it('when the buffer shrinks, the rate comes from the last minute and the estimate from the rate', () => {
    const at = (s: number) => 1_000_000 + s * 1000;
    const samples = [
      { at: at(0), visible: 500, inFlight: 0 },
      { at: at(60), visible: 400, inFlight: 10 },
      { at: at(120), visible: 290, inFlight: 10 },
    ];
    const p = progressOf(samples);
    expect(p).toEqual({ elapsedSeconds: 120, left: 300, inFlight: 10, released: 200, ratePerSecond: 110 / 60, etaSeconds: 300 / (110 / 60) });
    expect(progressLine(p)).toBe('left 300 (10 in flight), released ~200, 1.8/s, about 2m to go, 2m elapsed');
    const growing = progressOf([{ at: at(0), visible: 5, inFlight: 0 }, { at: at(5), visible: 9, inFlight: 0 }]);
    expect(growing).toMatchObject({ released: 0, ratePerSecond: null, etaSeconds: null });
  });

  it('when on a pipe, unchanged lines wait for the 30 s heartbeat; on a terminal long lines are cut to the width', () => {
    let clock = 0;
    const written: string[] = [];
    const plain = progressReporter((t) => written.push(t), false, undefined, () => clock);
    plain.update('a', 'k1');
    plain.update('a', 'k1');
    clock = 31_000;
    plain.update('a', 'k1');
    plain.update('b', 'k2');
    plain.done();
    expect(written).toEqual(['1970-01-01T00:00:00.000Z a\n', '1970-01-01T00:00:31.000Z a\n', '1970-01-01T00:00:31.000Z b\n']);
    const tty: string[] = [];
    const terminal = progressReporter((t) => tty.push(t), true, 10);
    terminal.update('0123456789abc', 'x');
    terminal.done();
    terminal.done();
    expect(tty).toEqual(['\r\u001b[2K01234567…', '\n']);
  });
});
