/**
 * Progress on stderr: on a terminal one line rewritten in place; on a pipe (CI, a log) plain lines,
 * only when something changed or a heartbeat is due, so a long wait does not flood the log.
 */
export interface ProgressReporter {
  /** `key` says whether anything changed since the last line (pipes print only then, or on the heartbeat). */
  update(line: string, key: string): void;
  /** Ends the in-place line, if any. */
  done(): void;
}

export const PLAIN_HEARTBEAT_MS = 30_000;

export function progressReporter(write: (text: string) => void, terminal: boolean, columns?: number, now: () => number = Date.now): ProgressReporter {
  let lastKey: string | undefined;
  let lastAt = -Infinity;
  let open = false;
  return {
    update(line, key) {
      if (terminal) {
        const fitted = columns !== undefined && columns > 1 && line.length >= columns ? `${line.slice(0, columns - 2)}…` : line;
        write(`\r\x1b[2K${fitted}`);
        open = true;
        return;
      }
      if (key === lastKey && now() - lastAt < PLAIN_HEARTBEAT_MS) return;
      lastKey = key;
      lastAt = now();
      write(`${new Date(lastAt).toISOString()} ${line}\n`);
    },
    done() {
      if (open) write('\n');
      open = false;
    },
  };
}
