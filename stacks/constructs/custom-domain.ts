import { Construct } from 'constructs';
import { ApiGatewayBasePathMapping } from '@cdktf/provider-aws/lib/api-gateway-base-path-mapping';
import { ApiGatewayDomainName } from '@cdktf/provider-aws/lib/api-gateway-domain-name';
import { Route53Record } from '@cdktf/provider-aws/lib/route53-record';
import type { DomainConfig } from '../config';

export interface CustomDomainOptions {
  readonly domain: DomainConfig;
  readonly restApiId: string;
  /** A reference to the stage's name, so the mapping waits for the stage. */
  readonly stageName: string;
}

/**
 * A stable webhook URL: `https://<domain>/<route>` keeps working when the REST API is replaced,
 * because only this mapping moves. Regional, like the API, so the certificate lives in the
 * stack's region.
 */
export class CustomDomain extends Construct {
  readonly domainName: ApiGatewayDomainName;
  /** `https://<domain>`, with no trailing slash: routes start with "/". */
  readonly baseUrl: string;

  constructor(scope: Construct, id: string, options: CustomDomainOptions) {
    super(scope, id);
    const { name, certificateArn, hostedZoneId } = options.domain;
    this.domainName = new ApiGatewayDomainName(this, 'domain', {
      domainName: name,
      regionalCertificateArn: certificateArn,
      endpointConfiguration: { types: ['REGIONAL'] },
      securityPolicy: 'TLS_1_2',
    });
    // No base path: the domain's root is the stage, so routes keep their paths (/github-webhook/).
    new ApiGatewayBasePathMapping(this, 'mapping', {
      apiId: options.restApiId,
      stageName: options.stageName,
      domainName: this.domainName.domainName,
    });
    if (hostedZoneId !== undefined) {
      new Route53Record(this, 'alias', {
        zoneId: hostedZoneId,
        name,
        type: 'A',
        alias: { name: this.domainName.regionalDomainName, zoneId: this.domainName.regionalZoneId, evaluateTargetHealth: false },
      });
    }
    this.baseUrl = `https://${name}`;
  }
}
