import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { CloudwatchEventRule } from '@cdktf/provider-aws/lib/cloudwatch-event-rule';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function';
import { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { onlyResourceOfType, parseReference, ref, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

Testing.setupJest();

/** The SSM parameter with this name; throws unless exactly one exists. */
function parameterNamed(parsed: SynthesizedStack, name: string): [string, any] {
  const matches = Object.entries(resourcesOfType(parsed, 'aws_ssm_parameter')).filter(([, p]) => p.name === name);
  if (matches.length !== 1) throw new Error(`expected one aws_ssm_parameter named ${name}, found ${matches.length}`);
  return matches[0] as [string, any];
}

describe('spigot parameter', () => {
  const { json, parsed } = synthStack();

  it('when synthesized with defaults, it is created open and Terraform ignores later changes to value and description', () => {
    expect(json).toHaveResourceWithProperties(SsmParameter, { name: '/spigot/spigot', type: 'String', value: 'open' });
    const [, parameter] = parameterNamed(parsed, '/spigot/spigot');
    expect(parameter.lifecycle.ignore_changes).toEqual(expect.arrayContaining(['value', 'description']));
  });
});

describe('drain Lambda', () => {
  const { json, parsed } = synthStack();
  const [functionId, fn] = onlyResourceOfType(parsed, 'aws_lambda_function');
  const [parameterId] = parameterNamed(parsed, '/spigot/spigot');
  const [statusParameterId] = parameterNamed(parsed, '/spigot/drain-status');
  const rules = resourcesOfType(parsed, 'aws_cloudwatch_event_rule');
  const functionRef = (attribute: string) => ref('aws_lambda_function', functionId, attribute);

  it('when synthesized with defaults, it runs nodejs22.x on arm64 with no reserved concurrency, so apply works on any account', () => {
    expect(json).toHaveResourceWithProperties(LambdaFunction, {
      function_name: 'spigot-drain',
      runtime: 'nodejs22.x',
      architectures: ['arm64'],
      timeout: DEFAULT_CONFIG.drain.timeoutSeconds,
      memory_size: DEFAULT_CONFIG.drain.memoryMb,
      handler: 'index.handler',
    });
    expect(fn).not.toHaveProperty('reserved_concurrent_executions');
  });

  it('when drain.reservedConcurrency is set, the function reserves exactly that', () => {
    const [, other] = onlyResourceOfType(synthStack({ drain: { reservedConcurrency: 1 } }).parsed, 'aws_lambda_function');
    expect(other.reserved_concurrent_executions).toBe(1);
  });

  it('when drain.reservedConcurrency is not a whole number of at least 1, synth refuses it by name', () => {
    expect(() => synthStack({ drain: { reservedConcurrency: 0 } })).toThrow(/drain\.reservedConcurrency: must be a whole number from 1 to 1000/);
  });

  it('when synthesized with defaults, its environment names Jenkins (through the checked local), the buffer queue and the spigot parameter', () => {
    const [bufferId] = Object.entries(resourcesOfType(parsed, 'aws_sqs_queue')).find(([, q]) => q.name === 'spigot-buffer.fifo')!;
    expect(fn.environment.variables).toMatchObject({
      JENKINS_URL: '${local.spigot_jenkins_url}',
      QUEUE_URL: ref('aws_sqs_queue', bufferId, 'url'),
      SPIGOT_PARAMETER_NAME: ref('aws_ssm_parameter', parameterId, 'name'),
    });
    expect((parsed.locals as Record<string, string>).spigot_jenkins_url).toBe(DEFAULT_CONFIG.jenkinsUrl);
  });

  it('when jenkinsUrl and drain settings are configured, the environment carries them', () => {
    const { parsed: other } = synthStack({ jenkinsUrl: 'https://ci.example.com/jenkins', drain: { concurrency: 3, ratePerSecond: 5 } });
    expect((other.locals as Record<string, string>).spigot_jenkins_url).toBe('https://ci.example.com/jenkins');
    expect(onlyResourceOfType(other, 'aws_lambda_function')[1].environment.variables).toMatchObject({
      CONCURRENCY: '3',
      RATE_PER_SECOND: '5',
    });
  });

  it('when synthesized, a run lease queue (FIFO, encrypted, 14 days) is in the environment and only the drain may use it', () => {
    const [leaseId, lease] = Object.entries(resourcesOfType(parsed, 'aws_sqs_queue')).find(([, q]) => q.name === 'spigot-drain-lease.fifo')!;
    expect(lease).toMatchObject({ fifo_queue: true, message_retention_seconds: 1209600, kms_master_key_id: ref('aws_kms_key', onlyResourceOfType(parsed, 'aws_kms_key')[0], 'arn') });
    expect(fn.environment.variables.LEASE_QUEUE_URL).toBe(ref('aws_sqs_queue', leaseId, 'url'));
    const roleId = parseReference(fn.role)!.id;
    const policy = Object.values(resourcesOfType(parsed, 'aws_iam_role_policy')).find((p) => p.role === ref('aws_iam_role', roleId, 'id'))!;
    const statement = JSON.parse(policy.policy).Statement.find((s: { Resource: unknown }) => s.Resource === ref('aws_sqs_queue', leaseId, 'arn'));
    expect(statement.Action).toEqual(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes']);
  });

  it('when synthesized with defaults, a schedule rule from config invokes the function', () => {
    expect(json).toHaveResourceWithProperties(CloudwatchEventRule, { schedule_expression: DEFAULT_CONFIG.drain.schedule });
  });

  it('when the spigot parameter changes, an SSM "Parameter Store Change" rule for that parameter invokes the function', () => {
    const changeRules = Object.values(rules).filter((r) => r.event_pattern);
    expect(changeRules).toHaveLength(1);
    expect(JSON.parse(changeRules[0].event_pattern)).toEqual({
      source: ['aws.ssm'],
      'detail-type': ['Parameter Store Change'],
      detail: { name: [ref('aws_ssm_parameter', parameterId, 'name')], operation: expect.arrayContaining(['Update']) },
    });
  });

  it('when either rule fires, it targets the drain and EventBridge is allowed to invoke it', () => {
    expect(Object.keys(rules)).toHaveLength(2);
    const targets = Object.values(resourcesOfType(parsed, 'aws_cloudwatch_event_target'));
    const permissions = Object.values(resourcesOfType(parsed, 'aws_lambda_permission'));
    for (const ruleId of Object.keys(rules)) {
      const ruleTargets = targets.filter((t) => t.rule === ref('aws_cloudwatch_event_rule', ruleId, 'name'));
      expect(ruleTargets).toHaveLength(1);
      expect(ruleTargets[0].arn).toBe(functionRef('arn'));
      const rulePermissions = permissions.filter((p) => p.source_arn === ref('aws_cloudwatch_event_rule', ruleId, 'arn'));
      expect(rulePermissions).toHaveLength(1);
      expect(rulePermissions[0]).toMatchObject({
        action: 'lambda:InvokeFunction',
        principal: 'events.amazonaws.com',
        function_name: functionRef('function_name'),
      });
    }
  });

  it('when synthesized with defaults, the function logs to its own log group with the configured retention', () => {
    const logGroupRef = parseReference(fn.logging_config.log_group)!;
    expect(resourcesOfType(parsed, 'aws_cloudwatch_log_group')[logGroupRef.id]).toMatchObject({
      name: '/aws/lambda/spigot-drain',
      retention_in_days: DEFAULT_CONFIG.logRetentionDays,
    });
  });

  it('when synthesized with defaults, the drain role can be assumed only by Lambda and touches only the spigot and drain-status parameters', () => {
    const roleId = parseReference(fn.role)!.id;
    expect(JSON.parse(resourcesOfType(parsed, 'aws_iam_role')[roleId].assume_role_policy).Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    const policies = Object.values(resourcesOfType(parsed, 'aws_iam_role_policy')).filter((p) => p.role === ref('aws_iam_role', roleId, 'id'));
    expect(policies).toHaveLength(1);
    const statements = JSON.parse(policies[0].policy).Statement as Array<{ Action: string | string[]; Resource: string | string[] }>;
    const ssm = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('ssm:')));
    expect(ssm.flatMap((s) => [s.Resource].flat())).toEqual([ref('aws_ssm_parameter', parameterId, 'arn'), ref('aws_ssm_parameter', statusParameterId, 'arn')]);
    const statusStatement = ssm.find((s) => [s.Resource].flat().includes(ref('aws_ssm_parameter', statusParameterId, 'arn')))!;
    expect([statusStatement.Action].flat()).toEqual(['ssm:PutParameter']);
    for (const statement of statements) expect([statement.Action].flat()).not.toContain('*');
  });
});
