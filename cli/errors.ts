/**
 * Exit codes: 1 = the operation failed, 2 = the command line was wrong, 3 = it worked and found the
 * state not as asked (`status --check` found a problem, `drain` auto-closed, `wait` timed out).
 */
export const EXIT_OPERATIONAL = 1;
export const EXIT_USAGE = 2;
export const EXIT_NOT_OK = 3;

/** An error whose message is fit to print as-is (one line) and that knows its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_OPERATIONAL,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** The command did its job; what it found is not ok (see EXIT_NOT_OK). */
export class NotOkError extends CliError {
  constructor(message: string) {
    super(message, EXIT_NOT_OK);
    this.name = 'NotOkError';
  }
}

/** One line describing any error, AWS SDK errors included (`<Code>: <message>`). */
export function describeError(error: unknown): string {
  if (error instanceof CliError) return error.message;
  if (error instanceof Error) {
    const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
    return `${name}${error.message}`.replace(/\s*\n\s*/g, ' ');
  }
  return String(error);
}

/** Wraps an AWS call so its failure says what was being done. */
export async function step<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${what} failed: ${describeError(error)}`);
  }
}
