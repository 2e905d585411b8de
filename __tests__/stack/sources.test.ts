/**
 * Who may send webhooks (README "Who may send webhooks"): the source policy each configuration
 * renders, the plan-time refusal of a policy nobody chose, the optional WAF rate limit, and what
 * the drain is told a Jenkins 400 means under each policy.
 */
import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { ApiGatewayRestApiPolicy } from '@cdktf/provider-aws/lib/api-gateway-rest-api-policy';
import { Wafv2WebAcl } from '@cdktf/provider-aws/lib/wafv2-web-acl';
import { GITHUB_HOOK_RANGES, resolveSourcePolicy } from '../../stacks/source-policy';
import { configProblems, onlyResourceOfType, ref, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

Testing.setupJest();

const allowedCidrs = (parsed: SynthesizedStack): string[] => {
  const [, policy] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api_policy');
  const statements = JSON.parse(policy.policy).Statement;
  expect(statements).toHaveLength(1);
  expect(statements[0]).toMatchObject({ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke' });
  return statements[0].Condition.IpAddress['aws:SourceIp'];
};
const policies = (parsed: SynthesizedStack) => Object.keys(resourcesOfType(parsed, 'aws_api_gateway_rest_api_policy'));
const precondition = (parsed: SynthesizedStack) => onlyResourceOfType(parsed, 'aws_api_gateway_rest_api')[1].lifecycle.precondition[0];
const redeploymentHash = (parsed: SynthesizedStack): string => onlyResourceOfType(parsed, 'aws_api_gateway_deployment')[1].triggers.redeployment;

/** Evaluates the precondition the way Terraform would, against the stack's own locals. */
function preconditionHolds(parsed: SynthesizedStack): boolean {
  const match = /^\$\{local\.([a-z_]+) != "([a-z]+)"\}$/.exec(precondition(parsed).condition);
  if (!match) throw new Error(`unexpected precondition ${precondition(parsed).condition}`);
  return (parsed.locals as Record<string, string>)[match[1]] !== match[2];
}

const drainEnvironment = (overrides: object): Record<string, string> =>
  onlyResourceOfType(synthStack(overrides).parsed, 'aws_lambda_function')[1].environment.variables;

describe('source policy', () => {
  it('when allowedSources is ["github"], the resource policy allows exactly GitHub.com\'s published hook ranges', () => {
    const cidrs = allowedCidrs(synthStack({ allowedSources: ['github'] }).parsed);
    expect(cidrs).toEqual(GITHUB_HOOK_RANGES);
    for (const range of ['192.30.252.0/22', '185.199.108.0/22', '140.82.112.0/20', '143.55.64.0/20', '2a0a:a440::/29', '2606:50c0::/32']) {
      expect(cidrs).toContain(range);
    }
  });

  it('when allowedSources lists CIDR blocks, the resource policy allows exactly those, on the API\'s execution ARN', () => {
    const { json, parsed } = synthStack({ allowedSources: ['203.0.113.0/24', '2001:db8::/32'] });
    const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
    expect(json).toHaveResourceWithProperties(ApiGatewayRestApiPolicy, { rest_api_id: ref('aws_api_gateway_rest_api', apiId, 'id') });
    expect(allowedCidrs(parsed)).toEqual(['203.0.113.0/24', '2001:db8::/32']);
    const [, policy] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api_policy');
    expect(JSON.parse(policy.policy).Statement[0].Resource).toBe(`${ref('aws_api_gateway_rest_api', apiId, 'execution_arn')}/*`);
  });

  it('when "github" is combined with CIDR blocks (a GitHub Enterprise Server beside GitHub.com), both are allowed and repeats appear once', () => {
    const cidrs = allowedCidrs(synthStack({ allowedSources: ['github', '198.51.100.7/32', '192.30.252.0/22'] }).parsed);
    expect(cidrs).toEqual([...GITHUB_HOOK_RANGES, '198.51.100.7/32']);
  });

  it('when the older allowedSourceCidrs is set, it renders the same policy as allowedSources with those CIDRs, and the deployment is not replaced', () => {
    const older = synthStack({ allowedSourceCidrs: ['192.30.252.0/22', '185.199.108.0/22'] }).parsed;
    const newer = synthStack({ allowedSources: ['192.30.252.0/22', '185.199.108.0/22'] }).parsed;
    expect(allowedCidrs(older)).toEqual(['192.30.252.0/22', '185.199.108.0/22']);
    expect(onlyResourceOfType(older, 'aws_api_gateway_rest_api_policy')[1]).toEqual(onlyResourceOfType(newer, 'aws_api_gateway_rest_api_policy')[1]);
    expect(redeploymentHash(older)).toBe(redeploymentHash(newer));
    expect(resolveSourcePolicy({ allowedSourceCidrs: ['192.30.252.0/22'] })).toEqual({ kind: 'restricted', cidrs: ['192.30.252.0/22'], sharedSenders: false });
  });

  it('when allowedSources is ["anyone"], there is no resource policy and the plan-time check passes', () => {
    const { json, parsed } = synthStack({ allowedSources: ['anyone'] });
    expect(policies(parsed)).toEqual([]);
    expect(json).not.toHaveResource(ApiGatewayRestApiPolicy);
    expect(onlyResourceOfType(parsed, 'aws_api_gateway_rest_api')[1].policy).toBeUndefined();
    expect(preconditionHolds(parsed)).toBe(true);
  });

  it('when the allowlist changes, the deployment is replaced so the new policy takes effect', () => {
    expect(redeploymentHash(synthStack({ allowedSources: ['github'] }).parsed)).not.toBe(redeploymentHash(synthStack({ allowedSources: ['203.0.113.0/24'] }).parsed));
  });
});

describe('a source policy nobody chose', () => {
  const { parsed } = synthStack();

  it('when nothing is chosen (the embedded default), synth works, no resource policy exists, and the REST API carries a plan-time precondition that fails', () => {
    expect(resolveSourcePolicy({ allowedSourceCidrs: [] })).toEqual({ kind: 'unchosen' });
    expect(policies(parsed)).toEqual([]);
    expect((parsed.locals as Record<string, string>).spigot_source_policy).toBe('unchosen');
    expect(precondition(parsed).condition).toBe('${local.spigot_source_policy != "unchosen"}');
    expect(preconditionHolds(parsed)).toBe(false);
  });

  it('when the precondition refuses, its message names the setting, the file and the three choices', () => {
    const message: string = precondition(parsed).error_message;
    expect(message).toContain('set "allowedSources" in spigot.config.json');
    expect(message).toContain('["github"]');
    expect(message).toContain('a list of CIDR blocks');
    expect(message).toContain('["anyone"]');
  });

  it('when a policy is chosen in any spelling, the same precondition passes', () => {
    for (const overrides of [{ allowedSources: ['github'] }, { allowedSources: ['203.0.113.0/24'] }, { allowedSourceCidrs: ['203.0.113.0/24'] }, { allowedSources: ['anyone'] }]) {
      const chosen = synthStack(overrides).parsed;
      expect(precondition(chosen).condition).toBe('${local.spigot_source_policy != "unchosen"}');
      expect(preconditionHolds(chosen)).toBe(true);
    }
  });
});

describe('optional AWS WAF rate limit per source IP', () => {
  it('when waf is not configured (the default, since WAF is billed), there is no web ACL, association or WAF alarm', () => {
    const { json, parsed } = synthStack({ allowedSources: ['github'] });
    expect(json).not.toHaveResource(Wafv2WebAcl);
    expect(resourcesOfType(parsed, 'aws_wafv2_web_acl_association')).toEqual({});
    const alarmNames = Object.values(resourcesOfType(parsed, 'aws_cloudwatch_metric_alarm')).map((a) => a.alarm_name);
    expect(alarmNames).not.toContain('spigot-rate-limited-sources');
  });

  describe('when waf.ratePer5Minutes is set', () => {
    const { parsed } = synthStack({ allowedSources: ['anyone'], waf: { ratePer5Minutes: 600 } });
    const [aclId, acl] = onlyResourceOfType(parsed, 'aws_wafv2_web_acl');

    it('a REGIONAL web ACL allows by default and blocks a source IP over the limit in 5 minutes with a JSON 429', () => {
      expect(acl).toMatchObject({ scope: 'REGIONAL', default_action: { allow: {} } });
      expect(acl.rule).toHaveLength(1);
      const [rule] = acl.rule;
      expect(rule.statement).toEqual({ rate_based_statement: { limit: 600, aggregate_key_type: 'IP', evaluation_window_sec: 300 } });
      expect(rule.action.block.custom_response.response_code).toBe(429);
      const body = acl.custom_response_body.find((b: { key: string }) => b.key === rule.action.block.custom_response.custom_response_body_key);
      expect(JSON.parse(body.content)).toMatchObject({ queued: false });
      expect(rule.visibility_config.cloudwatch_metrics_enabled).toBe(true);
    });

    it('the web ACL is associated with the webhook stage', () => {
      const [stageId] = onlyResourceOfType(parsed, 'aws_api_gateway_stage');
      const [, association] = onlyResourceOfType(parsed, 'aws_wafv2_web_acl_association');
      expect(association).toEqual({
        resource_arn: ref('aws_api_gateway_stage', stageId, 'arn'),
        web_acl_arn: ref('aws_wafv2_web_acl', aclId, 'arn'),
      });
    });

    it('an alarm fires on requests the rule blocked, read from the ACL\'s and the rule\'s own metric names', () => {
      const alarm = Object.values(resourcesOfType(parsed, 'aws_cloudwatch_metric_alarm')).find((a) => a.alarm_name === 'spigot-rate-limited-sources');
      expect(alarm).toMatchObject({
        namespace: 'AWS/WAFV2', metric_name: 'BlockedRequests', statistic: 'Sum', threshold: 0, comparison_operator: 'GreaterThanThreshold',
        dimensions: { WebACL: acl.visibility_config.metric_name, Rule: acl.rule[0].visibility_config.metric_name, Region: 'us-east-1' },
      });
    });
  });
});

describe('what a Jenkins 400 means to the drain', () => {
  it('when anyone (or any GitHub account, through the github preset) may send and the drain does not verify signatures, 400s are untrusted (REFUSALS_UNTRUSTED_STATUSES=400)', () => {
    expect(drainEnvironment({ allowedSources: ['anyone'] }).REFUSALS_UNTRUSTED_STATUSES).toBe('400');
    expect(drainEnvironment({ allowedSources: ['github'] }).REFUSALS_UNTRUSTED_STATUSES).toBe('400');
    expect(drainEnvironment({ allowedSources: ['github', '203.0.113.0/24'] }).REFUSALS_UNTRUSTED_STATUSES).toBe('400');
  });

  it('when anyone may send and the drain verifies signatures, its own signature failures are untrusted instead (a forgery can name any repository)', () => {
    expect(drainEnvironment({ allowedSources: ['anyone'], drain: { webhookSecretParameterName: '/jenkins/hook-secret' } }).REFUSALS_UNTRUSTED_STATUSES).toBe('signature');
  });

  it('when the drain verifies signatures from GitHub\'s ranges or the sources are the operator\'s own CIDRs or not chosen, the variable is absent', () => {
    const cases = [
      { allowedSources: ['github'], drain: { webhookSecretParameterName: '/jenkins/hook-secret' } },
      { allowedSources: ['203.0.113.0/24'], drain: { webhookSecretParameterName: '/jenkins/hook-secret' } },
      { allowedSources: ['203.0.113.0/24'] },
      { allowedSourceCidrs: ['203.0.113.0/24'] },
      {},
    ];
    for (const overrides of cases) expect(drainEnvironment(overrides)).not.toHaveProperty('REFUSALS_UNTRUSTED_STATUSES');
  });
});

describe('source policy configuration errors', () => {
  const problemFor = (override: object): string => {
    const problems = configProblems(override, 'spigot.config.json');
    expect(problems).toHaveLength(1);
    return problems[0];
  };

  it('when allowedSources is empty or not a list, it asks for one of the three choices', () => {
    for (const allowedSources of [[], 'github']) {
      const problem = problemFor({ allowedSources });
      expect(problem).toMatch(/^allowedSources: must choose who may call the API: \["github"\]/);
      expect(problem).toContain('["anyone"]');
    }
  });

  it('when "anyone" is listed with other entries, it says it must stand alone', () => {
    expect(problemFor({ allowedSources: ['github', 'anyone'] })).toMatch(/^allowedSources\[1\]: "anyone" lets every source in, so it must be the only entry: use \["anyone"\]/);
  });

  it('when an entry is a bare address, it suggests the single-address block', () => {
    expect(problemFor({ allowedSources: ['198.51.100.7'] })).toContain('write "198.51.100.7/32"');
    expect(problemFor({ allowedSources: ['2001:db8::1'] })).toContain('write "2001:db8::1/128"');
  });

  it('when an entry is neither a CIDR block nor a preset, it lists what an entry may be; a preset in the wrong case is named', () => {
    expect(problemFor({ allowedSources: ['gitlab'] })).toMatch(/^allowedSources\[0\]: must be a CIDR block such as "192\.30\.252\.0\/22", the preset "github", or \(alone\) "anyone", got "gitlab"/);
    expect(problemFor({ allowedSources: ['10.0.0.0/33'] })).toMatch(/^allowedSources\[0\]: must be a CIDR block/);
    expect(problemFor({ allowedSources: ['toString'] })).toMatch(/^allowedSources\[0\]: must be a CIDR block/);
    expect(problemFor({ allowedSources: ['GitHub'] })).toContain('write "github"');
  });

  it('when both allowedSources and allowedSourceCidrs are set, it says to use one', () => {
    expect(problemFor({ allowedSources: ['github'], allowedSourceCidrs: ['203.0.113.0/24'] }))
      .toMatch(/^allowedSourceCidrs: is the older spelling of allowedSources, and both are set: move its CIDR blocks into allowedSources and remove allowedSourceCidrs/);
  });

  it('when the expanded list would not fit one resource policy, it says to merge blocks', () => {
    const many = Array.from({ length: 500 }, (_, i) => `10.${Math.floor(i / 256)}.${i % 256}.0/24`);
    expect(problemFor({ allowedSources: many })).toMatch(/^allowedSources: 500 CIDR blocks would exceed API Gateway's 8 KB resource policy limit/);
  });

  it('when waf has a limit AWS WAF does not take or an unknown key, it names the field and the range', () => {
    expect(problemFor({ waf: { ratePer5Minutes: 5 } })).toMatch(/^waf\.ratePer5Minutes: must be a whole number from 10 to 2000000000, got 5/);
    expect(problemFor({ waf: { ratePer5Minutes: 100, rate: 100 } })).toMatch(/^waf\.rate: unknown setting; known settings here are ratePer5Minutes/);
  });
});
