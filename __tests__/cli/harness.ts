/**
 * Runs the spigot CLI as an operator does: `node bin/spigot.js ...` in a child process, which runs the
 * esbuild bundle (rebuilt by bin/spigot.js when a source changed), with real AWS SDK clients from the
 * default chain, pointed at emulators by environment.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createBufferQueues, startFauxqs, TEST_CREDENTIALS, TEST_REGION, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Written to stdin, which is then closed. */
  readonly input?: string;
  /** @default 60000 */
  readonly timeoutMs?: number;
}

export const SPIGOT_BIN = path.resolve(__dirname, '..', '..', 'bin', 'spigot.js');

/** Nothing listens here: CloudWatch calls fail fast with ECONNREFUSED instead of reaching AWS. */
export const REFUSING_ENDPOINT = 'http://127.0.0.1:9';

/**
 * Points the SDK's default chain at the emulators exactly as an operator would (AWS_ENDPOINT_URL_*),
 * and keeps it away from any real profile. Jest gives each test file its own process.env, which
 * `cliEnv()` hands to the child.
 * CloudWatch (read by `status`) and CloudWatch Logs (read by `trace`) go to a refusing endpoint unless
 * one is given, so no suite ever calls AWS.
 */
export function useEmulatorEnvironment(endpoints: { sqs?: string; ssm?: string; lambda?: string; cloudwatch?: string; logs?: string }): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
    AWS_CONFIG_FILE: '/nonexistent/spigot-test-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/spigot-test-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  if (endpoints.sqs) process.env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  if (endpoints.ssm) process.env.AWS_ENDPOINT_URL_SSM = endpoints.ssm;
  if (endpoints.lambda) process.env.AWS_ENDPOINT_URL_LAMBDA = endpoints.lambda;
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = endpoints.cloudwatch ?? REFUSING_ENDPOINT;
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH_LOGS = endpoints.logs ?? REFUSING_ENDPOINT;
}

/** Environment for the CLI: no SPIGOT_* and no warning switch leak in from the outside. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('SPIGOT_') && key !== 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED') env[key] = value;
  }
  return { ...env, USER: 'alice', ...extra };
}

function run(command: string, args: readonly string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? process.cwd(), env: options.env ?? cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The CLI with stdin, stdout and stderr on pipes (a script, CI). */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return run(process.execPath, [SPIGOT_BIN, ...args], options);
}

const shellQuote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * The CLI attached to a pseudo-terminal, through util-linux `script`: stdin, stdout and stderr are all
 * the terminal, so everything the CLI writes arrives in `stdout` (with \r\n line ends), and `input`
 * is typed at it.
 */
export function runCliInTerminal(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const command = [process.execPath, SPIGOT_BIN, ...args].map(shellQuote).join(' ');
  return run('script', ['-q', '-e', '-c', command, '/dev/null'], options);
}

/** fauxqs (and the loopback SSM) for a suite, fresh buffer queues for each test, the CLI pointed at them. */
export interface CliEmulators {
  readonly fauxqs: () => Fauxqs;
  readonly ssm: () => LoopbackSsm;
  /** This test's buffer queue and DLQ. */
  readonly queues: () => BufferQueues;
}

export function useCliEmulators(prefix: string, options: { ssm?: boolean } = {}): CliEmulators {
  let fauxqs: Fauxqs | undefined;
  let ssm: LoopbackSsm | undefined;
  let queues: BufferQueues | undefined;
  let counter = 0;
  beforeAll(async () => {
    [fauxqs, ssm] = await Promise.all([startFauxqs(), options.ssm ? startLoopbackSsm() : undefined]);
    useEmulatorEnvironment({ sqs: fauxqs.endpoint, ssm: ssm?.endpoint });
  });
  afterAll(async () => {
    await Promise.all([fauxqs?.stop(), ssm?.stop()]);
  });
  beforeEach(async () => {
    queues = await createBufferQueues(fauxqs!.sqs, `${prefix}-${++counter}`);
  });
  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`${what} is not running in this suite`);
    return value;
  };
  return { fauxqs: () => started(fauxqs, 'fauxqs'), ssm: () => started(ssm, 'the loopback SSM'), queues: () => started(queues, 'the queues') };
}
