import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, configPath, loadConfig, validateConfig } from '../../stacks/config';
import { configProblems, synthStack } from '../support/synth';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
const TSX = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = path.join(PROJECT_ROOT, 'main.ts');

const problemsFor = (override: object): string[] => configProblems(override, 'spigot.config.json');

/** Expects exactly one problem, naming `field`, and returns it. */
function onlyProblem(override: object, field: string): string {
  const problems = problemsFor(override);
  expect(problems).toHaveLength(1);
  expect(problems[0].startsWith(`${field}: `)).toBe(true);
  expect(problems[0]).toContain('spigot.config.json');
  return problems[0];
}

describe('validateConfig', () => {
  let tmp: string;
  beforeAll(() => { tmp = mkdtempSync(path.join(tmpdir(), 'spigot-config-')); });
  afterAll(() => { rmSync(tmp, { recursive: true, force: true }); });

  it('when given the defaults, it accepts them unchanged', () => {
    expect(validateConfig(DEFAULT_CONFIG)).toBe(DEFAULT_CONFIG);
  });

  it('when jenkinsUrl is not a URL, it names jenkinsUrl and shows an example', () => {
    expect(onlyProblem({ jenkinsUrl: 'jenkins.example.com' }, 'jenkinsUrl')).toMatch(/absolute http\(s\) URL such as "https:\/\//);
  });

  it('when jenkinsUrl has a query, credentials or a non-http scheme, it says where credentials belong', () => {
    for (const jenkinsUrl of ['https://jenkins.example.com/?x=1', 'https://user:token@jenkins.example.com', 'ftp://jenkins.example.com']) {
      expect(onlyProblem({ jenkinsUrl }, 'jenkinsUrl')).toContain('drain.credentialsParameterName');
    }
  });

  it('when a route has a {parameter}, it names that route and says parameters are not allowed', () => {
    expect(onlyProblem({ routes: ['/github-webhook/', '/hooks/{id}'] }, 'routes[1]')).toMatch(/no \{parameters\}/);
  });

  it('when two routes differ only by a trailing slash or case, it reports the duplicate', () => {
    expect(onlyProblem({ routes: ['/github-webhook/', '/github-webhook'] }, 'routes[1]')).toMatch(/duplicates another route/);
    expect(onlyProblem({ routes: ['/Hooks', '/hooks/'] }, 'routes[1]')).toMatch(/duplicates another route/);
  });

  it('when routes is empty, it asks for at least one route', () => {
    expect(onlyProblem({ routes: [] }, 'routes')).toMatch(/at least one/);
  });

  it('when a key is unknown, it names the key and lists the known settings', () => {
    const problem = onlyProblem({ jenkinsURL: 'https://x.example.com' }, 'jenkinsURL');
    expect(problem).toMatch(/unknown setting/);
    for (const known of Object.keys(DEFAULT_CONFIG)) expect(problem).toContain(known);
  });

  it('when a nested key is unknown, it names the full path and lists that object\'s settings', () => {
    const problem = onlyProblem({ drain: { timeout: 30 } }, 'drain.timeout');
    expect(problem).toContain('timeoutSeconds');
  });

  it('when a CIDR is malformed, it names the entry and shows an example', () => {
    expect(onlyProblem({ allowedSourceCidrs: ['192.30.252.0/22', '192.30.252.0'] }, 'allowedSourceCidrs[1]')).toMatch(/CIDR block such as "192\.30\.252\.0\/22"/);
    expect(onlyProblem({ allowedSourceCidrs: ['anywhere'] }, 'allowedSourceCidrs[0]')).toMatch(/CIDR/);
  });

  it('when logRetentionDays is not a CloudWatch retention value, it lists the allowed values', () => {
    const problem = onlyProblem({ logRetentionDays: 100 }, 'logRetentionDays');
    expect(problem).toContain('90, 120');
    expect(problem).toContain('got 100');
  });

  it('when several fields are wrong, it reports every problem at once', () => {
    const problems = problemsFor({ jenkinsUrl: 'nope', logRetentionDays: 2, maxReceiveCount: 1 });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['jenkinsUrl', 'logRetentionDays', 'maxReceiveCount']);
  });

  it('when drain timeouts do not fit the run, it says which knobs to change', () => {
    expect(onlyProblem({ drain: { timeoutSeconds: 30, httpTimeoutMs: 10000, maxAttempts: 3 } }, 'drain.httpTimeoutMs')).toMatch(/drain\.timeoutSeconds/);
  });

  it('when SPIGOT_CONFIG points to a JSON file, loadConfig merges it onto the defaults', () => {
    const file = path.join(tmp, 'override.json');
    writeFileSync(file, JSON.stringify({ jenkinsUrl: 'https://ci.example.com/jenkins', drain: { concurrency: 2 } }));
    expect(configPath({ SPIGOT_CONFIG: file } as NodeJS.ProcessEnv, tmp)).toBe(file);
    const config = loadConfig(configPath({ SPIGOT_CONFIG: file } as NodeJS.ProcessEnv, tmp));
    expect(config.jenkinsUrl).toBe('https://ci.example.com/jenkins');
    expect(config.drain.concurrency).toBe(2);
    expect(config.drain.timeoutSeconds).toBe(DEFAULT_CONFIG.drain.timeoutSeconds);
    expect(config.drain.probe).toEqual(DEFAULT_CONFIG.drain.probe);
    expect(config.routes).toEqual(DEFAULT_CONFIG.routes);
  });

  it('when SPIGOT_CONFIG is relative, it resolves against the working directory', () => {
    expect(configPath({ SPIGOT_CONFIG: 'x/y.json' } as NodeJS.ProcessEnv, tmp)).toBe(path.join(tmp, 'x', 'y.json'));
  });

  it('when the config file is not JSON, loadConfig names the file', () => {
    const file = path.join(tmp, 'broken.json');
    writeFileSync(file, '{ jenkinsUrl: ');
    expect(() => loadConfig(file)).toThrow(ConfigError);
    expect(() => loadConfig(file)).toThrow(file);
  });

  it('when the config file has a bad field, loadConfig names the field and the file', () => {
    const file = path.join(tmp, 'bad-field.json');
    writeFileSync(file, JSON.stringify({ logRetentionDays: 2 }));
    expect(() => loadConfig(file)).toThrow(/logRetentionDays: .*\(set it in .*bad-field\.json\)/);
  });
});

