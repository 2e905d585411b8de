import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { onlyResourceOfType, ref, resourcesOfType, synthStack } from '../support/synth';

Testing.setupJest();

const ALARMS = [
  'oldest-message-while-open',
  'held-webhook-age',
  'dead-letters',
  'drain-errors',
  'auto-closed',
  'api-4xxerror',
  'api-5xxerror',
  'closed-too-long',
  'forged-deliveries',
];

describe('alarms', () => {
  const { json, parsed } = synthStack();
  const [topicId] = onlyResourceOfType(parsed, 'aws_sns_topic');
  const topicArn = ref('aws_sns_topic', topicId, 'arn');
  const alarms = Object.values(resourcesOfType(parsed, 'aws_cloudwatch_metric_alarm'));
  const alarmNamed = (suffix: string) => alarms.find((a) => a.alarm_name === `spigot-${suffix}`);

  it.each(ALARMS)('when synthesized with defaults, the %s alarm exists and notifies the SNS topic', (suffix) => {
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, { alarm_name: `spigot-${suffix}`, alarm_actions: [topicArn] });
  });

  it('when synthesized with defaults, there are no alarms without actions', () => {
    expect(alarms.length).toBeGreaterThanOrEqual(ALARMS.length);
    for (const alarm of alarms) expect(alarm.alarm_actions).toEqual([topicArn]);
  });

  it('when thresholds are configured, the alarms use them', () => {
    const { parsed: other } = synthStack({ alarms: { oldestMessageAgeSeconds: 1800, maxClosedHours: 8, api4xxPer5Minutes: 5, api5xxPer5Minutes: 3 } });
    const named = (suffix: string) => Object.values(resourcesOfType(other, 'aws_cloudwatch_metric_alarm')).find((a) => a.alarm_name === `spigot-${suffix}`);
    expect(named('oldest-message-while-open').threshold).toBe(1800);
    expect(named('closed-too-long')).toMatchObject({ evaluation_periods: 8, period: 3600 });
    expect(named('api-4xxerror').threshold).toBe(5);
    expect(named('api-5xxerror').threshold).toBe(3);
  });

  it('when synthesized with defaults, the oldest-message alarm only counts age while the spigot is open', () => {
    const alarm = alarmNamed('oldest-message-while-open');
    expect(alarm.threshold).toBe(DEFAULT_CONFIG.alarms.oldestMessageAgeSeconds);
    const returned = alarm.metric_query.filter((q: { return_data?: boolean }) => q.return_data === true);
    expect(returned).toHaveLength(1);
    expect(returned[0].expression).toContain('open');
  });

  it('when alarms.email is not set, there is no e-mail subscription', () => {
    expect(Object.keys(resourcesOfType(parsed, 'aws_sns_topic_subscription'))).toHaveLength(0);
  });

  it('when alarms.email is set, the topic has an e-mail subscription to it', () => {
    const { json: other, parsed: otherParsed } = synthStack({ alarms: { email: 'ops@example.com' } });
    const [otherTopicId] = onlyResourceOfType(otherParsed, 'aws_sns_topic');
    expect(other).toHaveResourceWithProperties(SnsTopicSubscription, {
      protocol: 'email',
      endpoint: 'ops@example.com',
      topic_arn: ref('aws_sns_topic', otherTopicId, 'arn'),
    });
  });

  it('when the drain dead-letters even one delivery for a signature mismatch in 5 minutes, the forged-deliveries alarm fires; quiet periods do not', () => {
    expect(alarmNamed('forged-deliveries')).toMatchObject({
      namespace: 'Spigot', metric_name: 'SignatureMismatches', dimensions: { Stack: 'spigot' },
      statistic: 'Sum', period: 300, evaluation_periods: 1, threshold: 0, comparison_operator: 'GreaterThanThreshold', treat_missing_data: 'notBreaching',
    });
  });

  it('when a flood comes, the dashboard shows forged deliveries next to the edge refusals', () => {
    const [, dashboard] = onlyResourceOfType(parsed, 'aws_cloudwatch_dashboard');
    const metrics = JSON.parse(dashboard.dashboard_body).widgets.flatMap((w: { properties: { metrics: unknown[][] } }) => w.properties.metrics);
    expect(metrics).toContainEqual(['Spigot', 'SignatureMismatches', 'Stack', 'spigot', { stat: 'Sum' }]);
    expect(metrics).toContainEqual(['Spigot', 'RefusedDeliveries', 'Stack', 'spigot', { stat: 'Sum' }]);
  });

  it('when synthesized with defaults, a dashboard exists with a valid JSON body', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchDashboard, { dashboard_name: 'spigot' });
    const [, dashboard] = onlyResourceOfType(parsed, 'aws_cloudwatch_dashboard');
    expect(JSON.parse(dashboard.dashboard_body).widgets.length).toBeGreaterThan(0);
  });
});
