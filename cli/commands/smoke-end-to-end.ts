/**
 * `spigot smoke --end-to-end`: after the signed ping is queued, waits for the drain's log line that
 * names it (by its X-GitHub-Delivery) and reports what Jenkins answered. That line is the drain's
 * `released webhook` (or a refusal or dead-lettering); see trace-events.ts, DRAIN_LINES.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { NotOkError } from '../errors';
import { duration } from '../format';
import { filterLog, jsonPattern } from './trace';
import { drainEvent, type TraceEvent } from './trace-events';

export interface JenkinsAnswer {
  readonly outcome: 'released' | 'refused' | 'dead-lettered';
  readonly status: string | null;
  readonly reason: string | null;
  /** Epoch ms of the drain's line. */
  readonly at: number;
  /** From the API's 202 to the drain's line. */
  readonly afterMs: number;
}

export interface EndToEndOptions {
  readonly drainLogGroup: string;
  readonly deliveryId: string;
  readonly queuedAt: number;
  /** @default 180 */
  readonly waitSeconds?: number;
  /** @default 5 */
  readonly intervalSeconds?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const OUTCOMES: Partial<Record<TraceEvent['kind'], JenkinsAnswer['outcome']>> = {
  released: 'released',
  'refused-by-jenkins': 'refused',
  'dead-lettered': 'dead-lettered',
};

/** The first line that says what Jenkins made of it. Pure. */
export function answerOf(events: readonly TraceEvent[], queuedAt: number): JenkinsAnswer | undefined {
  const first = [...events].sort((a, b) => a.at - b.at).find((e) => OUTCOMES[e.kind] !== undefined);
  if (first === undefined) return undefined;
  return { outcome: OUTCOMES[first.kind]!, status: first.status ?? null, reason: first.reason ?? null, at: first.at, afterMs: Math.max(0, first.at - queuedAt) };
}

export async function waitForJenkins(clients: { logs: CloudWatchLogsClient }, options: EndToEndOptions): Promise<JenkinsAnswer> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + (options.waitSeconds ?? 180) * 1000;
  // A minute of slack: clocks differ, and the line's timestamp is the drain's.
  const since = options.queuedAt - 60_000;
  for (;;) {
    const lines = await filterLog(clients.logs, options.drainLogGroup, jsonPattern(['deliveryId'], [options.deliveryId]), since);
    const answer = answerOf(lines.map((l) => drainEvent(l.message, l.timestamp)).filter((e): e is TraceEvent => e !== undefined), options.queuedAt);
    if (answer !== undefined) return answer;
    if (now() >= deadline) {
      throw new NotOkError(
        `no drain line names the ping ${options.deliveryId} after ${duration(options.waitSeconds ?? 180)} in ${options.drainLogGroup}: ` +
          'is the drain running (`spigot status`), the spigot open, and does this drain log releases by delivery id?',
      );
    }
    await sleep(Math.min((options.intervalSeconds ?? 5) * 1000, Math.max(0, deadline - now())));
  }
}
