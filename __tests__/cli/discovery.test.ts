import { chmodSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveResources, terraformErrorLine } from '../../cli/resources';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';

const outputsJson = (parameter: string): string =>
  JSON.stringify({
    queue_url: { sensitive: false, type: 'string', value: 'https://sqs.example/q.fifo' },
    dlq_url: { sensitive: false, type: 'string', value: 'https://sqs.example/dlq.fifo' },
    spigot_parameter_name: { sensitive: false, type: 'string', value: parameter },
    drain_function_name: { sensitive: false, type: 'string', value: 'spigot-drain' },
    webhook_urls: {
      sensitive: false,
      type: ['object', {}],
      value: { '/generic-webhook-trigger/invoke': 'https://api.example/prod/generic-webhook-trigger/invoke', '/github-webhook/': 'https://api.example/prod/github-webhook/' },
    },
    webhook_url_0: { sensitive: false, type: 'string', value: 'https://api.example/prod/github-webhook/' },
  });

describe('resource discovery', () => {
  let ssm: LoopbackSsm;
  let dir: string;

  beforeAll(async () => {
    ssm = await startLoopbackSsm();
    useEmulatorEnvironment({ ssm: ssm.endpoint });
    ssm.putDirect('/from-outputs/spigot', 'open');
    ssm.putDirect('/from-flag/spigot', 'open');
    ssm.putDirect('/from-env/spigot', 'open');
    dir = mkdtempSync(path.join(tmpdir(), 'spigot-cli-'));
  });
  afterAll(async () => {
    await ssm?.stop();
  });

  it('when nothing is configured, it exits 2 with one short line naming the config file and --stack', async () => {
    const result = await runCli(['status'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'spigot: no stack configured: run spigot where spigot.config.json is (or set SPIGOT_CONFIG to its path), or pass --stack NAME\n',
    );
  });

  it('when a saved `terraform output -json` is given, it reads the {name: {value}} shape', async () => {
    const file = path.join(dir, 'outputs.json');
    writeFileSync(file, outputsJson('/from-outputs/spigot'));
    const result = await runCli(['open', '--outputs-file', file, '--json'], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).current.parameterName).toBe('/from-outputs/spigot');
  });

  it('when flags, environment and outputs all name a resource, flags win over environment, which wins over outputs', async () => {
    const file = path.join(dir, 'outputs.json');
    writeFileSync(file, outputsJson('/from-outputs/spigot'));
    const env = cliEnv({ SPIGOT_PARAMETER_NAME: '/from-env/spigot' });
    const flag = await runCli(['open', '--parameter', '/from-flag/spigot', '--outputs-file', file, '--json'], { cwd: dir, env });
    expect(JSON.parse(flag.stdout).current.parameterName).toBe('/from-flag/spigot');
    const fromEnv = await runCli(['open', '--outputs-file', file, '--json'], { cwd: dir, env });
    expect(JSON.parse(fromEnv.stdout).current.parameterName).toBe('/from-env/spigot');
  });

  it('when the outputs file is not terraform output JSON, it says what shape it expected', async () => {
    const file = path.join(dir, 'flat.json');
    writeFileSync(file, JSON.stringify({ spigot_parameter_name: '/x' }));
    const result = await runCli(['open', '--outputs-file', file], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('output "spigot_parameter_name" has no "value"; expected the {name: {value}} shape');
    const missing = await runCli(['open', '--outputs-file', path.join(dir, 'nope.json')], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('cannot read --outputs-file');
  });

  it('when --state-dir is given, it runs `terraform output -json` there and its outputs beat the stack\'s names', async () => {
    const stateDir = path.join(dir, 'cdktf.out', 'stacks', 'prod');
    mkdirSync(stateDir, { recursive: true });
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const fake = path.join(bin, 'terraform');
    writeFileSync(fake, `#!/bin/sh\n[ "$1 $2" = "output -json" ] || exit 9\npwd > "${path.join(dir, 'ran-in')}"\ncat <<'JSON'\n${outputsJson('/from-outputs/spigot')}\nJSON\n`);
    chmodSync(fake, 0o755);
    const env = cliEnv({ PATH: `${bin}:${process.env.PATH}` });
    const result = await runCli(['open', '--stack', 'prod', '--state-dir', 'cdktf.out/stacks/prod', '--json'], { cwd: dir, env });
    expect(result.stderr).toContain('reading `terraform output -json` in cdktf.out/stacks/prod');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).current.parameterName).toBe('/from-outputs/spigot');
    expect(readFileSync(path.join(dir, 'ran-in'), 'utf8').trim()).toBe(realpathSync(stateDir));
  });

  it('when terraform fails, it shows terraform\'s error line in the missing-resource message', async () => {
    const bin = path.join(dir, 'failing-bin');
    mkdirSync(bin, { recursive: true });
    const fake = path.join(bin, 'terraform');
    writeFileSync(fake, '#!/bin/sh\necho "Warning: x" >&2\necho "Error: Backend initialization required, please run \\"terraform init\\"" >&2\nexit 1\n');
    chmodSync(fake, 0o755);
    const result = await runCli(['drain', '--state-dir', '.'], { cwd: dir, env: cliEnv({ PATH: `${bin}:${process.env.PATH}` }) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('cannot find the drain function name: pass --function, or set SPIGOT_DRAIN_FUNCTION');
    expect(result.stderr).toContain('Error: Backend initialization required');
    expect(terraformErrorLine('Warning: x\n\u001b[31m│\u001b[0m \u001b[1mError: \u001b[0mBackend initialization required\n')).toBe('Error: Backend initialization required');
  });

  it('when the webhook URL comes from the stack\'s default state dir outputs, it prefers the GitHub route unless --route picks another', async () => {
    const outputs = JSON.parse(outputsJson('/x'));
    const ctx = (flags: object) => ({ flags, env: {}, cwd: dir, stack: { name: 'spigot', source: '--stack' }, runTerraform: async () => JSON.stringify(outputs) });
    mkdirSync(path.join(dir, 'cdktf.out', 'stacks', 'spigot'), { recursive: true });
    expect((await resolveResources(['webhookUrl'], ctx({}))).webhookUrl).toBe('https://api.example/prod/github-webhook/');
    expect((await resolveResources(['webhookUrl'], ctx({ route: '/generic-webhook-trigger/invoke' }))).webhookUrl).toBe(
      'https://api.example/prod/generic-webhook-trigger/invoke',
    );
    await expect(resolveResources(['webhookUrl'], ctx({ route: '/nope/' }))).rejects.toThrow('--route /nope/ is not in the webhook_urls output');
  });
});
