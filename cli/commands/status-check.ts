/**
 * `spigot status --check`: the three things that make a spigot not ready to leave alone, as a script
 * needs them: closed, dead letters waiting, or a drain that has not run recently. Pure.
 */
import { duration } from '../format';
import type { StatusReport } from './status';

/** The drain runs every minute by default and records each run as it ends. */
export const DEFAULT_MAX_DRAIN_AGE_SECONDS = 300;

export interface CheckProblem {
  readonly check: 'spigot' | 'dead-letters' | 'drain';
  readonly message: string;
}

export interface StatusCheck {
  readonly ok: boolean;
  readonly maxDrainAgeSeconds: number;
  /** Dead letters allowed (known from before a maintenance window). */
  readonly allowedDeadLetters: number;
  readonly problems: CheckProblem[];
}

export function checkStatus(report: StatusReport, now: Date = new Date(), maxDrainAgeSeconds = DEFAULT_MAX_DRAIN_AGE_SECONDS, allowedDeadLetters = 0): StatusCheck {
  const problems: CheckProblem[] = [];
  const { spigot, deadLetters, lastDrain } = report;
  if (spigot.state === 'closed') {
    const what = spigot.recognised ? 'the spigot is closed' : `the spigot holds ${JSON.stringify(spigot.value)}, which counts as closed`;
    problems.push({ check: 'spigot', message: `${what} (${spigot.reason ?? 'no description'})` });
  }
  const letters = deadLetters.visible + deadLetters.inFlight;
  if (letters > allowedDeadLetters) {
    const allowed = allowedDeadLetters > 0 ? `, more than the ${allowedDeadLetters} allowed` : '';
    problems.push({ check: 'dead-letters', message: `${letters} dead letter(s) in the DLQ${allowed} (\`spigot dlq list\`)` });
  }
  switch (lastDrain.status) {
    case 'recorded': {
      const age = (now.getTime() - new Date(lastDrain.run.at).getTime()) / 1000;
      if (age > maxDrainAgeSeconds) {
        problems.push({ check: 'drain', message: `the drain last ran ${duration(age)} ago, more than ${duration(maxDrainAgeSeconds)} (check its schedule, alarms and logs)` });
      }
      break;
    }
    case 'never':
      problems.push({ check: 'drain', message: `the drain has not recorded a run yet (${lastDrain.parameterName} is {})` });
      break;
    case 'unknown':
    case 'unreadable':
      problems.push({ check: 'drain', message: `cannot tell when the drain last ran: ${lastDrain.reason}` });
      break;
  }
  return { ok: problems.length === 0, maxDrainAgeSeconds, allowedDeadLetters, problems };
}
