import { SettingsError, readSettings } from '../../../functions/drain/settings';

const BASE = {
  JENKINS_URL: 'https://ci.example.com/jenkins/',
  QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spigot.fifo',
  DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/spigot-dlq.fifo',
  SPIGOT_PARAMETER_NAME: '/spigot/spigot',
};

function settingsError(env: Record<string, string | undefined>): SettingsError {
  try {
    readSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error('readSettings did not throw');
}

describe('readSettings', () => {
  it('when only the required variables are set, every other setting takes its default', () => {
    const settings = readSettings({ ...BASE });
    expect(settings.jenkinsUrl.href).toBe('https://ci.example.com/jenkins/');
    expect(settings.queueUrl).toBe(BASE.QUEUE_URL);
    expect(settings.deadLetterQueueUrl).toBe(BASE.DLQ_URL);
    expect(settings.spigotParameterName).toBe('/spigot/spigot');
    expect(settings).toMatchObject({
      concurrency: 8,
      httpTimeoutMs: 10_000,
      maxAttempts: 3,
      autoCloseAfterFailures: 5,
      hold: { defaultHoldSeconds: 30, minHoldSeconds: 60, maxHoldSeconds: 300 },
      refusals: { afterWebhooks: 5, fromRepositories: 2 },
      maxRunMs: 55_000,
      idleWaitSeconds: 5,
      stateRecheckMs: 2000,
      metricsNamespace: 'Spigot',
      metricsStack: 'spigot',
      probe: { path: '/whoAmI/api/json', method: 'GET', expectStatus: [200], timeoutMs: 5000 },
    });
    expect(settings.ratePerSecond).toBeUndefined();
    expect(settings.autoReopenAfterHealthyProbes).toBeUndefined();
    expect(settings.credentialsParameterName).toBeUndefined();
    expect(settings.webhookSecretParameterName).toBeUndefined();
  });

  it.each(['JENKINS_URL', 'QUEUE_URL', 'DLQ_URL', 'SPIGOT_PARAMETER_NAME'])('when %s is missing, the error names the variable', (name) => {
    const env: Record<string, string | undefined> = { ...BASE };
    delete env[name];
    const error = settingsError(env);
    expect(error.message).toContain(name);
    expect(error.message).toMatch(/required/);
  });

  it.each(['JENKINS_URL', 'QUEUE_URL'])('when %s is blank, the error names the variable', (name) => {
    const error = settingsError({ ...BASE, [name]: '   ' });
    expect(error.message).toContain(name);
  });

  it('when required values have surrounding whitespace, it is trimmed', () => {
    const settings = readSettings({ ...BASE, JENKINS_URL: ' https://ci.example.com/ ', QUEUE_URL: ` ${BASE.QUEUE_URL}\n` });
    expect(settings.jenkinsUrl.href).toBe('https://ci.example.com/');
    expect(settings.queueUrl).toBe(BASE.QUEUE_URL);
  });

  it('when JENKINS_URL is not a URL, the error says it must be absolute', () => {
    const error = settingsError({ ...BASE, JENKINS_URL: 'ci.example.com/jenkins' });
    expect(error.message).toContain('JENKINS_URL');
    expect(error.message).toMatch(/absolute/);
  });

  it('when JENKINS_URL is not http or https, the error says so', () => {
    const error = settingsError({ ...BASE, JENKINS_URL: 'ftp://ci.example.com/' });
    expect(error.message).toContain('JENKINS_URL');
    expect(error.message).toMatch(/http or https/);
  });

  it.each(['1', '8', '64'])('when CONCURRENCY is %s, it is accepted', (value) => {
    expect(readSettings({ ...BASE, CONCURRENCY: value }).concurrency).toBe(Number(value));
  });

  it.each(['0', '65', '-1', '2.5', 'eight', '1000'])('when CONCURRENCY is %j, the error names the variable, the range and the value', (value) => {
    const error = settingsError({ ...BASE, CONCURRENCY: value });
    expect(error.message).toContain('CONCURRENCY');
    expect(error.message).toContain('from 1 to 64');
    expect(error.message).toContain(JSON.stringify(value));
  });

  it('when CONCURRENCY is blank, the default is used', () => {
    expect(readSettings({ ...BASE, CONCURRENCY: '  ' }).concurrency).toBe(8);
  });

  it.each([
    ['200', [200]],
    ['200,403', [200, 403]],
    [' 200 , 302 ,403 ', [200, 302, 403]],
    ['100,599', [100, 599]],
  ])('when PROBE_EXPECT_STATUS is %j, it reads %j', (value, expected) => {
    expect(readSettings({ ...BASE, PROBE_EXPECT_STATUS: value }).probe.expectStatus).toEqual(expected);
  });

  it.each(['abc', '200,abc', '99', '600', '200;403', '200,,403', '2xx', '200.5'])(
    'when PROBE_EXPECT_STATUS is %j, the error names the variable',
    (value) => {
      expect(settingsError({ ...BASE, PROBE_EXPECT_STATUS: value }).message).toContain('PROBE_EXPECT_STATUS');
    },
  );

  it('when PROBE_METHOD is head in any case, it is HEAD; anything but GET or HEAD is refused', () => {
    expect(readSettings({ ...BASE, PROBE_METHOD: 'head' }).probe.method).toBe('HEAD');
    expect(settingsError({ ...BASE, PROBE_METHOD: 'POST' }).message).toContain('PROBE_METHOD');
  });

  it('when PROBE_PATH does not start with a slash, the error names the variable', () => {
    expect(settingsError({ ...BASE, PROBE_PATH: 'login' }).message).toContain('PROBE_PATH');
    expect(readSettings({ ...BASE, PROBE_PATH: '/login' }).probe.path).toBe('/login');
  });

  it('when numeric settings are given, they are read and MAX_RUN_SECONDS becomes milliseconds', () => {
    const settings = readSettings({
      ...BASE,
      RATE_PER_SECOND: '20',
      HTTP_TIMEOUT_MS: '2500',
      MAX_ATTEMPTS: '5',
      AUTO_CLOSE_AFTER_FAILURES: '9',
      AUTO_REOPEN_AFTER_HEALTHY_PROBES: '3',
      HOLD_SECONDS: '120',
      MIN_HOLD_SECONDS: '90',
      MAX_HOLD_SECONDS: '900',
      REFUSALS_AFTER_WEBHOOKS: '8',
      REFUSALS_FROM_REPOSITORIES: '3',
      REFUSAL_STATUSES: '404,403',
      MAX_RUN_SECONDS: '10',
      IDLE_WAIT_SECONDS: '0',
      STATE_RECHECK_MS: '500',
      PROBE_TIMEOUT_MS: '1500',
      JENKINS_CREDENTIALS_PARAMETER: '/spigot/jenkins-credentials',
      WEBHOOK_SECRET_PARAMETER: '/spigot/webhook-secret',
      METRICS_NAMESPACE: 'Custom',
      METRICS_STACK: 'prod',
    });
    expect(settings).toMatchObject({
      ratePerSecond: 20,
      httpTimeoutMs: 2500,
      maxAttempts: 5,
      autoCloseAfterFailures: 9,
      autoReopenAfterHealthyProbes: 3,
      hold: { defaultHoldSeconds: 120, minHoldSeconds: 90, maxHoldSeconds: 900 },
      refusals: { afterWebhooks: 8, fromRepositories: 3, statuses: new Set([404, 403]) },
      maxRunMs: 10_000,
      idleWaitSeconds: 0,
      stateRecheckMs: 500,
      credentialsParameterName: '/spigot/jenkins-credentials',
      webhookSecretParameterName: '/spigot/webhook-secret',
      metricsNamespace: 'Custom',
      metricsStack: 'prod',
    });
    expect(settings.probe.timeoutMs).toBe(1500);
  });

  it.each([
    ['MAX_ATTEMPTS', '0'],
    ['MAX_ATTEMPTS', '11'],
    ['HTTP_TIMEOUT_MS', '99'],
    ['HOLD_SECONDS', '43201'],
    ['MIN_HOLD_SECONDS', '0'],
    ['REFUSALS_AFTER_WEBHOOKS', '0'],
    ['REFUSAL_STATUSES', '404,500'],
    ['IDLE_WAIT_SECONDS', '21'],
    ['MAX_RUN_SECONDS', '901'],
    ['RATE_PER_SECOND', '0'],
  ])('when %s is %j, it is out of range and the error names it', (name, value) => {
    expect(settingsError({ ...BASE, [name]: value }).message).toContain(name);
  });

  it('when the hold maximum is below its minimum, the error names MAX_HOLD_SECONDS', () => {
    expect(settingsError({ ...BASE, MIN_HOLD_SECONDS: '120', MAX_HOLD_SECONDS: '60' }).message).toContain('MAX_HOLD_SECONDS');
  });

  it('when REFUSALS_UNTRUSTED_STATUSES is unset it is empty, and when set it is read like REFUSAL_STATUSES', () => {
    expect(readSettings(BASE).refusals.untrusted).toEqual(new Set());
    expect(readSettings({ ...BASE, REFUSALS_UNTRUSTED_STATUSES: '400' }).refusals.untrusted).toEqual(new Set([400]));
    expect(settingsError({ ...BASE, REFUSALS_UNTRUSTED_STATUSES: '500' }).message).toContain('REFUSALS_UNTRUSTED_STATUSES');
  });

  it('when REFUSALS_UNTRUSTED_STATUSES names `signature`, the drain\'s own signature failures are untrusted too', () => {
    expect(readSettings(BASE).refusals.untrustedSignatures).toBe(false);
    expect(readSettings({ ...BASE, REFUSALS_UNTRUSTED_STATUSES: 'signature' }).refusals).toMatchObject({ untrusted: new Set(), untrustedSignatures: true });
    expect(readSettings({ ...BASE, REFUSALS_UNTRUSTED_STATUSES: '400, Signature' }).refusals).toMatchObject({ untrusted: new Set([400]), untrustedSignatures: true });
  });

  it('when no refusal statuses are set, every 3xx and 4xx but 408 and 429 is judged', () => {
    const { statuses } = readSettings(BASE).refusals;
    expect(statuses.has(404) && statuses.has(302) && !statuses.has(429) && !statuses.has(408)).toBe(true);
  });

  it('when optional parameter names are empty, they are treated as unset', () => {
    const settings = readSettings({ ...BASE, JENKINS_CREDENTIALS_PARAMETER: '', WEBHOOK_SECRET_PARAMETER: '' });
    expect(settings.credentialsParameterName).toBeUndefined();
    expect(settings.webhookSecretParameterName).toBeUndefined();
  });

  it('when the error is thrown, it is a SettingsError whose message says it is about the drain environment', () => {
    const error = settingsError({});
    expect(error.name).toBe('SettingsError');
    expect(error.message).toMatch(/^drain environment variable JENKINS_URL/);
  });
});

describe('readSettings LOG_LEVEL', () => {
  it('when LOG_LEVEL is unset or any case of a known level, it reads it; otherwise it names the variable', () => {
    expect(readSettings(BASE).logLevel).toBe('INFO');
    expect(readSettings({ ...BASE, LOG_LEVEL: 'warn' }).logLevel).toBe('WARN');
    expect(() => readSettings({ ...BASE, LOG_LEVEL: 'LOUD' })).toThrow(/LOG_LEVEL/);
  });
});
