/**
 * Shared wiring for the drain integration suites: an SQS emulator (fauxqs or LocalStack, see
 * support/sqs-backends.ts) behind a counting/faulting proxy,
 * the loopback SSM and Jenkins, webhooks accepted through the Edge (the synthesized API
 * Gateway templates) and the BUNDLED drain handler. Also the bookkeeping every scenario
 * asserts on: what was sent, what Jenkins accepted, what is in the DLQ.
 */
import { spawn } from 'node:child_process';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { decodeEnvelope, headerValue } from '../../../functions/shared/envelope';
import { startSqsBackend, type SqsBackend, type SqsEmulator } from '../../support/sqs-backends';
import { createBufferQueues, queueDepth, type BufferQueues } from '../../support/sqs-queues';
import { drainBundle, drainVariables, loadDrain, type DrainInvocation, type LoadedDrain } from '../../support/drain-harness';
import { Edge } from '../../support/edge';
import { startLoopbackJenkins, type JenkinsBehaviour, type LoopbackJenkins } from '../../support/loopback-jenkins';
import { startLoopbackSsm, type LoopbackSsm } from '../../support/loopback-ssm';
import { synthStack } from '../../support/synth';
import { githubDelivery, WEBHOOK_SECRET } from '../../support/webhooks';
import { startSqsProxy, type SqsProxy } from './sqs-proxy';

// Saved before any drain invocation swaps them, so a hung invocation can be cut loose.
const realStdoutWrite = process.stdout.write;
const realStderrWrite = process.stderr.write;

export const SCHEDULE_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event' };

export interface World {
  /** The SQS emulator; the Edge and the suites' own checks call it directly. */
  readonly emulator: SqsEmulator;
  readonly proxy: SqsProxy;
  readonly ssm: LoopbackSsm;
  readonly edge: Edge;
  stop(): Promise<void>;
}

export interface WorldOptions {
  /** @default 'fauxqs' */
  readonly sqs?: SqsBackend;
}

export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const [emulator, ssm] = await Promise.all([startSqsBackend(options.sqs ?? 'fauxqs'), startLoopbackSsm()]);
  const proxy = await startSqsProxy(emulator.endpoint);
  drainBundle();
  // The Edge writes straight to the emulator: only the drain's calls go through the proxy.
  const parsed = synthStack().parsed;
  const edge = new Edge(parsed, { endpoint: emulator.endpoint, queueUrl: 'set-per-cell' });
  return {
    emulator,
    proxy,
    ssm,
    edge,
    async stop() {
      await Promise.all([proxy.stop(), ssm.stop()]);
      await emulator.stop();
    },
  };
}

export interface SentDelivery {
  readonly repo: string;
  readonly deliveryId: string;
  readonly body: Buffer;
  readonly smoke?: boolean;
}

export interface Cell {
  readonly name: string;
  readonly queues: BufferQueues;
  readonly jenkins: LoopbackJenkins;
  readonly parameterName: string;
  readonly edge: Edge;
  readonly drain: LoadedDrain;
  readonly sent: SentDelivery[];
  /** Everything every invocation of this cell's drain printed. */
  readonly output: string[];
  readonly variables: Record<string, string>;
}

export interface CellOptions {
  readonly jenkinsBehaviour?: JenkinsBehaviour;
  readonly serviceTimeMs?: number;
  readonly visibilityTimeoutSeconds?: number;
  readonly spigot?: string;
  readonly spigotDescription?: string;
  /** Store Jenkins credentials and point JENKINS_CREDENTIALS_PARAMETER at them. */
  readonly credentials?: boolean;
  /** Store the webhook secret and point WEBHOOK_SECRET_PARAMETER at it. */
  readonly webhookSecret?: boolean;
  /** The secret the drain's parameter holds, when it differs from the senders' (a rotated secret). */
  readonly drainSecretValue?: string;
  /** The secret Jenkins verifies with, when it differs from the senders'. */
  readonly jenkinsSecret?: string | readonly string[];
  readonly extra?: Record<string, string>;
}

