/**
 * The drain's fault matrix. Every cell queues 15 webhooks over three repositories through
 * the Edge, runs the BUNDLED drain against one fault, then heals (healthy Jenkins, spigot
 * reopened, working SSM and SQS) and drains to empty. Invariants for every cell: nothing
 * lost, nothing out of order within a repository, and the DLQ holds only the deliveries the
 * cell made poison. The matrix is printed and written to a document per SQS emulator
 * (docs/fault-matrix.md for fauxqs, docs/fault-matrix-localstack.md for LocalStack).
 */
import path from 'node:path';
import { embedMatrix, renderMatrix, rowHolds, writeMatrixDocument, type MatrixRow } from '../../support/fault-matrix';
import type { SqsBackend } from '../../support/sqs-backends';
import { queueDepth } from '../../support/sqs-queues';
import {
  createCell,
  deadLetters,
  depth,
  drainToEmpty,
  enqueue,
  invoke,
  invokeAndKill,
  ledger,
  startWorld,
  stopCell,
  type Cell,
  type CellOptions,
  type SentDelivery,
  type World,
} from './world';

const DELIVERIES = 15;
const REPOS = 3;

// Per test file: jest loads this module afresh for each file, and faultMatrix() sets them up.
let world: World;
const rows: MatrixRow[] = [];

interface FaultContext {
  readonly cell: Cell;
  readonly sent: SentDelivery[];
  /** Delivery ids the cell makes poison (allowed, and required, in the DLQ). */
  readonly poison: Set<string>;
}

interface CellSpec {
  readonly name: string;
  readonly fault: string;
  readonly options?: CellOptions;
  /** Applies the fault, runs the drain against it, asserts what it did; returns the "during fault" text. */
  readonly during: (ctx: FaultContext) => Promise<string>;
  /** Replaces the default drain-to-empty after the common healing; returns the runs it took. */
  readonly heal?: (ctx: FaultContext) => Promise<number>;
  readonly maxHealingRuns?: number;
  /** Duplicates depend on timing in this cell (see MatrixRow.mayDuplicate). */
  readonly mayDuplicate?: boolean;
}

const spigot = (c: Cell) => world.ssm.parameter(c.parameterName)!;
const receives = (c: Cell) => world.proxy.count('ReceiveMessage', c.queues.queueUrl);
const queued = (c: Cell) => depth(world, c);

async function expectAutoClosed(c: Cell, reason: RegExp): Promise<void> {
  expect(spigot(c).value).toBe('closed');
  expect(spigot(c).description).toMatch(/^auto-closed by drain/);
  expect(spigot(c).description).toMatch(reason);
}

async function expectHeldUntouched(c: Cell): Promise<void> {
  expect(receives(c)).toBe(0);
  expect(c.jenkins.deliveries).toHaveLength(0);
  expect(await queueDepth(world.emulator.sqs, c.queues.queueUrl)).toEqual({ visible: DELIVERIES, inFlight: 0 });
}

