import { Construct } from 'constructs';
import { CloudwatchDashboard } from '@cdktf/provider-aws/lib/cloudwatch-dashboard';
import { CloudwatchLogMetricFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-metric-filter';
import { CloudwatchMetricAlarm, type CloudwatchMetricAlarmConfig } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription';
import type { AlarmConfig } from '../config';
import { METRICS_NAMESPACE } from '../drain-environment';

export interface OperationsOptions {
  readonly name: string;
  readonly region: string;
  readonly kmsKeyArn: string;
  readonly apiName: string;
  readonly stageName: string;
  readonly queueName: string;
  readonly deadLetterQueueName: string;
  /** The drain Lambda, or the agent (drain.mode "agent"), whose run alarms then read its own Runs and RunErrors metrics. */
  readonly drain: { readonly mode: 'lambda'; readonly functionName: string } | { readonly mode: 'agent' };
  /** The API access log, where refused deliveries are counted. */
  readonly accessLogGroupName: string;
  /** The WAF's CloudWatch metric names, when config `waf` is on. @default undefined (no WAF) */
  readonly waf?: { readonly webAcl: string; readonly rule: string };
  readonly alarms: AlarmConfig;
}

/** Counted from the access log, whose records carry the stack name for this dimension. */
const REFUSED_DELIVERIES_METRIC = 'RefusedDeliveries';

type AlarmSpec = Omit<CloudwatchMetricAlarmConfig, 'alarmName' | 'alarmActions' | 'okActions'>;

/** Alarms for everything that means "webhooks are not reaching Jenkins", and one dashboard. */
export class Operations extends Construct {
  readonly topic: SnsTopic;
  readonly alarms: Record<string, CloudwatchMetricAlarm> = {};

  constructor(scope: Construct, id: string, o: OperationsOptions) {
    super(scope, id);
    this.topic = new SnsTopic(this, 'alarm-topic', { name: `${o.name}-alarms`, kmsMasterKeyId: o.kmsKeyArn });
    if (o.alarms.email) {
      new SnsTopicSubscription(this, 'alarm-email', { topicArn: this.topic.arn, protocol: 'email', endpoint: o.alarms.email });
    }
    const stack = [{ name: 'Stack', value: o.name }];
    const spigot = (metricName: string, stat: string) => ({
      namespace: METRICS_NAMESPACE, metricName, stat, period: 300, dimensions: stack,
    });

    this.alarm('oldest-message-while-open', o, {
      alarmDescription: `A held webhook is older than ${o.alarms.oldestMessageAgeSeconds}s while the spigot is open: the drain is not releasing.`,
      comparisonOperator: 'GreaterThanThreshold',
      threshold: o.alarms.oldestMessageAgeSeconds,
      evaluationPeriods: 2,
      treatMissingData: 'notBreaching',
      metricQuery: [
        { id: 'age', metric: { namespace: 'AWS/SQS', metricName: 'ApproximateAgeOfOldestMessage', stat: 'Maximum', period: 300, dimensions: { QueueName: o.queueName } } },
        { id: 'open', metric: { ...toMetric(spigot('SpigotOpen', 'Minimum')) } },
        // No SpigotOpen data means no drain ran: count that as open, so a stopped drain alarms too.
        { id: 'ageWhileOpen', expression: 'IF(FILL(open, 1) >= 1, age, 0)', label: 'Oldest message age while open', returnData: true },
      ],
    });
    // SQS leaves messages that were received and not deleted out of ApproximateAgeOfOldestMessage,
    // which is exactly a repository the drain keeps holding (429/503, failures): the drain reports
    // the oldest webhook it received itself. It receives nothing while closed, so this is "while open".
    this.alarm('held-webhook-age', o, {
      alarmDescription: `The drain keeps receiving a webhook older than ${o.alarms.oldestMessageAgeSeconds}s without delivering it: a repository is held (Jenkins answers 429/503 or fails for it). See the drain logs and \`spigot status\`.`,
      ...flat(spigot('OldestMessageAgeSeconds', 'Maximum')),
      evaluationPeriods: 2, threshold: o.alarms.oldestMessageAgeSeconds, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    this.alarm('dead-letters', o, {
      alarmDescription: 'Webhooks are in the dead-letter queue: Jenkins rejected them or they could not be delivered. See `spigot dlq list`.',
      namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: { QueueName: o.deadLetterQueueName },
      statistic: 'Maximum', period: 300, evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    if (o.drain.mode === 'lambda') {
      this.alarm('drain-errors', o, {
        alarmDescription: 'The drain Lambda failed (crash or timeout).',
        namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: { FunctionName: o.drain.functionName },
        statistic: 'Sum', period: 300, evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
      });
      this.alarm('drain-not-running', o, {
        alarmDescription: 'The drain has not run for 10 minutes (schedule disabled, throttled, or failing to start): nothing is released.',
        namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: { FunctionName: o.drain.functionName },
        statistic: 'Sum', period: 600, evaluationPeriods: 1, threshold: 1, comparisonOperator: 'LessThanThreshold', treatMissingData: 'breaching',
      });
    } else {
      // The agent has no AWS/Lambda metrics: every run, open or closed, counts itself in Runs.
      this.alarm('agent-heartbeat-missing', o, {
        alarmDescription: 'No drain agent has finished a run for 10 minutes (agent stopped or crashing, SQS or SSM unreachable from it, or its metrics not reaching CloudWatch): nothing is released. See `spigot status` and the agent\'s logs.',
        ...flat({ ...spigot('Runs', 'Sum'), period: 600 }),
        evaluationPeriods: 1, threshold: 1, comparisonOperator: 'LessThanThreshold', treatMissingData: 'breaching',
      });
      this.alarm('agent-run-errors', o, {
        alarmDescription: 'A drain agent run failed (SQS, SSM or the run lease unreachable, or an error in the run); the agent hands back what it held and tries again. See the agent\'s logs ("drain run failed", "agent run failed").',
        ...flat(spigot('RunErrors', 'Sum')), evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
      });
    }
    this.alarm('auto-closed', o, {
      alarmDescription: 'The drain closed the spigot because Jenkins was unhealthy. Webhooks are held; see the runbook to reopen.',
      ...flat(spigot('AutoCloses', 'Sum')), evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    for (const [family, threshold] of [['4XXError', o.alarms.api4xxPer5Minutes], ['5XXError', o.alarms.api5xxPer5Minutes]] as const) {
      this.alarm(`api-${family.toLowerCase()}`, o, {
        alarmDescription: `The webhook API answered ${family.slice(0, 3)} at least ${threshold} times in 5 minutes: senders' deliveries are being refused.`,
        namespace: 'AWS/ApiGateway', metricName: family, dimensions: { ApiName: o.apiName, Stage: o.stageName },
        statistic: 'Sum', period: 300, evaluationPeriods: 1, threshold, comparisonOperator: 'GreaterThanOrEqualToThreshold', treatMissingData: 'notBreaching',
      });
    }
    // GitHub does not retry: a throttled (429) or oversized (413) delivery is lost unless
    // someone redelivers it, so even one is worth an alarm (404/405/415 scanner noise is not).
    new CloudwatchLogMetricFilter(this, 'refused-deliveries-filter', {
      name: `${o.name}-refused-deliveries`,
      logGroupName: o.accessLogGroupName,
      pattern: '{ ($.status = "429") || ($.status = "413") }',
      metricTransformation: { name: REFUSED_DELIVERIES_METRIC, namespace: METRICS_NAMESPACE, value: '1', dimensions: { Stack: '$.stack' } },
    });
    this.alarm('refused-deliveries', o, {
      alarmDescription: 'The API refused deliveries as throttled (429) or too large (413). Senders do not retry: redeliver them from GitHub\'s "Recent deliveries".',
      namespace: METRICS_NAMESPACE, metricName: REFUSED_DELIVERIES_METRIC, dimensions: { Stack: o.name },
      statistic: 'Sum', period: 300, evaluationPeriods: 1, threshold: 1, comparisonOperator: 'GreaterThanOrEqualToThreshold', treatMissingData: 'notBreaching',
    });
    // Only an outsider (or a wrong secret) produces these, so even one is worth a look.
    this.alarm('forged-deliveries', o, {
      alarmDescription: 'The drain dead-lettered deliveries whose signature does not match the webhook secret: forged deliveries (see `spigot dlq list`), or a sender using another secret. docs/security.md "Forged, tampered and replayed webhooks".',
      ...flat(spigot('SignatureMismatches', 'Sum')), evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
    });
    if (o.waf) {
      // A source over the rate is refused (429); GitHub does not retry, so this may be genuine deliveries lost.
      this.alarm('rate-limited-sources', o, {
        alarmDescription: 'AWS WAF refused requests from a source over waf.ratePer5Minutes. A flood is being held off; if the source is your sender, its deliveries were lost: redeliver them and raise the limit.',
        namespace: 'AWS/WAFV2', metricName: 'BlockedRequests', dimensions: { WebACL: o.waf.webAcl, Rule: o.waf.rule, Region: o.region },
        statistic: 'Sum', period: 300, evaluationPeriods: 1, threshold: 0, comparisonOperator: 'GreaterThanThreshold', treatMissingData: 'notBreaching',
      });
    }
    this.alarm('closed-too-long', o, {
      alarmDescription: `The spigot has been closed for more than ${o.alarms.maxClosedHours}h: is the maintenance over?`,
      ...flat({ ...spigot('SpigotOpen', 'Maximum'), period: 3600 }),
      evaluationPeriods: o.alarms.maxClosedHours, threshold: 1, comparisonOperator: 'LessThanThreshold', treatMissingData: 'missing',
    });

    new CloudwatchDashboard(this, 'dashboard', {
      dashboardName: o.name,
      dashboardBody: JSON.stringify(dashboardBody(o)),
    });
  }

  private alarm(id: string, o: OperationsOptions, spec: AlarmSpec): void {
    this.alarms[id] = new CloudwatchMetricAlarm(this, id, {
      alarmName: `${o.name}-${id}`,
      alarmActions: [this.topic.arn],
      okActions: [this.topic.arn],
      ...spec,
    });
  }
}

interface MetricRef { namespace: string; metricName: string; stat: string; period: number; dimensions: Array<{ name: string; value: string }> }
const dims = (d: MetricRef['dimensions']) => Object.fromEntries(d.map(({ name, value }) => [name, value]));
const toMetric = (m: MetricRef) => ({ namespace: m.namespace, metricName: m.metricName, stat: m.stat, period: m.period, dimensions: dims(m.dimensions) });
const flat = (m: MetricRef) => ({ namespace: m.namespace, metricName: m.metricName, statistic: m.stat, period: m.period, dimensions: dims(m.dimensions) });

/** The flow end to end: edge -> buffer -> drain -> Jenkins, and the dead letters. */
function dashboardBody(o: OperationsOptions) {
  const widget = (title: string, metrics: unknown[][], y: number, x: number) => ({
    type: 'metric', x, y, width: 12, height: 6,
    properties: { title, region: o.region, view: 'timeSeries', stacked: false, period: 60, metrics },
  });
  const api = ['AWS/ApiGateway'];
  const apiDims = ['ApiName', o.apiName, 'Stage', o.stageName];
  const s = [METRICS_NAMESPACE];
  const stackDim = ['Stack', o.name];
  const runs = o.drain.mode === 'lambda'
    ? [['AWS/Lambda', 'Invocations', 'FunctionName', o.drain.functionName, { stat: 'Sum' }], ['AWS/Lambda', 'Errors', 'FunctionName', o.drain.functionName, { stat: 'Sum' }]]
    : [[...s, 'Runs', ...stackDim, { stat: 'Sum' }], [...s, 'RunErrors', ...stackDim, { stat: 'Sum' }]];
  return {
    widgets: [
      widget('1. Webhooks received by the API', [[...api, 'Count', ...apiDims, { stat: 'Sum' }], [...api, '4XXError', ...apiDims, { stat: 'Sum' }], [...api, '5XXError', ...apiDims, { stat: 'Sum' }]], 0, 0),
      widget('2. Held in the buffer', [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', o.queueName], ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', o.queueName], ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', o.queueName, { yAxis: 'right' }]], 0, 12),
      widget('3. Spigot open (1) / closed (0), auto-closes', [[...s, 'SpigotOpen', ...stackDim, { stat: 'Minimum' }], [...s, 'AutoCloses', ...stackDim, { stat: 'Sum' }], [...s, 'SystemicRefusals', ...stackDim, { stat: 'Sum' }], [...s, 'ProbeFailures', ...stackDim, { stat: 'Sum' }]], 6, 0),
      widget('4. Released to Jenkins', [[...s, 'Released', ...stackDim, { stat: 'Sum' }], [...s, 'Held', ...stackDim, { stat: 'Sum' }], [...s, 'Retried', ...stackDim, { stat: 'Sum' }], [...s, 'DeadLettered', ...stackDim, { stat: 'Sum' }]], 6, 12),
      widget('5. Dead letters', [['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', o.deadLetterQueueName]], 12, 0),
      widget('6. Drain runs', [...runs, [...s, 'RunDurationMs', ...stackDim, { stat: 'Maximum', yAxis: 'right' }]], 12, 12),
      widget('7. Refused and forged deliveries', [
        [...s, 'SignatureMismatches', ...stackDim, { stat: 'Sum' }],
        [...s, REFUSED_DELIVERIES_METRIC, ...stackDim, { stat: 'Sum' }],
        ...(o.waf ? [['AWS/WAFV2', 'BlockedRequests', 'WebACL', o.waf.webAcl, 'Rule', o.waf.rule, 'Region', o.region, { stat: 'Sum' }]] : []),
      ], 18, 0),
    ],
  };
}
