import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cliEnv, runCli, SPIGOT_BIN, useEmulatorEnvironment } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');
const packageVersion = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('the spigot launcher and bundle', () => {
  beforeAll(() => {
    // SSM and SQS go nowhere: commands below fail fast after building their SDK clients.
    useEmulatorEnvironment({ ssm: 'http://127.0.0.1:9', sqs: 'http://127.0.0.1:9' });
  });

  it('when asked for --version or -V, it prints the package version and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const result = await runCli([flag]);
      expect(result).toEqual({ code: 0, stdout: `${packageVersion}\n`, stderr: '' });
    }
  });

  it('when asked for --help, it lists every command on stdout and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    for (const command of ['status', 'open', 'close', 'drain', 'dlq', 'smoke']) expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
  });

  it('when a command builds an AWS client on Node 20, the SDK\'s Node 22 warning does not appear', async () => {
    const result = await runCli(['status', '--parameter', '/x/spigot', '--queue-url', 'http://127.0.0.1:9/1/q.fifo', '--dlq-url', 'http://127.0.0.1:9/1/d.fifo']);
    expect(result.code).toBe(1);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|will require node/);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('when the operator set the SDK warning switch, the launcher leaves it as set', async () => {
    const result = await runCli(['open', '--parameter', '/x/spigot'], { env: cliEnv({ AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/NodeVersionSupportWarning/);
  });

  it('when launched through bin/spigot.js with nothing configured, it exits 2 with a one-line error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'spigot-launcher-'));
    const result = spawnSync(process.execPath, [SPIGOT_BIN, 'open', '--state-dir', path.join(dir, 'missing')], { cwd: dir, env: cliEnv(), encoding: 'utf8', timeout: 30000 });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^spigot: /);
  });

  describe('in a copy of the launcher with a fake build script', () => {
    /** A project root whose "bundle" prints which build made it; scripts/build-cli.ts makes a new one. */
    const fakeProject = (): string => {
      const root = mkdtempSync(path.join(tmpdir(), 'spigot-launcher-'));
      for (const dir of ['bin', 'cli', 'dist/cli', 'scripts']) mkdirSync(path.join(root, dir), { recursive: true });
      copyFileSync(SPIGOT_BIN, path.join(root, 'bin', 'spigot.js'));
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
      writeFileSync(path.join(root, 'cli', 'index.ts'), '// source\n');
      writeFileSync(path.join(root, 'dist', 'cli', 'inputs.json'), JSON.stringify(['cli/index.ts']));
      const bundle = (label: string) => `exports.runFromProcess = () => console.log(${JSON.stringify(label)}, process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED);\n`;
      writeFileSync(path.join(root, 'dist', 'cli', 'spigot.js'), bundle('old bundle'));
      writeFileSync(
        path.join(root, 'scripts', 'build-cli.ts'),
        `import { writeFileSync } from 'node:fs';\nexport function buildCli(): void {\n  writeFileSync(${JSON.stringify(path.join(root, 'dist', 'cli', 'spigot.js'))}, ${JSON.stringify(bundle('rebuilt bundle'))});\n}\n`,
      );
      return root;
    };
    const launch = (root: string) => spawnSync(process.execPath, [path.join(root, 'bin', 'spigot.js')], { env: cliEnv(), encoding: 'utf8', timeout: 30000 });

    it('when the bundle is newer than every source, it runs it as is, with the SDK warning switched off', () => {
      const root = fakeProject();
      const past = new Date(Date.now() - 60_000);
      utimesSync(path.join(root, 'cli', 'index.ts'), past, past);
      expect(launch(root).stdout).toBe('old bundle true\n');
    });

    it('when a source is newer than the bundle, it rebuilds the bundle before running it', () => {
      const root = fakeProject();
      const past = new Date(Date.now() - 60_000);
      utimesSync(path.join(root, 'dist', 'cli', 'spigot.js'), past, past);
      const result = launch(root);
      expect(result.stdout).toBe('rebuilt bundle true\n');
      expect(launch(root).stdout).toBe('rebuilt bundle true\n');
    });

    it('when a source the bundle was built from is gone, it rebuilds', () => {
      const root = fakeProject();
      writeFileSync(path.join(root, 'dist', 'cli', 'inputs.json'), JSON.stringify(['cli/index.ts', 'cli/removed.ts']));
      expect(launch(root).stdout).toBe('rebuilt bundle true\n');
    });
  });
});