let cellCounter = 0;

export async function createCell(world: World, name: string, options: CellOptions = {}): Promise<Cell> {
  cellCounter += 1;
  const slug = `${name.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}-${cellCounter}`;
  const queues = await createBufferQueues(world.emulator.sqs, slug, { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 30 });
  const jenkins = await startLoopbackJenkins({ secret: options.jenkinsSecret ?? WEBHOOK_SECRET, serviceTimeMs: options.serviceTimeMs });
  const parameterName = `/spigot/${slug}`;
  world.ssm.putDirect(parameterName, options.spigot ?? 'open', { description: options.spigotDescription });
  const extra: Record<string, string> = { MAX_RUN_SECONDS: '2', ...options.extra };
  if (options.credentials) {
    world.ssm.putDirect(`${parameterName}/jenkins-credentials`, `${jenkins.user}:${jenkins.apiToken}`, { type: 'SecureString' });
    extra.JENKINS_CREDENTIALS_PARAMETER = `${parameterName}/jenkins-credentials`;
  }
  if (options.webhookSecret) {
    world.ssm.putDirect(`${parameterName}/webhook-secret`, options.drainSecretValue ?? WEBHOOK_SECRET, { type: 'SecureString' });
    extra.WEBHOOK_SECRET_PARAMETER = `${parameterName}/webhook-secret`;
  }
  const env = {
    jenkinsUrl: jenkins.url,
    queueUrl: queues.queueUrl,
    dlqUrl: queues.dlqUrl,
    parameterName,
    sqsEndpoint: world.proxy.endpoint,
    ssmEndpoint: world.ssm.endpoint,
    extra,
  };
  const drain = loadDrain(env);
  const edge = new Edge(synthStack().parsed, { endpoint: world.emulator.endpoint, queueUrl: queues.queueUrl });
  if (options.jenkinsBehaviour) await jenkins.setBehaviour(options.jenkinsBehaviour);
  return { name, queues, jenkins, parameterName, edge, drain, sent: [], output: [], variables: drainVariables(env) };
}

/** Accepts `count` GitHub deliveries through the Edge, round-robin over `repos` repositories. */
export async function enqueue(cell: Cell, count: number, repos: number, options: { smoke?: boolean; prefix?: string } = {}): Promise<SentDelivery[]> {
  const sent: SentDelivery[] = [];
  for (let i = 0; i < count; i += 1) {
    const repo = `${options.prefix ?? 'octo-org'}/repo-${i % repos}`;
    // Smoke deliveries are pings, as `spigot smoke` sends them.
    const delivery = githubDelivery({ event: options.smoke ? 'ping' : 'push', repo, contentType: i % 3 === 2 ? 'form' : 'json' });
    const headers: Array<[string, string]> = options.smoke ? [...delivery.headers, ['X-Spigot-Smoke', 'spigot smoke test']] : delivery.headers;
    const answer = await cell.edge.accept({ path: '/github-webhook/', headers, body: delivery.body });
    if (answer.status !== 202 || !answer.reachedQueue) throw new Error(`the edge did not queue delivery ${i}: ${answer.status} ${answer.body}`);
    const entry = { repo, deliveryId: delivery.deliveryId, body: delivery.body, smoke: options.smoke };
    sent.push(entry);
    cell.sent.push(entry);
  }
  return sent;
}

/**
 * Invokes the bundled drain, failing clearly (instead of hanging the suite with stdout still
 * captured) when the invocation does not return within `limitMs`.
 */
