/** `spigot drain`: one synchronous drain run, now. */
import { InvokeCommand, ResourceNotFoundException, TooManyRequestsException, type LambdaClient } from '@aws-sdk/client-lambda';
import { CliError, describeError } from '../errors';

export interface DrainOptions {
  readonly functionName: string;
}

/** Whatever JSON the drain returns (released, held, deadLettered, state, ...), with the function version that ran. */
export interface DrainRun {
  readonly functionName: string;
  readonly executedVersion: string | null;
  readonly result: unknown;
}

export async function drain(clients: { lambda: LambdaClient }, options: DrainOptions): Promise<DrainRun> {
  let response;
  try {
    response = await clients.lambda.send(
      new InvokeCommand({ FunctionName: options.functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify({ source: 'spigot-cli' })) }),
    );
  } catch (error) {
    if (error instanceof TooManyRequestsException || (error as { name?: string }).name === 'TooManyRequestsException') {
      throw new CliError('a drain is already running (the drain function\'s reserved concurrency is used up); wait for it to finish and check `spigot status`');
    }
    if (error instanceof ResourceNotFoundException) {
      throw new CliError(`the drain function ${options.functionName} does not exist (wrong --function or region? deployed?)`);
    }
    throw new CliError(`invoking the drain function ${options.functionName} (lambda:InvokeFunction) failed: ${describeError(error)}`);
  }
  const text = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  let payload: unknown = text;
  try {
    payload = text === '' ? null : JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  if (typeof payload === 'object' && payload !== null && (payload as { skipped?: unknown }).skipped === true) {
    throw new CliError('a drain is already running (the run lease allows one run at a time); wait for it to finish and check `spigot status`');
  }
  if (response.FunctionError) {
    const p = (typeof payload === 'object' && payload !== null ? payload : {}) as { errorType?: string; errorMessage?: string };
    const detail = p.errorMessage ? `${p.errorType ?? 'Error'}: ${p.errorMessage}` : String(text).slice(0, 300);
    throw new CliError(`the drain run failed (${response.FunctionError}): ${detail.replace(/\s*\n\s*/g, ' ')}`);
  }
  return { functionName: options.functionName, executedVersion: response.ExecutedVersion ?? null, result: payload };
}
