/**
 * The contract between the stack and the drain: the environment Terraform gives the Lambda
 * is exactly what the drain's settings reader accepts, and carries the configured values.
 */
import { leaseSettings } from '../../functions/drain/adapters/run-lease';
import { readSettings } from '../../functions/drain/settings';
import { onlyResourceOfType, synthStack, type SynthesizedStack } from '../support/synth';

/**
 * Locals (`${local.x}`) resolve from the stack itself; resource references (`${aws_sqs_queue.x.url}`)
 * only at apply, so plausible values stand in for them.
 */
function applied(parsed: SynthesizedStack, variables: Record<string, string>): Record<string, string> {
  const locals = (parsed.locals ?? {}) as Record<string, string>;
  const resolve = (name: string, value: string): string => {
    const local = /^\$\{local\.([a-z0-9_]+)\}$/.exec(value);
    if (local) return locals[local[1]];
    if (!value.includes('${')) return value;
    return name.endsWith('_URL') ? 'https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo' : '/spigot/resolved';
  };
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolve(name, value)]));
}

const environmentOf = (parsed: SynthesizedStack) => applied(parsed, onlyResourceOfType(parsed, 'aws_lambda_function')[1].environment.variables);

describe('drain environment from the synthesized stack', () => {
  it('when synthesized with defaults, the drain accepts its environment and gets the configured values', () => {
    const environment = environmentOf(synthStack().parsed);
    const settings = readSettings(environment);
    expect(settings.jenkinsUrl.href).toBe('https://jenkins.example.invalid/');
    expect(leaseSettings(environment)).toEqual({ queueUrl: expect.stringMatching(/^https:/), waitSeconds: 5 });
    expect(settings.concurrency).toBe(8);
    expect(settings.maxAttempts).toBe(3);
    expect(settings.probe).toEqual({ path: '/whoAmI/api/json', method: 'GET', expectStatus: [200], timeoutMs: 5000 });
    expect(settings.drainStatusParameterName).toBeDefined();
  });

  it('when every optional drain setting is configured, each reaches the drain', () => {
    const overrides = {
      jenkinsUrl: 'https://ci.example.com/jenkins',
      drain: {
        concurrency: 4, ratePerSecond: 20, httpTimeoutMs: 4000, maxAttempts: 2, autoCloseAfterFailures: 7,
        autoReopenAfterHealthyProbes: 3, credentialsParameterName: '/jenkins/token', webhookSecretParameterName: '/jenkins/hook-secret',
        probe: { path: '/login', method: 'HEAD', expectStatus: [200, 403], timeoutMs: 2000 },
      },
    };
    const settings = readSettings(environmentOf(synthStack(overrides).parsed));
    expect(settings).toMatchObject({
      concurrency: 4, ratePerSecond: 20, httpTimeoutMs: 4000, maxAttempts: 2, autoCloseAfterFailures: 7,
      autoReopenAfterHealthyProbes: 3, credentialsParameterName: '/jenkins/token', webhookSecretParameterName: '/jenkins/hook-secret',
      probe: { path: '/login', method: 'HEAD', expectStatus: [200, 403], timeoutMs: 2000 },
    });
    expect(settings.jenkinsUrl.pathname).toBe('/jenkins');
  });

  it('when anyone (or any GitHub account) may send and the drain does not verify, the drain reads 400 as untrusted; with the operator\'s own CIDRs nothing is', () => {
    expect([...readSettings(environmentOf(synthStack({ allowedSources: ['anyone'] }).parsed)).refusals.untrusted ?? []]).toEqual([400]);
    expect([...readSettings(environmentOf(synthStack({ allowedSources: ['github'] }).parsed)).refusals.untrusted ?? []]).toEqual([400]);
    expect([...readSettings(environmentOf(synthStack({ allowedSources: ['203.0.113.0/24'] }).parsed)).refusals.untrusted ?? []]).toEqual([]);
  });
});