describe('main.ts', () => {
  let cwd: string;
  beforeEach(() => { cwd = mkdtempSync(path.join(tmpdir(), 'spigot-main-')); });
  afterEach(() => { rmSync(cwd, { recursive: true, force: true }); });

  const runMain = (env: Record<string, string>) =>
    spawnSync(TSX, [MAIN], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60000 });

  it('when SPIGOT_CONFIG has a bad field, it exits 2, prints the field and synthesizes nothing', () => {
    const file = path.join(cwd, 'bad.json');
    writeFileSync(file, JSON.stringify({ jenkinsUrl: 'not a url', alarms: { maxClosedHours: 0 } }));
    const result = runMain({ SPIGOT_CONFIG: file });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('jenkinsUrl:');
    expect(result.stderr).toContain('alarms.maxClosedHours:');
    expect(result.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(path.join(cwd, 'cdktf.out'))).toBe(false);
  });

  it('when run with the embedded defaults (npm run synth), it writes exactly one stack', () => {
    const env: Record<string, string> = { SPIGOT_CONFIG: '' };
    const result = runMain(env);
    expect({ status: result.status, stderr: result.stderr }).toEqual({ status: 0, stderr: expect.not.stringMatching(/error/i) });
    expect(readdirSync(path.join(cwd, 'cdktf.out', 'stacks'))).toEqual([DEFAULT_CONFIG.name]);
    const synthesized = JSON.parse(readFileSync(path.join(cwd, 'cdktf.out', 'stacks', DEFAULT_CONFIG.name, 'cdk.tf.json'), 'utf8'));
    expect(Object.keys(synthesized.resource.aws_sqs_queue).length).toBeGreaterThanOrEqual(2);
  });
});

describe('drain.refusals and drain.hold', () => {
  const problems = (drain: object): string[] => problemsFor({ drain });

  it('when refusal statuses name a 5xx, 408 or 429, the error names the entry and says how to turn judging off', () => {
    for (const bad of ['500', '429', '408']) {
      const [problem] = problems({ refusals: { statuses: ['404', bad] } });
      expect(problem).toContain('drain.refusals.statuses');
      expect(problem).toContain(JSON.stringify(bad));
      expect(problem).toContain('use []');
    }
  });

  it('when refusals or holds are not objects, or hold an unknown key, the error lists the keys they take', () => {
    expect(problems({ refusals: 5 })[0]).toMatch(/drain\.refusals: must be an object with afterWebhooks, fromRepositories, statuses/);
    expect(problems({ hold: { minSecs: 1 } })[0]).toMatch(/drain\.hold\.minSecs: unknown setting/);
  });

  it('when the hold maximum is below its minimum, the error says so', () => {
    expect(problems({ hold: { minSeconds: 120, maxSeconds: 60 } })).toEqual([expect.stringContaining('drain.hold.maxSeconds: must be at least drain.hold.minSeconds (120)')]);
  });

  it('when the defaults are used, the drain function gets the refusal and hold settings in its environment', () => {
    const env = synthStack().parsed.resource.aws_lambda_function;
    const variables = (Object.values(env)[0] as { environment: { variables: Record<string, string> } }).environment.variables;
    expect(variables).toMatchObject({
      REFUSALS_AFTER_WEBHOOKS: '5', REFUSALS_FROM_REPOSITORIES: '2', REFUSAL_STATUSES: '3xx,4xx',
      HOLD_SECONDS: '30', MIN_HOLD_SECONDS: '60', MAX_HOLD_SECONDS: '300',
    });
  });

  it('when refusal statuses are empty, the drain is told "none" rather than an empty (default) list', () => {
    const parsed = synthStack({ drain: { refusals: { statuses: [] } } }).parsed;
    const variables = (Object.values(parsed.resource.aws_lambda_function)[0] as { environment: { variables: Record<string, string> } }).environment.variables;
    expect(variables.REFUSAL_STATUSES).toBe('none');
  });
});