const CELLS: CellSpec[] = [
  {
    name: 'jenkins-down',
    fault: 'Jenkins down (connection refused)',
    options: { jenkinsBehaviour: { kind: 'down' } },
    async during({ cell }) {
      const { result } = await invoke(cell);
      expect(result.action).toBe('auto-closed');
      await expectAutoClosed(cell, /ECONNREFUSED/);
      await expectHeldUntouched(cell);
      return 'probe refused: spigot auto-closed, nothing received';
    },
  },
  {
    name: 'jenkins-starting',
    fault: 'Jenkins starting (503 to everything)',
    options: { jenkinsBehaviour: { kind: 'starting' } },
    async during({ cell }) {
      const { result } = await invoke(cell);
      expect(result.action).toBe('auto-closed');
      await expectAutoClosed(cell, /answered 503/);
      await expectHeldUntouched(cell);
      return 'probe 503: spigot auto-closed, nothing received';
    },
  },
  {
    name: 'jenkins-slow',
    fault: 'Jenkins slow (800 ms > HTTP_TIMEOUT_MS 500)',
    // Three repositories, so three webhooks fail all their attempts at once: that closes it.
    options: { jenkinsBehaviour: { kind: 'slow', delayMs: 800 }, extra: { HTTP_TIMEOUT_MS: '500', PROBE_TIMEOUT_MS: '2000', AUTO_CLOSE_AFTER_FAILURES: '3' } },
    async during({ cell }) {
      const { result } = await invoke(cell);
      expect(result.action).toBe('auto-closed');
      expect(result.reason).toMatch(/consecutive failed releases/);
      await expectAutoClosed(cell, /consecutive failed releases.*no answer/);
      expect(cell.jenkins.accepted()).toHaveLength(0);
      expect(await deadLetters(world.emulator.sqs, cell.queues.dlqUrl)).toEqual([]);
      return 'probe passes, POSTs time out: retried, auto-closed once 3 webhooks failed every attempt, all held';
    },
  },
  {
    name: 'jenkins-flaky',
    fault: 'Jenkins flaky (30% of POSTs 503, Retry-After: 1)',
    options: { jenkinsBehaviour: { kind: 'flaky', failureRate: 0.3, seed: 11, retryAfterSeconds: 1 } },
    async during({ cell }) {
      const { result } = await invoke(cell);
      expect(result.action).toBe('released');
      expect(cell.jenkins.deliveries.some((d) => d.status === 503)).toBe(true);
      expect(spigot(cell).value).toBe('open');
      return 'busy webhooks retried in the worker after Retry-After (no receive spent), the others keep flowing; spigot stays open';
    },
  },
  {
    name: 'jenkins-rejecting',
    fault: 'Jenkins rejects two deliveries (400)',
    async during({ cell, sent, poison }) {
      poison.add(sent[4].deliveryId);
      poison.add(sent[11].deliveryId);
      await cell.jenkins.setBehaviour({ kind: 'rejecting', deliveryIds: poison });
      const { result } = await invoke(cell);
      expect(result.stats?.deadLettered).toBe(2);
      const dlq = await deadLetters(world.emulator.sqs, cell.queues.dlqUrl);
      expect(dlq.map((d) => [d.deliveryId, d.status, d.groupId]).sort()).toEqual(
        sent.filter((s) => poison.has(s.deliveryId)).map((s) => [s.deliveryId, '400', `repo:${s.repo}`]).sort(),
      );
      return 'the two 400s dead-lettered (SpigotStatus 400, same group), their repositories continue';
    },
  },
  {
    name: 'jenkins-quiet-down',
    fault: 'Jenkins quieting down (credentials configured)',
    options: { credentials: true, jenkinsBehaviour: { kind: 'quiet-down' } },
    async during({ cell }) {
      const { result } = await invoke(cell);
      expect(result.action).toBe('auto-closed');
      await expectAutoClosed(cell, /quieting down/);
      await expectHeldUntouched(cell);
      return 'quiet-down check fails: spigot auto-closed, nothing received';
    },
  },
  {
    name: 'ssm-unavailable',
    fault: 'SSM unavailable (500 InternalServerError)',
    async during({ cell }) {
      world.ssm.setFailure('unavailable');
      try {
        const { result } = await invoke(cell);
        expect(result).toMatchObject({ spigot: 'closed', action: 'held (spigot closed)' });
      } finally {
        world.ssm.setFailure(null);
      }
      await expectHeldUntouched(cell);
      return 'spigot unreadable: treated as closed, no ReceiveMessage';
    },
  },
  {
    name: 'ssm-garbage',
    fault: 'spigot parameter holds "half-open"',
    options: { spigot: 'half-open' },
    async during({ cell }) {
      const { result, output } = await invoke(cell);
      expect(result).toMatchObject({ spigot: 'closed', action: 'held (spigot closed)' });
      expect(output.join('\n')).toContain('unrecognised value');
      expect(spigot(cell).value).toBe('half-open');
      await expectHeldUntouched(cell);
      return 'unrecognised value: treated as closed, no ReceiveMessage, value left as is';
    },
  },
  {
    name: 'sqs-delete-errors',
    fault: 'SQS DeleteMessageBatch answers 500',
    options: { visibilityTimeoutSeconds: 2 },
    async during({ cell }) {
      world.proxy.setFault('DeleteMessageBatch', { status: 500 });
      try {
        const { result, output } = await invoke(cell);
        expect(result.stats?.deleteFailures).toBeGreaterThan(0);
        expect(output.join('\n')).toContain('delete failed');
      } finally {
        world.proxy.setFault('DeleteMessageBatch', null);
      }
      expect(cell.jenkins.accepted().length).toBeGreaterThan(0);
      return 'delivered but not deleted: logged "delete failed", messages reappear after the visibility timeout';
    },
    async heal({ cell }) {
      // The redelivery is logged when the undeleted messages come back.
      cell.output.length = 0;
      const runs = await drainToEmpty(world, cell, 6);
      expect(cell.output.join('\n')).toContain('received again');
      return runs;
    },
  },
  {
    name: 'drain-killed',
    fault: 'drain process killed (SIGKILL) halfway through',
    mayDuplicate: true,
    options: { serviceTimeMs: 100, visibilityTimeoutSeconds: 2 },
    async during({ cell }) {
      const { killed } = await invokeAndKill(cell, () => cell.jenkins.accepted().length >= 5);
      expect(killed).toBe(true);
      const accepted = cell.jenkins.accepted().length;
      expect(accepted).toBeGreaterThanOrEqual(5);
      expect(accepted).toBeLessThan(DELIVERIES);
      return 'killed after ≥5 of 15 accepted: in-flight messages reappear after the queue visibility timeout (2 s)';
    },
  },
  {
    name: 'drain-deadline',
    fault: 'drain at its deadline (6 s left, 300 ms per POST)',
    options: { serviceTimeMs: 300, extra: { HTTP_TIMEOUT_MS: '500', MAX_ATTEMPTS: '3', CONCURRENCY: '1' } },
    async during({ cell }) {
      const { result } = await invoke(cell, { remainingMs: 6000 });
      expect(result.stats!.released).toBeLessThan(DELIVERIES);
      expect((await queueDepth(world.emulator.sqs, cell.queues.queueUrl)).inFlight).toBe(0);
      return 'stops starting webhooks it could not finish; the rest handed back with visibility 0';
    },
  },
  {
    name: 'sqs-slow-receive',
    fault: 'SQS ReceiveMessage answers after 300 ms',
    async during({ cell }) {
      world.proxy.setDelay('ReceiveMessage', 300);
      try {
        await invoke(cell);
      } finally {
        world.proxy.setDelay('ReceiveMessage', 0);
      }
      return 'slower runs, nothing else changes; the run still ends on its own';
    },
  },
];

