import { resourcesOfType, synthStack } from '../support/synth';

const ACCOUNT_TYPES = ['aws_iam_role', 'aws_iam_role_policy_attachment', 'aws_api_gateway_account'];

/** Addresses (type.id) of the account-role resources a managing stack has. */
function accountRoleAddresses(parsed: ReturnType<typeof synthStack>['parsed']): string[] {
  const role = Object.entries(resourcesOfType(parsed, 'aws_iam_role')).filter(([, r]) => r.name === 'spigot-apigw-cloudwatch').map(([id]) => `aws_iam_role.${id}`);
  const rest = ACCOUNT_TYPES.slice(1).flatMap((type) => Object.keys(resourcesOfType(parsed, type)).map((id) => `${type}.${id}`));
  return [...role, ...rest];
}

describe('API Gateway account logging role', () => {
  it('when left at its default, the stack leaves the account-wide setting alone, so destroying it breaks no other API', () => {
    const { parsed } = synthStack();
    expect(resourcesOfType(parsed, 'aws_api_gateway_account')).toEqual({});
    expect(Object.values(resourcesOfType(parsed, 'aws_iam_role')).map((r) => r.name)).not.toContain('spigot-apigw-cloudwatch');
  });

  it('when left at its default, a stack that used to manage the setting forgets it instead of destroying (and resetting) it', () => {
    const managed = accountRoleAddresses(synthStack({ manageApiGatewayAccountRole: true }).parsed);
    expect(managed).toHaveLength(3);
    const removed = (synthStack().parsed.removed ?? []) as Array<{ from: string; lifecycle: { destroy: boolean } }>;
    expect(removed.map((r) => r.from).sort()).toEqual([...managed].sort());
    for (const block of removed) expect(block.lifecycle).toEqual({ destroy: false });
  });

  it('when manageApiGatewayAccountRole is true, the stack sets the role and refuses to destroy the role, its policy or the setting', () => {
    const { parsed } = synthStack({ manageApiGatewayAccountRole: true });
    expect(parsed.removed).toBeUndefined();
    const [account] = Object.values(resourcesOfType(parsed, 'aws_api_gateway_account'));
    expect(account.cloudwatch_role_arn).toMatch(/^\$\{aws_iam_role\.ingest_cloudwatch-role_[0-9A-F]+\.arn\}$/);
    const owned = [
      ...Object.values(resourcesOfType(parsed, 'aws_iam_role')).filter((r) => r.name === 'spigot-apigw-cloudwatch'),
      ...Object.values(resourcesOfType(parsed, 'aws_iam_role_policy_attachment')),
      account,
    ];
    expect(owned).toHaveLength(3);
    for (const resource of owned) expect(resource.lifecycle).toEqual({ prevent_destroy: true });
    const [stage] = Object.values(resourcesOfType(parsed, 'aws_api_gateway_stage'));
    expect(stage.depends_on).toEqual(expect.arrayContaining([expect.stringMatching(/^aws_api_gateway_account\./)]));
  });
});
