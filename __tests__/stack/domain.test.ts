import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { ApiGatewayDomainName } from '@cdktf/provider-aws/lib/api-gateway-domain-name';
import { DEFAULT_CONFIG } from '../../stacks/config';
import { configProblems, onlyResourceOfType, ref, resourcesOfType, synthStack } from '../support/synth';

Testing.setupJest();

const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0';
const domain = { name: 'hooks.example.com', certificateArn: CERT };

const problemsFor = (override: object): string[] => configProblems(override);

describe('custom domain', () => {
  it('when no domain is configured, there is no domain and senders use the stage URL', () => {
    const { parsed } = synthStack();
    expect(resourcesOfType(parsed, 'aws_api_gateway_domain_name')).toEqual({});
    const [stageId] = onlyResourceOfType(parsed, 'aws_api_gateway_stage');
    expect((parsed.output!.webhook_urls.value as Record<string, string>)['/github-webhook/']).toBe(`${ref('aws_api_gateway_stage', stageId, 'invoke_url')}/github-webhook/`);
    expect(parsed.output!.custom_domain_target).toBeUndefined();
  });

  it('when a domain is configured, a regional TLS 1.2 domain maps its root to the live stage', () => {
    const { json, parsed } = synthStack({ domain });
    expect(json).toHaveResourceWithProperties(ApiGatewayDomainName, {
      domain_name: 'hooks.example.com',
      regional_certificate_arn: CERT,
      endpoint_configuration: { types: ['REGIONAL'] },
      security_policy: 'TLS_1_2',
    });
    const [domainId] = onlyResourceOfType(parsed, 'aws_api_gateway_domain_name');
    const [apiId] = onlyResourceOfType(parsed, 'aws_api_gateway_rest_api');
    const [stageId] = onlyResourceOfType(parsed, 'aws_api_gateway_stage');
    const [, mapping] = onlyResourceOfType(parsed, 'aws_api_gateway_base_path_mapping');
    expect(mapping).toEqual({
      api_id: ref('aws_api_gateway_rest_api', apiId, 'id'),
      stage_name: ref('aws_api_gateway_stage', stageId, 'stage_name'),
      domain_name: ref('aws_api_gateway_domain_name', domainId, 'domain_name'),
    });
    expect(mapping).not.toHaveProperty('base_path');
  });

  it('when a domain is configured, the outputs give the custom-domain URLs to configure, the stage URLs and the DNS target', () => {
    const { parsed } = synthStack({ domain });
    const outputs = parsed.output!;
    expect(outputs.webhook_urls.value).toEqual({
      '/github-webhook/': 'https://hooks.example.com/github-webhook/',
      '/generic-webhook-trigger/invoke': 'https://hooks.example.com/generic-webhook-trigger/invoke',
    });
    expect(outputs.webhook_url_0.value).toBe('https://hooks.example.com/github-webhook/');
    expect(Object.keys(outputs.stage_webhook_urls.value as object).sort()).toEqual([...DEFAULT_CONFIG.routes].sort());
    const [domainId] = onlyResourceOfType(parsed, 'aws_api_gateway_domain_name');
    expect(outputs.custom_domain_target.value).toEqual({
      name: ref('aws_api_gateway_domain_name', domainId, 'regional_domain_name'),
      zone_id: ref('aws_api_gateway_domain_name', domainId, 'regional_zone_id'),
    });
    expect(outputs.custom_domain_target.description).toContain('CNAME for hooks.example.com');
    expect(resourcesOfType(parsed, 'aws_route53_record')).toEqual({});
  });

  it('when a hosted zone is given, an alias A record points the name at the regional domain', () => {
    const { parsed } = synthStack({ domain: { ...domain, hostedZoneId: 'Z0123456789ABCDEFGHIJ' } });
    const [domainId] = onlyResourceOfType(parsed, 'aws_api_gateway_domain_name');
    const [, record] = onlyResourceOfType(parsed, 'aws_route53_record');
    expect(record).toEqual({
      zone_id: 'Z0123456789ABCDEFGHIJ',
      name: 'hooks.example.com',
      type: 'A',
      alias: {
        name: ref('aws_api_gateway_domain_name', domainId, 'regional_domain_name'),
        zone_id: ref('aws_api_gateway_domain_name', domainId, 'regional_zone_id'),
        evaluate_target_health: false,
      },
    });
  });

  it('when the domain is given as a URL, the error says to drop the scheme and path', () => {
    expect(problemsFor({ domain: { ...domain, name: 'https://hooks.example.com/github-webhook/' } })).toEqual([
      expect.stringMatching(/^domain\.name: must be a host name only, without scheme or path: use "hooks\.example\.com"/),
    ]);
  });

  it('when the name, certificate or zone is malformed, or a key is unknown, each error names its field', () => {
    expect(problemsFor({ domain: { name: '*.example.com', certificateArn: 'arn:aws:iam::123456789012:server-certificate/x', hostedZoneId: 'hooks', cert: 1 } }).map((p) => p.split(':')[0])).toEqual([
      'domain.cert', 'domain.name', 'domain.certificateArn', 'domain.hostedZoneId',
    ]);
    expect(problemsFor({ domain: 'hooks.example.com' })).toEqual([expect.stringMatching(/^domain: must be \{"name"/)]);
  });

  it('when the certificate is in another region than the regional API, the error says where to create it', () => {
    const problems = problemsFor({ region: 'eu-west-1', domain });
    expect(problems).toEqual([expect.stringContaining('domain.certificateArn: is in us-east-1, but the API is regional in "eu-west-1": request or import the certificate for "hooks.example.com" in ACM in eu-west-1')]);
  });
});