export async function invoke(cell: Cell, options: { remainingMs?: number; event?: unknown; limitMs?: number } = {}): Promise<DrainInvocation> {
  const limitMs = options.limitMs ?? 10000;
  const savedEnv = { ...process.env };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      process.stdout.write = realStdoutWrite;
      process.stderr.write = realStderrWrite;
      for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
      Object.assign(process.env, savedEnv);
      reject(new Error(`[${cell.name}] drain invocation did not return within ${limitMs} ms (MAX_RUN_SECONDS=${cell.variables.MAX_RUN_SECONDS}): the run hangs`));
    }, limitMs);
  });
  try {
    const invocation = await Promise.race([cell.drain.invoke({ event: options.event ?? SCHEDULE_EVENT, remainingMs: options.remainingMs }), hung]);
    cell.output.push(...invocation.output);
    return invocation;
  } finally {
    clearTimeout(timer);
  }
}

export async function depth(world: World, cell: Cell): Promise<number> {
  const d = await queueDepth(world.emulator.sqs, cell.queues.queueUrl);
  return d.visible + d.inFlight;
}

/**
 * Heals nothing by itself: invokes the drain until the buffer queue is empty, at most
 * `maxRuns` times. Returns the number of runs; throws with the queue depth when it gave up.
 */
export async function drainToEmpty(world: World, cell: Cell, maxRuns = 8): Promise<number> {
  for (let run = 1; run <= maxRuns; run += 1) {
    await invoke(cell);
    if ((await depth(world, cell)) === 0) return run;
  }
  const d = await queueDepth(world.emulator.sqs, cell.queues.queueUrl);
  throw new Error(`[${cell.name}] queue not empty after ${maxRuns} drain runs: ${JSON.stringify(d)}; accepted ${cell.jenkins.accepted().length}/${cell.sent.length}`);
}

export interface DeadLetter {
  readonly deliveryId: string | undefined;
  readonly groupId: string | undefined;
  readonly status: string | undefined;
  readonly reason: string | undefined;
  readonly body: Buffer;
}

/**
 * Reads every message in the DLQ, then makes them visible again so a later look sees them too.
 * FIFO shows only the first dead letters of each repository while those are in flight: pass
 * `take: true` (the test's last look) to delete each page instead and so see every one.
 */
export async function deadLetters(sqs: SQSClient, dlqUrl: string, maxPages = 50, options: { take?: boolean } = {}): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
  const handles: string[] = [];
  for (let i = 0; i < maxPages; i += 1) {
    if (options.take && handles.length > 0) {
      const entries = handles.splice(0).map((h, n) => ({ Id: String(n), ReceiptHandle: h }));
      await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
    }
    const page = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['MessageGroupId'] }),
    );
    const messages = page.Messages ?? [];
    if (messages.length === 0) break;
    for (const m of messages) {
      handles.push(m.ReceiptHandle!);
      const envelope = decodeEnvelope(m.Body ?? '');
      out.push({
        deliveryId: headerValue(envelope, 'X-GitHub-Delivery'),
        groupId: m.Attributes?.MessageGroupId,
        status: m.MessageAttributes?.SpigotStatus?.StringValue,
        reason: m.MessageAttributes?.SpigotReason?.StringValue,
        body: envelope.body,
      });
    }
  }
  for (let start = 0; start < handles.length; start += 10) {
    const entries = handles.slice(start, start + 10).map((h, i) => ({ Id: String(i), ReceiptHandle: h, VisibilityTimeout: 0 }));
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: dlqUrl, Entries: entries }));
  }
  return out;
}

export interface Ledger {
  /** Distinct deliveries Jenkins accepted (200). */
  readonly delivered: number;
  /** Sent, not smoke, not poison, and never accepted. */
  readonly lost: string[];
  /** Accepted before an earlier delivery of the same repository had been settled. */
  readonly outOfOrder: string[];
  /** Extra 200s for a delivery already accepted (at-least-once redeliveries). */
  readonly duplicates: number;
  /** Accepted deliveries whose body differs from what was sent, or whose signature failed. */
  readonly corrupted: string[];
}

