/**
 * Installs LocalStack (see localstack.ts) into .venv/localstack: Python 3.13, the packages of
 * localstack-requirements.txt (every one pinned) and LocalStack's prebuilt service catalog.
 * Idempotent, keyed on the requirements file's hash, like scripts/scan.sh's checkov install;
 * jest's globalSetup runs it, outside any test timeout.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
export const LOCALSTACK_VENV = path.join(ROOT, '.venv', 'localstack');
const REQUIREMENTS = path.join(__dirname, 'localstack-requirements.txt');
const STAMP = '.spigot-installed';
/** LocalStack's "static libs" (FILESYSTEM_ROOT/usr/lib/localstack), built once at install time. */
export const STATIC_ROOT = 'spigot-static';
export const venvPython = (venv: string) => path.join(venv, 'bin', 'python');

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

export function installedIn(venv: string): boolean {
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
