/**
 * `spigot wait --drained`: polls the buffer until it is empty (nothing waiting, nothing in flight) in two
 * readings in a row, an interval apart (SQS's counts are approximate), and reports progress as it goes.
 * Fails fast when the spigot is closed with webhooks still held: they cannot drain until someone opens it.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { NotOkError } from '../errors';
import { duration } from '../format';
import { readSpigot } from '../spigot';
import { queueDepth } from './status';

export interface WaitSample {
  /** Epoch ms of the reading. */
  readonly at: number;
  readonly visible: number;
  readonly inFlight: number;
}

export interface WaitProgress {
  readonly elapsedSeconds: number;
  /** Waiting plus in flight. */
  readonly left: number;
  readonly inFlight: number;
  /** How many fewer than at the start: webhooks arriving meanwhile make it an approximation. */
  readonly released: number;
  /** Over the last RATE_WINDOW_MS; null until the buffer has shrunk in it. */
  readonly ratePerSecond: number | null;
  readonly etaSeconds: number | null;
}

export interface WaitResult {
  readonly queueUrl: string;
  readonly drained: true;
  readonly released: number;
  readonly elapsedSeconds: number;
}

export interface WaitOptions {
  readonly queueUrl: string;
  readonly parameterName: string;
  /** @default 1800 */
  readonly timeoutSeconds?: number;
  /** @default 5 */
  readonly intervalSeconds?: number;
  readonly onProgress?: (progress: WaitProgress) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The rate is measured over the last minute: long enough to smooth the drain's batches. */
export const RATE_WINDOW_MS = 60_000;

const total = (s: WaitSample): number => s.visible + s.inFlight;

/** Progress from the readings so far, oldest first. Pure. */
export function progressOf(samples: readonly WaitSample[]): WaitProgress {
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const left = total(last);
  const windowStart = samples.find((s) => s.at >= last.at - RATE_WINDOW_MS) ?? first;
  const seconds = (last.at - windowStart.at) / 1000;
  const shrunk = total(windowStart) - left;
  const ratePerSecond = seconds > 0 && shrunk > 0 ? shrunk / seconds : null;
  return {
    elapsedSeconds: (last.at - first.at) / 1000,
    left,
    inFlight: last.inFlight,
    released: Math.max(0, total(first) - left),
    ratePerSecond,
    etaSeconds: ratePerSecond === null ? null : left / ratePerSecond,
  };
}

/** One line, no colours: `left 30 (4 in flight), released ~12, 2.0/s, about 15s to go, 42s elapsed`. */
export function progressLine(p: WaitProgress): string {
  const rate = p.ratePerSecond === null ? 'rate not known yet' : `${p.ratePerSecond >= 10 ? Math.round(p.ratePerSecond) : p.ratePerSecond.toFixed(1)}/s`;
  const eta = p.etaSeconds === null ? '' : `, about ${duration(p.etaSeconds)} to go`;
  return `left ${p.left} (${p.inFlight} in flight), released ~${p.released}, ${rate}${eta}, ${duration(p.elapsedSeconds)} elapsed`;
}

export async function waitDrained(clients: { sqs: SQSClient; ssm: SSMClient }, options: WaitOptions): Promise<WaitResult> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const timeoutMs = (options.timeoutSeconds ?? 1800) * 1000;
  const intervalMs = (options.intervalSeconds ?? 5) * 1000;
  const samples: WaitSample[] = [];
  let emptyReadings = 0;
  for (;;) {
    const [depth, spigot] = await Promise.all([queueDepth(clients.sqs, options.queueUrl, 'buffer queue'), readSpigot(clients.ssm, options.parameterName)]);
    samples.push({ at: now(), visible: depth.visible, inFlight: depth.inFlight });
    const progress = progressOf(samples);
    options.onProgress?.(progress);
    emptyReadings = progress.left === 0 ? emptyReadings + 1 : 0;
    if (emptyReadings >= 2) return { queueUrl: options.queueUrl, drained: true, released: progress.released, elapsedSeconds: progress.elapsedSeconds };
    if (spigot.state === 'closed' && progress.left > 0) {
      throw new NotOkError(
        `the spigot is closed (${spigot.reason ?? 'no description'}): ${progress.left} webhook(s) stay held until it is opened`,
      );
    }
    if (progress.elapsedSeconds * 1000 >= timeoutMs) {
      throw new NotOkError(`timed out after ${duration(progress.elapsedSeconds)}: ${progressLine(progress)}`);
    }
    await sleep(Math.max(0, Math.min(intervalMs, timeoutMs - progress.elapsedSeconds * 1000)));
  }
}
