/**
 * drain.mode "agent" (issue 10, part 2): no Lambda and no schedule, an agent identity with exactly
 * the agent's permissions, the outputs `spigot agent` reads, and alarms that fit a process.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role';
import { IamInstanceProfile } from '@cdktf/provider-aws/lib/iam-instance-profile';
import { IamUser } from '@cdktf/provider-aws/lib/iam-user';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_CONFIG, loadConfig, mergeConfig, validateConfig } from '../../stacks/config';
import { jenkinsReachProblems } from '../../stacks/jenkins-reach';
import { configProblems, onlyResourceOfType, parseReference, ref, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

Testing.setupJest();

const ROLE_ARN = 'arn:aws:iam::123456789012:role/jenkins-host';
const AGENT = { mode: 'agent', agent: { assumeRolePrincipals: [ROLE_ARN] } };
const agentStack = (drain: object = {}, top: object = {}) => synthStack({ drain: { ...AGENT, ...drain }, ...top });
const problemsFor = (override: object) => configProblems(override, 'spigot.config.json');

const byName = (parsed: SynthesizedStack, type: string, name: string): [string, any] => {
  const found = Object.entries(resourcesOfType(parsed, type)).filter(([, r]) => r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${found.length}`);
  return found[0];
};
const agentPolicy = (parsed: SynthesizedStack) => {
  const [roleId] = byName(parsed, 'aws_iam_role', 'spigot-drain-agent');
  const policies = Object.values(resourcesOfType(parsed, 'aws_iam_role_policy')).filter((p) => p.role === ref('aws_iam_role', roleId, 'id'));
  expect(policies).toHaveLength(1);
  return JSON.parse(policies[0].policy) as { Statement: unknown[] };
};

describe('drain.mode "agent": what the stack creates', () => {
  const { parsed, json } = agentStack();

  it('when the mode is agent, it creates no Lambda, no EventBridge rule or target, no Lambda permission and no failed-invocations queue', () => {
    for (const type of ['aws_lambda_function', 'aws_lambda_function_event_invoke_config', 'aws_lambda_permission', 'aws_cloudwatch_event_rule', 'aws_cloudwatch_event_target']) {
      expect([type, Object.keys(resourcesOfType(parsed, type))]).toEqual([type, []]);
    }
    expect(Object.values(resourcesOfType(parsed, 'aws_sqs_queue')).map((q) => q.name).sort()).toEqual(['spigot-buffer.fifo', 'spigot-dlq.fifo', 'spigot-drain-lease.fifo']);
  });

  it('when the mode is agent, it keeps the buffer, the DLQ, the spigot and drain-status parameters, the run lease, the KMS key and the drain log group', () => {
    expect(Object.values(resourcesOfType(parsed, 'aws_ssm_parameter')).map((p) => p.name).sort()).toEqual(['/spigot/drain-status', '/spigot/spigot']);
    expect(Object.keys(resourcesOfType(parsed, 'aws_kms_key'))).toHaveLength(1);
    const [, logs] = byName(parsed, 'aws_cloudwatch_log_group', '/aws/lambda/spigot-drain');
    expect(logs.kms_key_id).toBe(ref('aws_kms_key', onlyResourceOfType(parsed, 'aws_kms_key')[0], 'arn'));
  });

  it('when switching modes, the lease queue and the log group keep their Terraform addresses (nothing recreated)', () => {
    const lambda = synthStack().parsed;
    for (const [type, name] of [['aws_sqs_queue', 'spigot-drain-lease.fifo'], ['aws_cloudwatch_log_group', '/aws/lambda/spigot-drain']]) {
      expect(byName(parsed, type, name)[0]).toBe(byName(lambda, type, name)[0]);
    }
  });

  it('when only assumeRolePrincipals is given, the role trusts exactly those principals, with no instance profile and no user', () => {
    const [, role] = byName(parsed, 'aws_iam_role', 'spigot-drain-agent');
    expect(JSON.parse(role.assume_role_policy)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Sid: 'AgentPrincipals', Effect: 'Allow', Principal: { AWS: [ROLE_ARN] }, Action: 'sts:AssumeRole' }],
    });
    expect(json).toHaveResourceWithProperties(IamRole, { name: 'spigot-drain-agent', max_session_duration: 3600 });
    expect(json).not.toHaveResource(IamInstanceProfile);
    expect(json).not.toHaveResource(IamUser);
  });

  it('when the role is synthesized, its policy is exactly the drain\'s statements without the Lambda-only ones, plus PutMetricData in the Spigot namespace', () => {
    const queue = (suffix: string) => ref('aws_sqs_queue', byName(parsed, 'aws_sqs_queue', `spigot-${suffix}`)[0], 'arn');
    const parameter = (name: string) => ref('aws_ssm_parameter', byName(parsed, 'aws_ssm_parameter', name)[0], 'arn');
    const key = ref('aws_kms_key', onlyResourceOfType(parsed, 'aws_kms_key')[0], 'arn');
    const logGroup = ref('aws_cloudwatch_log_group', byName(parsed, 'aws_cloudwatch_log_group', '/aws/lambda/spigot-drain')[0], 'arn');
    expect(agentPolicy(parsed).Statement).toEqual([
      { Sid: 'ReleaseFromBuffer', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'], Resource: queue('buffer.fifo') },
      { Sid: 'HoldRunLease', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:SendMessage', 'sqs:GetQueueAttributes'], Resource: queue('drain-lease.fifo') },
      { Sid: 'DeadLetterPoison', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: [queue('dlq.fifo')] },
      { Sid: 'ReadAndCloseSpigot', Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameterHistory', 'ssm:PutParameter'], Resource: parameter('/spigot/spigot') },
      { Sid: 'RecordLastRun', Effect: 'Allow', Action: 'ssm:PutParameter', Resource: parameter('/spigot/drain-status') },
      { Sid: 'QueueEncryption', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key },
      { Sid: 'Logs', Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: `${logGroup}:*` },
      { Sid: 'PublishMetrics', Effect: 'Allow', Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'Spigot' } } },
    ]);
  });

  it('when the Jenkins secrets are configured, the agent may read exactly those two parameters and decrypt through SSM only', () => {
    const withSecrets = agentStack({ credentialsParameterName: '/jenkins/token', webhookSecretParameterName: 'github/secret' }).parsed;
    const statements = agentPolicy(withSecrets).Statement as Array<{ Sid: string; Resource: unknown; Condition?: unknown }>;
    expect(statements.map((s) => s.Sid)).toEqual(['ReleaseFromBuffer', 'HoldRunLease', 'DeadLetterPoison', 'ReadAndCloseSpigot', 'RecordLastRun', 'QueueEncryption', 'Logs', 'PublishMetrics', 'ReadJenkinsSecrets', 'DecryptSecureStrings']);
    expect(statements[8].Resource).toEqual([expect.stringMatching(/:parameter\/jenkins\/token$/), expect.stringMatching(/:parameter\/github\/secret$/)]);
    expect(statements[9].Condition).toEqual({ StringEquals: { 'kms:ViaService': 'ssm.us-east-1.amazonaws.com' } });
  });

  it('when metricsSink is "emf", the role has no PutMetricData and the environment says emf', () => {
    const emf = agentStack({ agent: { assumeRolePrincipals: [ROLE_ARN], metricsSink: 'emf' } }).parsed;
    expect((agentPolicy(emf).Statement as Array<{ Sid: string }>).map((s) => s.Sid)).not.toContain('PublishMetrics');
    expect((emf.output!.agent_environment.value as Record<string, string>).METRICS_SINK).toBe('emf');
  });

  it('when instanceProfile and createUser are set, it adds an EC2 trust and instance profile, and a user in a group with the same policy and no access key', () => {
    const full = agentStack({ agent: { assumeRolePrincipals: [ROLE_ARN], instanceProfile: true, createUser: true } });
    const [userId] = byName(full.parsed, 'aws_iam_user', 'spigot-drain-agent');
    const [groupId] = byName(full.parsed, 'aws_iam_group', 'spigot-drain-agent');
    const [roleId, role] = byName(full.parsed, 'aws_iam_role', 'spigot-drain-agent');
    expect(JSON.parse(role.assume_role_policy).Statement).toEqual([
      { Sid: 'AgentPrincipals', Effect: 'Allow', Principal: { AWS: [ROLE_ARN, ref('aws_iam_user', userId, 'arn')] }, Action: 'sts:AssumeRole' },
      { Sid: 'AgentServices', Effect: 'Allow', Principal: { Service: ['ec2.amazonaws.com'] }, Action: 'sts:AssumeRole' },
    ]);
    expect(full.json).toHaveResourceWithProperties(IamInstanceProfile, { name: 'spigot-drain-agent', role: ref('aws_iam_role', roleId, 'name') });
    const [, groupPolicy] = onlyResourceOfType(full.parsed, 'aws_iam_group_policy');
    expect(groupPolicy.group).toBe(ref('aws_iam_group', groupId, 'name'));
    expect(JSON.parse(groupPolicy.policy)).toEqual(agentPolicy(full.parsed));
    expect(onlyResourceOfType(full.parsed, 'aws_iam_user_group_membership')[1]).toMatchObject({ user: ref('aws_iam_user', userId, 'name'), groups: [ref('aws_iam_group', groupId, 'name')] });
    // Permissions reach the user through the group only, and Terraform never holds a key.
    for (const type of ['aws_iam_access_key', 'aws_iam_user_policy', 'aws_iam_user_policy_attachment']) expect(resourcesOfType(full.parsed, type)).toEqual({});
    expect(full.parsed.output!.agent_user_name.value).toBe(ref('aws_iam_user', userId, 'name'));
    expect(full.parsed.output!.agent_instance_profile_name).toBeDefined();
  });

  it('when the Jenkins URL is the placeholder, plan refuses through a precondition on the agent role', () => {
    const [, role] = byName(parsed, 'aws_iam_role', 'spigot-drain-agent');
    expect(role.lifecycle.precondition).toEqual([{ condition: expect.stringContaining('local.spigot_jenkins_url'), error_message: expect.stringContaining('placeholder') }]);
  });
});

describe('drain.mode "agent": outputs', () => {
  const { parsed } = agentStack({ credentialsParameterName: '/jenkins/token' });
  const env = parsed.output!.agent_environment.value as Record<string, string>;

  it('when the mode is agent, it outputs agent_role_arn and agent_environment, and no drain_function_name', () => {
    expect(parsed.output!.agent_role_arn.value).toBe(ref('aws_iam_role', byName(parsed, 'aws_iam_role', 'spigot-drain-agent')[0], 'arn'));
    expect(parsed.output!.drain_function_name).toBeUndefined();
    expect(parsed.output!.agent_user_name).toBeUndefined();
    for (const name of ['queue_url', 'dlq_url', 'spigot_parameter_name', 'drain_status_parameter_name', 'alarm_topic_arn', 'webhook_urls']) expect(parsed.output![name]).toBeDefined();
  });

  it('when agent_environment is output, it is the Lambda\'s environment plus AWS_REGION and METRICS_SINK, pointing at the same resources', () => {
    const lambda = synthStack({ drain: { credentialsParameterName: '/jenkins/token' } }).parsed;
    const lambdaEnv = onlyResourceOfType(lambda, 'aws_lambda_function')[1].environment.variables as Record<string, string>;
    expect(env).toEqual({ ...lambdaEnv, AWS_REGION: 'us-east-1', METRICS_SINK: 'cloudwatch' });
    expect(parseReference(env.LEASE_QUEUE_URL)).toMatchObject({ type: 'aws_sqs_queue', attribute: 'url' });
    expect(env.JENKINS_URL).toBe('${local.spigot_jenkins_url}');
  });

  it('when a secret parameter is configured, agent_environment holds its name only', () => {
    expect(env.JENKINS_CREDENTIALS_PARAMETER).toBe('/jenkins/token');
    expect(parsed.output!.agent_environment).not.toHaveProperty('sensitive');
  });
});

describe('drain.mode "agent": alarms', () => {
  const { parsed } = agentStack();
  const alarms = Object.values(resourcesOfType(parsed, 'aws_cloudwatch_metric_alarm'));
  const alarm = (name: string) => alarms.find((a) => a.alarm_name === `spigot-${name}`);

  it('when the mode is agent, the Lambda alarms are replaced: none reads AWS/Lambda', () => {
    expect(alarm('drain-errors')).toBeUndefined();
    expect(alarm('drain-not-running')).toBeUndefined();
    expect(alarms.filter((a) => a.namespace === 'AWS/Lambda')).toEqual([]);
    const dashboard = JSON.stringify(onlyResourceOfType(parsed, 'aws_cloudwatch_dashboard')[1].dashboard_body);
    expect(dashboard).not.toContain('AWS/Lambda');
    expect(dashboard).toContain('RunErrors');
  });

  it('when no agent run is counted for 10 minutes, or the metric is missing, the heartbeat alarm fires', () => {
    expect(alarm('agent-heartbeat-missing')).toMatchObject({
      namespace: 'Spigot', metric_name: 'Runs', dimensions: { Stack: 'spigot' }, statistic: 'Sum', period: 600,
      evaluation_periods: 1, threshold: 1, comparison_operator: 'LessThanThreshold', treat_missing_data: 'breaching',
    });
  });

  it('when an agent run fails, the run-errors alarm fires', () => {
    expect(alarm('agent-run-errors')).toMatchObject({
      namespace: 'Spigot', metric_name: 'RunErrors', dimensions: { Stack: 'spigot' }, statistic: 'Sum', period: 300,
      threshold: 0, comparison_operator: 'GreaterThanThreshold', treat_missing_data: 'notBreaching',
    });
  });

  it('when the mode is lambda, the Lambda alarms stay and the agent ones are absent', () => {
    const names = Object.values(resourcesOfType(synthStack().parsed, 'aws_cloudwatch_metric_alarm')).map((a) => a.alarm_name);
    expect(names).toEqual(expect.arrayContaining(['spigot-drain-errors', 'spigot-drain-not-running']));
    expect(names).not.toContain('spigot-agent-heartbeat-missing');
  });
});

describe('drain.mode validation and reach', () => {
  it('when drain.mode is not lambda or agent, it names both and where agent mode is explained', () => {
    expect(problemsFor({ drain: { mode: 'container' } })).toEqual([
      'drain.mode: must be "lambda" (the drain Lambda, the default) or "agent" (the drain as a process next to Jenkins, for a Jenkins no Lambda reaches: README "Behind a firewall (agent)"), got "container" (set it in spigot.config.json)',
    ]);
  });

  it('when agent mode has no identity for the agent, it lists the three ways with an example', () => {
    for (const drain of [{ mode: 'agent' }, { mode: 'agent', agent: {} }, { mode: 'agent', agent: { assumeRolePrincipals: [], createUser: false } }]) {
      expect(problemsFor({ drain })).toEqual([expect.stringMatching(/^drain\.agent: .*needs an identity for the agent: "assumeRolePrincipals" .*"instanceProfile": true .*"createUser": true .*e\.g\. "drain": \{"mode": "agent"/)]);
    }
  });

  it('when a principal is not an IAM role, user or account ARN, it names the entry and the format', () => {
    expect(problemsFor({ drain: { mode: 'agent', agent: { assumeRolePrincipals: ['jenkins-host'] } } }))
      .toEqual([expect.stringMatching(/^drain\.agent\.assumeRolePrincipals\[0\]: must be an IAM role or user ARN such as "arn:aws:iam::123456789012:role\/jenkins-host"/)]);
  });

  it('when drain.agent is set in lambda mode, or drain.vpc or reservedConcurrency in agent mode, it says they do not apply', () => {
    expect(problemsFor({ drain: { agent: { createUser: true } } })).toEqual([expect.stringMatching(/^drain\.agent: only applies with drain\.mode "agent"/)]);
    expect(problemsFor({ drain: { ...AGENT, vpc: { subnetIds: ['subnet-0123456789abcdef0'], vpcId: 'vpc-0123456789abcdef0' } } }))
      .toEqual([expect.stringMatching(/^drain\.vpc: .*drain\.mode "agent" has no Lambda: remove drain\.vpc/)]);
    expect(problemsFor({ drain: { ...AGENT, reservedConcurrency: 1 } })).toEqual([expect.stringMatching(/^drain\.reservedConcurrency: .*has no Lambda/)]);
  });

  it('when drain.agent has an unknown key or a wrong metricsSink, it lists the known settings and choices', () => {
    expect(problemsFor({ drain: { mode: 'agent', agent: { createUser: true, user: 'x' } } })).toEqual([expect.stringMatching(/^drain\.agent\.user: unknown setting; .*assumeRolePrincipals, instanceProfile, createUser, metricsSink/)]);
    expect(problemsFor({ drain: { mode: 'agent', agent: { createUser: true, metricsSink: 'statsd' } } })).toEqual([expect.stringMatching(/^drain\.agent\.metricsSink: must be one of "emf", "cloudwatch"/)]);
  });

  it('when Jenkins is on a private address, agent mode synthesizes (the agent runs next to it)', () => {
    const { parsed } = agentStack({}, { jenkinsUrl: 'https://10.0.0.5:8443/jenkins' });
    expect(parsed.locals).toMatchObject({ spigot_jenkins_url: 'https://10.0.0.5:8443/jenkins' });
    expect(byName(parsed, 'aws_iam_role', 'spigot-drain-agent')).toBeDefined();
  });

  it('when Jenkins is plain http in agent mode, it still needs allowPlainHttp', () => {
    const reach = (top: object) => jenkinsReachProblems(validateConfig(mergeConfig(DEFAULT_CONFIG, { drain: AGENT, ...top })));
    expect(reach({ jenkinsUrl: 'http://jenkins.corp.internal:8080' })).toEqual([expect.stringMatching(/is plain http.*"allowPlainHttp": true/)]);
    expect(reach({ jenkinsUrl: 'http://jenkins.corp.internal:8080', allowPlainHttp: true })).toEqual([]);
  });

  it('when Jenkins is private in lambda mode without a VPC, the refusal names both fixes: drain.vpc and drain.mode "agent"', () => {
    const [problem] = jenkinsReachProblems(validateConfig(mergeConfig(DEFAULT_CONFIG, { jenkinsUrl: 'https://jenkins.corp.internal' })));
    expect(problem).toMatch(/configure drain\.vpc.*"vpc": \{"subnetIds"/);
    expect(problem).toMatch(/run the drain as an agent next to Jenkins: "drain": \{"mode": "agent", "agent": \{"assumeRolePrincipals"/);
    expect(problem).not.toMatch(/later release/);
  });
});

describe('the agent scan fixture', () => {
  const root = path.resolve(__dirname, '..', '..');
  const fixture = path.join(root, '__tests__', 'fixtures', 'spigot.agent.config.json');

  it('when scripts/scan.sh synthesizes the agent fixture, it is a valid agent-mode config with a private Jenkins and every agent identity', () => {
    const config = loadConfig(fixture);
    expect(config.drain.mode).toBe('agent');
    expect(config.drain.agent).toMatchObject({ instanceProfile: true, createUser: true, assumeRolePrincipals: [expect.stringMatching(/^arn:aws:iam::\d{12}:role\//)] });
    expect(jenkinsReachProblems(config)).toEqual([]);
    const scan = readFileSync(path.join(root, 'scripts', 'scan.sh'), 'utf8');
    expect(scan).toContain(`AGENT_FIXTURE=${path.relative(root, fixture)}`);
    expect(scan).toMatch(/SPIGOT_CONFIG="\$AGENT_FIXTURE"/);
  });
});
