import { resourcesOfType, synthStack } from '../support/synth';

describe('API Gateway account logging role', () => {
  it('when left at its default, the stack sets the account-wide CloudWatch role stage logging needs', () => {
    const { parsed } = synthStack();
    expect(Object.keys(resourcesOfType(parsed, 'aws_api_gateway_account'))).toHaveLength(1);
  });

  it('when manageApiGatewayAccountRole is false, the stack leaves the account setting alone', () => {
    const { parsed } = synthStack({ manageApiGatewayAccountRole: false });
    expect(resourcesOfType(parsed, 'aws_api_gateway_account')).toEqual({});
    const roles = Object.values(resourcesOfType(parsed, 'aws_iam_role')).map((r) => r.name);
    expect(roles).not.toContain('spigot-apigw-cloudwatch');
  });
});
