import type { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs } from './fauxqs';
import { startLocalstack } from './localstack';

/**
 * The SQS emulators the integration suites run against. fauxqs returns at most one message
 * per FIFO group per receive; LocalStack returns several, as SQS does.
 */
export type SqsBackend = 'fauxqs' | 'localstack';

export const SQS_BACKENDS: readonly SqsBackend[] = ['fauxqs', 'localstack'];

export interface SqsEmulator {
  readonly backend: SqsBackend;
  readonly endpoint: string;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export async function startSqsBackend(backend: SqsBackend): Promise<SqsEmulator> {
  const emulator = backend === 'localstack' ? await startLocalstack() : await startFauxqs();
  return { backend, endpoint: emulator.endpoint, sqs: emulator.sqs, stop: () => emulator.stop() };
}