interface MatrixDocuments {
  /** The thin test file that runs the matrix on this emulator. */
  readonly generator: string;
  /** Where the generated matrix document goes, relative to the repository root. */
  readonly document: string;
  /** What the document says about the emulator the matrix ran on. */
  readonly emulator: string;
  /** A document whose fault-matrix block gets the table too. */
  readonly embedIn?: string;
}

// One document per emulator, so neither run overwrites the other's.
const DOCUMENTS: Record<SqsBackend, MatrixDocuments> = {
  fauxqs: {
    generator: 'fault-matrix.test.ts',
    document: 'docs/fault-matrix.md',
    emulator: 'fauxqs 1.9.2, which hands out one message per FIFO group per receive (the same matrix on LocalStack: [fault-matrix-localstack.md](fault-matrix-localstack.md))',
    embedIn: 'docs/security.md',
  },
  localstack: {
    generator: 'fault-matrix.localstack.test.ts',
    document: 'docs/fault-matrix-localstack.md',
    emulator: 'LocalStack 2026.3.0, which hands out several messages of a FIFO group per receive, as SQS does (the same matrix on fauxqs: [fault-matrix.md](fault-matrix.md))',
  },
};

const fromRoot = (file: string) => path.resolve(__dirname, '../../..', file);

/** Registers the whole matrix against one SQS emulator (one thin test file per backend). */
export function faultMatrix(backend: SqsBackend): void {
  const docs = DOCUMENTS[backend];
  beforeAll(async () => {
    world = await startWorld({ sqs: backend });
  });
  afterAll(async () => {
    await world?.stop(); // undefined when the emulator did not start: keep that error in view
    const table = renderMatrix(rows);
    console.log(`drain fault matrix on ${backend}\n\n${table}\n`);
    // Only a run of every cell rewrites the documents (not one filtered with -t, nor one that never started).
    if (rows.length < CELLS.length) return;
    writeMatrixDocument(rows, fromRoot(docs.document), { generator: `__tests__/drain/integration/${docs.generator}`, emulator: docs.emulator });
    if (docs.embedIn) embedMatrix(rows, fromRoot(docs.embedIn));
  });

  describe(`drain fault matrix on ${backend}`, () => {
    it.each(CELLS.map((spec) => [spec.name, spec] as const))('%s: no loss, no disorder, DLQ only poison', async (_name, spec) => {
      const cell = await createCell(world, spec.name, spec.options);
      const sent = await enqueue(cell, DELIVERIES, REPOS);
      const ctx: FaultContext = { cell, sent, poison: new Set() };
      let duringFault = '(fault did not complete)';
      try {
        duringFault = await spec.during(ctx);

        // Heal: healthy Jenkins, spigot open, SSM and SQS working.
        world.ssm.setFailure(null);
        world.proxy.setFault('DeleteMessageBatch', null);
        world.proxy.setDelay('ReceiveMessage', 0);
        await cell.jenkins.setBehaviour('healthy');
        if (spigot(cell).value !== 'open') world.ssm.putDirect(cell.parameterName, 'open', { description: 'reopened by the operator' });
        const healingRuns = spec.heal ? await spec.heal(ctx) : await drainToEmpty(world, cell, spec.maxHealingRuns ?? 8);

        const l = ledger(sent, cell.jenkins, ctx.poison);
        const dlq = await deadLetters(world.emulator.sqs, cell.queues.dlqUrl);
        const row: MatrixRow = {
          cell: spec.name,
          fault: spec.fault,
          duringFault,
          mayDuplicate: spec.mayDuplicate,
          outcome: {
            sent: sent.length,
            delivered: l.delivered,
            lost: l.lost.length,
            outOfOrder: l.outOfOrder.length,
            deadLettered: dlq.length,
            poison: ctx.poison.size,
            duplicates: l.duplicates,
            healingRuns,
          },
        };
        rows.push(row);
        expect(await queued(cell)).toBe(0);
        expect(l.lost).toEqual([]);
        expect(l.outOfOrder).toEqual([]);
        expect(l.corrupted).toEqual([]);
        expect(dlq.map((d) => d.deliveryId).sort()).toEqual([...ctx.poison].sort());
        expect(rowHolds(row)).toBe(true);
      } catch (error) {
        const failure = (error as Error).message.split('\n').filter(Boolean)[0]?.slice(0, 200) ?? 'failed';
        const index = rows.findIndex((r) => r.cell === spec.name);
        if (index >= 0) rows[index] = { ...rows[index], failure };
        else rows.push({ cell: spec.name, fault: spec.fault, duringFault, failure });
        throw error;
      } finally {
        world.ssm.setFailure(null);
        world.proxy.setFault('DeleteMessageBatch', null);
        world.proxy.setDelay('ReceiveMessage', 0);
        await stopCell(cell);
      }
    });
  });
}
