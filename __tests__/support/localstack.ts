/**
 * LocalStack's SQS as a second SQS emulator for the drain integration suites. Unlike fauxqs, it
 * returns several messages of one FIFO group in one ReceiveMessage (as SQS does), so the drain's
 * batch paths run.
 *
 * startLocalstack() (per suite, like startFauxqs) runs the install from localstack-install.ts on
 * a free loopback port, SQS only, with every path (state, cache, config, home) in a fresh temp
 * dir and every outbound feature off, and waits for its health endpoint to report SQS running.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { installedIn, LOCALSTACK_VENV, STATIC_ROOT, venvPython } from './localstack-install';
import { emulatorClient } from './sqs-queues';

export interface Localstack {
  readonly endpoint: string;
  readonly sqs: SQSClient;
  /** The LocalStack server process (its SQS runs in it), for CPU readings. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const LAUNCHER = path.join(__dirname, 'localstack-server.py');
// Below the 60 s hook timeout, so a LocalStack that never gets ready fails with its own output.
const READY_LIMIT_MS = 40000;
const STOP_LIMIT_MS = 10000;

async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no loopback port');
  return address.port;
}

/** The whole environment LocalStack sees: nothing inherited but PATH, nothing outside `dir`. */
function localstackEnvironment(dir: string, port: number): NodeJS.ProcessEnv {
  const listen = `127.0.0.1:${port}`;
  // Any call that slipped past DISABLE_EVENTS would go to the discard port on loopback, and be refused.
  const nowhere = 'http://127.0.0.1:9';
  return {
    PATH: process.env.PATH,
    LANG: 'C.UTF-8',
    HOME: path.join(dir, 'home'),
    TMP: path.join(dir, 'tmp'), // not TMPDIR: LocalStack reads that as a deprecated setting
    XDG_CACHE_HOME: path.join(dir, 'cache'),
    CONFIG_DIR: path.join(dir, 'config'),
    // Host mode even inside a container, so every directory lives under FILESYSTEM_ROOT.
    OVERRIDE_IN_DOCKER: '0',
    FILESYSTEM_ROOT: path.join(dir, 'fs'),
    PERSISTENCE: '0',
    GATEWAY_SERVER: 'hypercorn',
    GATEWAY_LISTEN: listen,
    LOCALSTACK_HOST: listen,
    SERVICES: 'sqs',
    EAGER_SERVICE_LOADING: '1',
    SQS_ENDPOINT_STRATEGY: 'off',
    SQS_DISABLE_CLOUDWATCH_METRICS: '1',
    DISABLE_EVENTS: '1',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    DNS_ADDRESS: '0',
    API_ENDPOINT: nowhere,
    ANALYTICS_API: nowhere,
  };
}

async function sqsRunning(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/_localstack/health`, { signal: AbortSignal.timeout(1000) });
    const health = (await response.json()) as { services?: Record<string, string> };
    return response.ok && health.services?.sqs === 'running';
  } catch {
    return false;
  }
}

const exitOf = (child: ChildProcess) => (child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode !== null ? `signal ${child.signalCode}` : undefined);

/** Ends LocalStack's whole process group: SIGTERM, then SIGKILL if it has not gone in time. */
async function stopGroup(child: ChildProcess): Promise<void> {
  if (exitOf(child) !== undefined || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  signalGroup('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STOP_LIMIT_MS)));
  if ((await Promise.race([exited, late])) === 'late') {
    signalGroup('SIGKILL');
    await exited;
  }
  clearTimeout(timer);
}

export async function startLocalstack(): Promise<Localstack> {
  if (!installedIn(LOCALSTACK_VENV)) {
    throw new Error(`localstack: ${LOCALSTACK_VENV} is missing or out of date; jest's globalSetup installs it (run the suite through jest), or call installLocalstack() from support/localstack-install.ts`);
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spigot-localstack-'));
  const port = await freeLoopbackPort();
  const endpoint = `http://127.0.0.1:${port}`;
  cpSync(path.join(LOCALSTACK_VENV, STATIC_ROOT), path.join(dir, 'fs'), { recursive: true });
  const child = spawn(venvPython(LOCALSTACK_VENV), [LAUNCHER, dir], {
    cwd: dir,
    env: localstackEnvironment(dir, port),
    detached: true, // its own process group, so stop() ends everything it started
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const log: string[] = [];
  const keep = (chunk: Buffer) => {
    log.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    log.splice(0, Math.max(0, log.length - 40));
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const cleanUp = async () => {
    await stopGroup(child);
    child.stdin?.destroy();
    rmSync(dir, { recursive: true, force: true });
  };

  const started = Date.now();
  while (!(await sqsRunning(endpoint))) {
    const ended = spawnError ? String(spawnError) : exitOf(child);
    const waited = Date.now() - started;
    if (ended !== undefined || waited > READY_LIMIT_MS) {
      await cleanUp();
      const why = ended !== undefined ? `exited (${ended}) before it was ready` : `was not ready after ${waited} ms`;
      throw new Error(`localstack: LocalStack on ${endpoint} ${why}.\n--- its last output ---\n${log.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const sqs = emulatorClient(endpoint);
  return {
    endpoint,
    sqs,
    pid: child.pid,
    async stop() {
      sqs.destroy();
      await cleanUp();
    },
  };
}
