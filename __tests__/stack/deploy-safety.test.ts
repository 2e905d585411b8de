/**
 * Ways a real first deploy failed, or worked and then misled, found by reading the synthesized
 * Terraform against the AWS provider: each test pins the fix in the JSON plain terraform runs.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group';
import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm';
import { DEFAULT_CONFIG, isPlaceholderJenkinsUrl } from '../../stacks/config';
import { fromStackDir, localStatePath } from '../../stacks/state-path';
import { onlyResourceOfType, ref, resourcesOfType, synthStack } from '../support/synth';

Testing.setupJest();

describe('Terraform state', () => {
  it('when the backend is local (the default), state lives in terraform-state/, outside cdktf.out, seen from the stack directory', () => {
    const { parsed } = synthStack();
    expect(localStatePath('spigot', DEFAULT_CONFIG.backend)).toBe('terraform-state/spigot.tfstate');
    expect(parsed.terraform?.backend).toEqual({ local: { path: '../../../terraform-state/spigot.tfstate' } });
  });

  it('when backend.path is given, it is taken relative to the project root (or kept when absolute)', () => {
    expect(synthStack({ backend: { type: 'local', path: 'state/prod.tfstate' } }).parsed.terraform?.backend.local.path).toBe('../../../state/prod.tfstate');
    expect(fromStackDir('/var/lib/spigot/prod.tfstate')).toBe('/var/lib/spigot/prod.tfstate');
  });

  it('when the backend is local, every plan and apply warns through a check block naming the file and the S3 backend', () => {
    const { parsed } = synthStack();
    expect((parsed.locals as Record<string, string>).spigot_state_backend).toBe('local');
    const [assertion] = (parsed.check as any).spigot_state_backend.assert;
    expect(assertion.condition).toBe('${local.spigot_state_backend != "local"}');
    expect(assertion.error_message).toContain('terraform-state/spigot.tfstate');
    expect(assertion.error_message).toContain('"type": "s3"');
  });

  it('when the backend is S3, state is encrypted there, locked with the table when given, and nothing warns', () => {
    const { parsed } = synthStack({ backend: { type: 's3', bucket: 'acme-tfstate', key: 'spigot/prod.tfstate', region: 'eu-west-1', dynamodbTable: 'tf-locks' } });
    expect(parsed.terraform?.backend).toEqual({ s3: { bucket: 'acme-tfstate', key: 'spigot/prod.tfstate', region: 'eu-west-1', encrypt: true, dynamodb_table: 'tf-locks' } });
    expect(parsed.check).toBeUndefined();
  });
});

describe('placeholder Jenkins', () => {
  const precondition = (overrides?: object) => onlyResourceOfType(synthStack(overrides).parsed, 'aws_lambda_function')[1].lifecycle.precondition[0];

  it('when jenkinsUrl is the embedded placeholder, synth still works and the drain carries a plan-time precondition against it', () => {
    const check = precondition();
    expect(check.condition).toBe('${length(regexall("^https?://[^/:]+[.]invalid([:/]|$)", lower(local.spigot_jenkins_url))) == 0}');
    expect(check.error_message).toContain('"https://jenkins.example.invalid"');
    expect(check.error_message).toContain('set "jenkinsUrl" in spigot.config.json');
  });

  it('when jenkinsUrl is real, the same precondition checks the real URL (and passes at plan)', () => {
    const { parsed } = synthStack({ jenkinsUrl: 'https://ci.example.com/jenkins' });
    expect((parsed.locals as Record<string, string>).spigot_jenkins_url).toBe('https://ci.example.com/jenkins');
    expect(precondition({ jenkinsUrl: 'https://ci.example.com/jenkins' }).condition).toContain('lower(local.spigot_jenkins_url)');
  });

  it('when a URL is under .invalid in any case, with a port or path, it counts as a placeholder; a host merely containing "invalid" does not', () => {
    for (const url of ['https://jenkins.example.invalid', 'HTTPS://CI.INVALID/jenkins', 'http://ci.invalid:8080']) expect(isPlaceholderJenkinsUrl(url)).toBe(true);
    for (const url of ['https://ci.example.com', 'https://invalid.example.com', 'https://ci.example.com/x.invalid']) expect(isPlaceholderJenkinsUrl(url)).toBe(false);
  });
});

describe('held repositories are visible', () => {
  it('when the drain keeps receiving an old webhook, an alarm on its own OldestMessageAgeSeconds fires (SQS leaves such messages out of its age)', () => {
    const { json } = synthStack({ alarms: { oldestMessageAgeSeconds: 1200 } });
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'spigot-held-webhook-age',
      namespace: 'Spigot',
      metric_name: 'OldestMessageAgeSeconds',
      dimensions: { Stack: 'spigot' },
      statistic: 'Maximum',
      threshold: 1200,
      comparison_operator: 'GreaterThanThreshold',
      treat_missing_data: 'notBreaching',
    });
  });
});

describe('API Gateway execution logs', () => {
  const { json, parsed } = synthStack({ logRetentionDays: 30 });
  const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
  const [keyId] = onlyResourceOfType(parsed, 'aws_kms_key');
  const executionGroup = Object.entries(resourcesOfType(parsed, 'aws_cloudwatch_log_group')).find(([, g]) => String(g.name).startsWith('API-Gateway-Execution-Logs_'))!;

  it('when stage logging is on, the stack creates the execution log group itself, encrypted with the CMK and expiring', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, {
      name: `API-Gateway-Execution-Logs_${ref('aws_api_gateway_rest_api', apiId, 'id')}/live`,
      kms_key_id: ref('aws_kms_key', keyId, 'arn'),
      retention_in_days: 30,
    });
  });

  it('when logging is switched on, the group already exists: the stage and its method settings depend on it', () => {
    const dependency = `aws_cloudwatch_log_group.${executionGroup[0]}`;
    expect(onlyResourceOfType(parsed, 'aws_api_gateway_stage')[1].depends_on).toContain(dependency);
    const [, settings] = onlyResourceOfType(parsed, 'aws_api_gateway_method_settings');
    expect(settings.settings.logging_level).toBe('ERROR');
    expect(settings.depends_on).toContain(dependency);
  });
});

describe('KMS key policy', () => {
  it('when CloudWatch Logs may use the key, it is for exactly this stack\'s three log groups, never a pattern', () => {
    const { parsed } = synthStack({ name: 'prod' });
    const [, doc] = onlyResourceOfType({ resource: parsed.data as any }, 'aws_iam_policy_document');
    const logs = doc.statement.find((s: { sid: string }) => s.sid === 'CloudWatchLogsEncryptsSpigotLogs');
    const [identityId] = Object.keys((parsed.data as any).aws_caller_identity);
    const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
    const prefix = `arn:aws:logs:us-east-1:\${data.aws_caller_identity.${identityId}.account_id}:log-group:`;
    expect(logs.condition).toEqual([{
      test: 'ArnEquals',
      variable: 'kms:EncryptionContext:aws:logs:arn',
      values: [
        `${prefix}/aws/lambda/prod-drain`,
        `${prefix}/aws/apigateway/prod/access`,
        `${prefix}API-Gateway-Execution-Logs_${ref('aws_api_gateway_rest_api', apiId, 'id')}/live`,
      ],
    }]);
    const names = Object.values(resourcesOfType(parsed, 'aws_cloudwatch_log_group')).map((g) => g.name);
    expect(logs.condition[0].values.map((arn: string) => arn.slice(prefix.length)).sort()).toEqual([...names].sort());
    expect(JSON.stringify(logs)).not.toContain('*prod*');
  });
});
