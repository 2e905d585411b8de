import { maxRunSeconds } from '../../stacks/drain-environment';
import { ConfigError, DEFAULT_CONFIG, mergeConfig, validateConfig } from '../../stacks/config';
import { onlyResourceOfType, resourcesOfType, synthStack } from '../support/synth';

const alarmNamed = (parsed: ReturnType<typeof synthStack>['parsed'], name: string) =>
  Object.values(resourcesOfType(parsed, 'aws_cloudwatch_metric_alarm')).find((a) => a.alarm_name === name);

describe('operating signals', () => {
  it('when the drain logs at WARN, Lambda still keeps INFO lines, so the EMF metrics are not dropped', () => {
    const [, fn] = onlyResourceOfType(synthStack({ drain: { logLevel: 'WARN' } }).parsed, 'aws_lambda_function');
    expect(fn.logging_config.application_log_level).toBe('INFO');
    expect(fn.environment.variables.LOG_LEVEL).toBe('WARN');
  });

  it('when no drain runs at all, an alarm says so (missing invocations count as breaching)', () => {
    const alarm = alarmNamed(synthStack().parsed, 'spigot-drain-not-running');
    expect(alarm).toMatchObject({ namespace: 'AWS/Lambda', metric_name: 'Invocations', comparison_operator: 'LessThanThreshold', treat_missing_data: 'breaching' });
  });

  it('when the drain publishes no SpigotOpen data, the oldest-message alarm treats the spigot as open', () => {
    const alarm = alarmNamed(synthStack().parsed, 'spigot-oldest-message-while-open');
    const expression = alarm.metric_query.find((q: { id: string }) => q.id === 'ageWhileOpen').expression;
    expect(expression).toContain('FILL(open, 1)');
  });

  it('when the API refuses a delivery as throttled or too large, a log metric filter counts it for an alarm', () => {
    const { parsed } = synthStack();
    const [, filter] = onlyResourceOfType(parsed, 'aws_cloudwatch_log_metric_filter');
    expect(filter.pattern).toContain('"429"');
    expect(filter.pattern).toContain('"413"');
    expect(filter.metric_transformation.dimensions).toEqual({ Stack: '$.stack' });
    const [, stage] = onlyResourceOfType(parsed, 'aws_api_gateway_stage');
    expect(JSON.parse(stage.access_log_settings.format).stack).toBe('spigot');
    expect(alarmNamed(parsed, 'spigot-refused-deliveries')).toMatchObject({ metric_name: 'RefusedDeliveries', dimensions: { Stack: 'spigot' }, threshold: 1 });
  });
});

describe('drain run length', () => {
  it('when scheduled every minute, a run receives for 55 s so runs tile the schedule', () => {
    expect(maxRunSeconds('rate(1 minute)', 300)).toBe(55);
    const [, fn] = onlyResourceOfType(synthStack().parsed, 'aws_lambda_function');
    expect(fn.environment.variables.MAX_RUN_SECONDS).toBe('55');
  });

  it('when scheduled less often, a run lasts until just before the next one, within the Lambda timeout', () => {
    expect(maxRunSeconds('rate(5 minutes)', 900)).toBe(295);
    expect(maxRunSeconds('rate(5 minutes)', 300)).toBe(240);
    expect(maxRunSeconds('rate(2 hours)', 900)).toBe(840);
  });

  it('when the schedule is not a valid EventBridge rate, synth refuses it by name', () => {
    for (const schedule of ['rate(5 minute)', 'rate(1 minutes)', 'rate(0 minutes)', 'every minute']) {
      expect(() => validateConfig(mergeConfig(DEFAULT_CONFIG, { drain: { schedule } }))).toThrow(ConfigError);
    }
    for (const schedule of ['rate(1 minute)', 'rate(10 minutes)', 'cron(0/2 * * * ? *)']) {
      expect(() => validateConfig(mergeConfig(DEFAULT_CONFIG, { drain: { schedule } }))).not.toThrow();
    }
  });
});
