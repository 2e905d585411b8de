/**
 * LocalStack's SQS as a second SQS emulator for the drain integration suites. Unlike fauxqs, it
 * returns several messages of one FIFO group in one ReceiveMessage (as SQS does), so the drain's
 * batch paths run.
 *
 * - installLocalstack() (jest globalSetup): creates .venv/localstack with Python 3.13 and installs
 *   localstack-requirements.txt (every package pinned); idempotent, keyed on that file's hash.
 * - startLocalstack() (per suite, like startFauxqs): runs it on a free loopback port, SQS only,
 *   with every path (state, cache, config, home) in a fresh temp dir and every outbound feature
 *   off, and waits for its health endpoint to report SQS running.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SQSClient } from '@aws-sdk/client-sqs';
import { TEST_CREDENTIALS, TEST_REGION } from './sqs-queues';

export interface Localstack {
  readonly endpoint: string;
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

const ROOT = path.resolve(__dirname, '../..');
export const LOCALSTACK_VENV = path.join(ROOT, '.venv', 'localstack');
const REQUIREMENTS = path.join(__dirname, 'localstack-requirements.txt');
const LAUNCHER = path.join(__dirname, 'localstack-server.py');
const STAMP = '.spigot-installed';
// LocalStack's "static libs" (FILESYSTEM_ROOT/usr/lib/localstack), built once at install time.
const STATIC_ROOT = 'spigot-static';
const venvPython = (venv: string) => path.join(venv, 'bin', 'python');

const READY_LIMIT_MS = 60000;
const STOP_LIMIT_MS = 10000;

function run(command: string, args: string[], options: { timeoutMs?: number; logFile?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; stdout: string; detail: string } {
  const log = options.logFile ? openSync(options.logFile, 'a') : undefined;
  try {
    const result = spawnSync(command, args, {
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 10000,
      env: options.env ?? process.env,
      stdio: ['ignore', log ?? 'pipe', log ?? 'pipe'],
    });
    const ok = result.status === 0;
    const detail = result.error ? String(result.error) : `exit ${result.status ?? result.signal}`;
    return { ok, stdout: (result.stdout ?? '').trim(), detail };
  } finally {
    if (log !== undefined) closeSync(log);
  }
}

const versionOf = (python: string) => run(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])']);

/**
 * Python 3.13, the version localstack-core 2026.3.0 is known to run under here: $LOCALSTACK_PYTHON,
 * else pyenv's 3.13, else the newest ~/.pyenv/versions/3.13.N, else python3.13 on PATH.
 */
export function findPython313(): string {
  const tried: string[] = [];
  const pyenvRoot = process.env.PYENV_ROOT ?? path.join(os.homedir(), '.pyenv');
  const candidates: Array<() => string | undefined> = [
    () => process.env.LOCALSTACK_PYTHON,
    () => {
      for (const pyenv of ['pyenv', path.join(pyenvRoot, 'bin', 'pyenv')]) {
        const prefix = run(pyenv, ['prefix', '3.13']);
        if (prefix.ok && prefix.stdout) return path.join(prefix.stdout.split('\n')[0], 'bin', 'python3');
      }
      return undefined;
    },
    () => {
      const versions = path.join(pyenvRoot, 'versions');
      const patch = (v: string) => Number(v.split('.')[2]);
      const found = existsSync(versions) ? readdirSync(versions).filter((v) => /^3\.13\.\d+$/.test(v)).sort((a, b) => patch(b) - patch(a)) : [];
      return found[0] && path.join(versions, found[0], 'bin', 'python3');
    },
    () => 'python3.13',
  ];
  for (const candidate of candidates) {
    const python = candidate();
    if (!python) continue;
    const version = versionOf(python);
    if (version.ok && version.stdout.startsWith('3.13.')) return python;
    tried.push(`${python} (${version.ok ? `is ${version.stdout}` : version.detail})`);
  }
  throw new Error(
    `LocalStack (SQS emulator for the drain integration tests) needs Python 3.13, and none was found. Tried: ${tried.join('; ') || 'pyenv, ~/.pyenv/versions/3.13.*, python3.13'}. ` +
      'Install it (pyenv install 3.13) or point LOCALSTACK_PYTHON at a python3.13 binary.',
  );
}

