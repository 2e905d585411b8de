import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { emulatorClient } from './sqs-queues';

// The queue helpers work on any emulator; they are re-exported for the suites that import them from here.
export { createBufferQueues, queueDepth, TEST_CREDENTIALS, TEST_REGION, type BufferQueues } from './sqs-queues';

/** A fauxqs@1.9.2 emulator running in a child process on loopback. */
export interface Fauxqs {
  readonly endpoint: string;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export async function startFauxqs(): Promise<Fauxqs> {
  const child: ChildProcess = spawn(process.execPath, [path.join(__dirname, 'fauxqs-server.mjs')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const endpoint = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { endpoint: string }).endpoint));
    child.once('exit', (code) => reject(new Error(`fauxqs exited early with code ${code}`)));
  });
  const sqs = emulatorClient(endpoint);
  return {
    endpoint,
    sqs,
    async stop() {
      sqs.destroy();
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
