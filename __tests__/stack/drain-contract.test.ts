/**
 * The contract between the stack and the drain: the environment Terraform gives the Lambda
 * is exactly what the drain's settings reader accepts, and carries the configured values.
 */
import { readSettings } from '../../functions/drain/settings';
import { onlyResourceOfType, synthStack } from '../support/synth';

/** Terraform references (`${aws_sqs_queue.x.url}`) resolve only at apply; stand in plausible values. */
function applied(variables: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [
      name,
      value.includes('${') ? (name.endsWith('_URL') ? 'https://sqs.us-east-1.amazonaws.com/123456789012/q.fifo' : '/spigot/resolved') : value,
    ]),
  );
}

describe('drain environment from the synthesized stack', () => {
  it('when synthesized with defaults, the drain accepts its environment and gets the configured values', () => {
    const [, fn] = onlyResourceOfType(synthStack().parsed, 'aws_lambda_function');
    const settings = readSettings(applied(fn.environment.variables));
    expect(settings.jenkinsUrl.href).toBe('https://jenkins.example.invalid/');
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
    const [, fn] = onlyResourceOfType(synthStack(overrides).parsed, 'aws_lambda_function');
    const settings = readSettings(applied(fn.environment.variables));
    expect(settings).toMatchObject({
      concurrency: 4, ratePerSecond: 20, httpTimeoutMs: 4000, maxAttempts: 2, autoCloseAfterFailures: 7,
      autoReopenAfterHealthyProbes: 3, credentialsParameterName: '/jenkins/token', webhookSecretParameterName: '/jenkins/hook-secret',
      probe: { path: '/login', method: 'HEAD', expectStatus: [200, 403], timeoutMs: 2000 },
    });
    expect(settings.jenkinsUrl.pathname).toBe('/jenkins');
  });
});