function wantedStamp(): string {
  return createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
}

function installedIn(venv: string): boolean {
  const stamp = path.join(venv, STAMP);
  const complete = existsSync(venvPython(venv)) && existsSync(path.join(venv, STATIC_ROOT)) && existsSync(stamp);
  return complete && readFileSync(stamp, 'utf8').trim() === wantedStamp();
}

/**
 * Installs LocalStack into .venv/localstack unless the pinned requirements are already there.
 * Builds in a scratch venv and renames it into place, so a failed or concurrent install never
 * leaves a half-installed venv behind. Throws, saying why, when it cannot.
 */
export function installLocalstack(): { installed: boolean; seconds: number } {
  const started = Date.now();
  if (installedIn(LOCALSTACK_VENV)) return { installed: false, seconds: 0 };
  const python = findPython313();
  const partial = `${LOCALSTACK_VENV}.partial-${process.pid}`;
  const logFile = `${partial}.log`;
  const scratchHome = `${partial}.home`;
  process.stderr.write(`localstack: installing ${path.relative(ROOT, REQUIREMENTS)} into ${path.relative(ROOT, LOCALSTACK_VENV)} with ${python} (first run only)\n`);
  mkdirSync(path.dirname(LOCALSTACK_VENV), { recursive: true });
  rmSync(partial, { recursive: true, force: true });
  try {
    const venv = run(python, ['-m', 'venv', partial], { timeoutMs: 120000, logFile });
    if (!venv.ok) throw new Error(`${python} -m venv failed (${venv.detail})`);
    const pip = run(venvPython(partial), ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--quiet', '-r', REQUIREMENTS], { timeoutMs: 600000, logFile });
    if (!pip.ok) throw new Error(`pip install -r ${path.relative(ROOT, REQUIREMENTS)} failed (${pip.detail})`);
    // Without a prebuilt service catalog index, the first request to every fresh instance spends ~2.5 s building it.
    const staticLibs = path.join(partial, STATIC_ROOT, 'usr', 'lib', 'localstack');
    mkdirSync(staticLibs, { recursive: true });
    const catalog = run(venvPython(partial), ['-m', 'localstack.aws.spec'], { timeoutMs: 120000, logFile, env: { PATH: process.env.PATH, HOME: scratchHome, OVERRIDE_IN_DOCKER: '0', FILESYSTEM_ROOT: path.join(partial, STATIC_ROOT) } });
    if (!catalog.ok || readdirSync(staticLibs).length === 0) throw new Error(`building LocalStack's service catalog index failed (${catalog.detail})`);
    writeFileSync(path.join(partial, STAMP), `${wantedStamp()}\n`);
    // A concurrent run may have put its own complete install there meanwhile: keep that one.
    if (!installedIn(LOCALSTACK_VENV)) {
      try {
        rmSync(LOCALSTACK_VENV, { recursive: true, force: true });
        renameSync(partial, LOCALSTACK_VENV);
      } catch (error) {
        if (!installedIn(LOCALSTACK_VENV)) throw error;
      }
    }
  } catch (error) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => !/^WARNING: Location .* is ignored/.test(l)).slice(-25).join('\n') : '';
    throw new Error(`localstack: could not install LocalStack: ${(error as Error).message}${tail ? `\n--- last lines of the install log ---\n${tail}` : ''}`);
  } finally {
    rmSync(partial, { recursive: true, force: true });
    rmSync(logFile, { force: true });
    rmSync(scratchHome, { recursive: true, force: true });
  }
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(`localstack: installed in ${seconds.toFixed(1)} s\n`);
  return { installed: true, seconds };
}

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
    throw new Error(`localstack: ${path.relative(ROOT, LOCALSTACK_VENV)} is missing or out of date; jest's globalSetup installs it (run the suite through jest), or call installLocalstack()`);
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
  const sqs = new SQSClient({ endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS, useQueueUrlAsEndpoint: false });
  return {
    endpoint,
    sqs,
    async stop() {
      sqs.destroy();
      await cleanUp();
    },
  };
}