/**
 * What Jenkins saw against what was sent. A delivery is settled when Jenkins accepted it, or
 * (for the poison ones) when it answered 400. Order is judged on first settlement, so an
 * at-least-once redelivery of an already settled delivery is a duplicate, not disorder.
 */
export function ledger(sent: readonly SentDelivery[], jenkins: LoopbackJenkins, poison: ReadonlySet<string> = new Set()): Ledger {
  const firstSettled = new Map<string, number>();
  let duplicates = 0;
  const corrupted: string[] = [];
  const byId = new Map(sent.map((s) => [s.deliveryId, s]));
  jenkins.deliveries.forEach((d, index) => {
    const id = d.deliveryId ?? '';
    const settled = d.status === 200 || (d.status === 400 && poison.has(id));
    if (!settled) return;
    if (firstSettled.has(id)) {
      if (d.status === 200) duplicates += 1;
      return;
    }
    firstSettled.set(id, index);
    const original = byId.get(id);
    if (d.status === 200 && (!original || !d.body.equals(original.body) || d.signatureValid !== true)) corrupted.push(id);
  });
  const expected = sent.filter((s) => !s.smoke);
  const lost = expected.filter((s) => !firstSettled.has(s.deliveryId) && !poison.has(s.deliveryId)).map((s) => s.deliveryId);
  const outOfOrder: string[] = [];
  for (const repo of new Set(expected.map((s) => s.repo))) {
    let previous = -1;
    for (const s of expected.filter((e) => e.repo === repo)) {
      const at = firstSettled.get(s.deliveryId);
      if (at === undefined) continue;
      if (at < previous) outOfOrder.push(s.deliveryId);
      previous = Math.max(previous, at);
    }
  }
  const delivered = [...firstSettled.keys()].filter((id) => !poison.has(id)).length;
  return { delivered, lost, outOfOrder, duplicates, corrupted };
}

/**
 * Runs the bundle in its own Node process so it can really be killed (SIGKILL) mid-batch,
 * like Lambda ending an invocation at its timeout. Resolves once the process is gone.
 */
export async function invokeAndKill(cell: Cell, killWhen: () => boolean, limitMs = 15000): Promise<{ killed: boolean; output: string }> {
  const script = `
    const { handler } = require(${JSON.stringify(drainBundle())});
    const deadline = Date.now() + 60000;
    handler(${JSON.stringify(SCHEDULE_EVENT)}, { getRemainingTimeInMillis: () => deadline - Date.now() })
      .then(() => process.exit(0), () => process.exit(1));
  `;
  const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, ...cell.variables }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const started = Date.now();
  let killed = false;
  while (child.exitCode === null && child.signalCode === null) {
    if (killWhen() || Date.now() - started > limitMs) {
      killed = child.kill('SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await exited;
  cell.output.push(...output.split('\n').filter(Boolean));
  return { killed, output };
}

export async function stopCell(cell: Cell): Promise<void> {
  await cell.jenkins.stop();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Registers a world on one SQS emulator for the enclosing suite (beforeAll/afterAll), and a
 * `cell()` that creates cells the suite stops at the end.
 */
export function useWorld(backend: SqsBackend): {
  readonly world: () => World;
  readonly cell: (name: string, options?: CellOptions) => Promise<Cell>;
  /** Every cell made so far. */
  readonly cells: () => readonly Cell[];
} {
  let world: World | undefined;
  const cells: Cell[] = [];
  beforeAll(async () => {
    world = await startWorld({ sqs: backend });
  });
  afterAll(async () => {
    await Promise.all(cells.map(stopCell));
    await world?.stop(); // undefined when the emulator did not start: keep that error in view
  });
  const current = (): World => {
    if (!world) throw new Error(`the ${backend} world did not start`);
    return world;
  };
  return {
    world: current,
    cells: () => cells,
    async cell(name, options = {}) {
      const c = await createCell(current(), name, options);
      cells.push(c);
      return c;
    },
  };
}
