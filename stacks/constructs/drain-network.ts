import { Construct } from 'constructs';
import { isIP } from 'node:net';
import { SecurityGroup } from '@cdktf/provider-aws/lib/security-group';
import { VpcEndpoint } from '@cdktf/provider-aws/lib/vpc-endpoint';
import { VpcSecurityGroupEgressRule } from '@cdktf/provider-aws/lib/vpc-security-group-egress-rule';
import { VpcSecurityGroupIngressRule } from '@cdktf/provider-aws/lib/vpc-security-group-ingress-rule';
import { DRAIN_ENDPOINT_SERVICES, type DrainVpcConfig, type EndpointService } from '../config';
import { jenkinsPort } from '../jenkins-reach';

export interface DrainNetworkOptions {
  readonly name: string;
  readonly region: string;
  readonly jenkinsUrl: string;
  readonly vpc: DrainVpcConfig;
}

/** The interface endpoints a `drain.vpc.endpoints` setting asks for (none for false or absent). */
export function endpointServices(endpoints: DrainVpcConfig['endpoints']): readonly EndpointService[] {
  if (endpoints === true) return DRAIN_ENDPOINT_SERVICES;
  return Array.isArray(endpoints) ? endpoints : [];
}

/**
 * Where the drain Lambda runs when Jenkins is on a private network: the user's subnets, its own
 * security group (unless the user brings theirs) that may only open connections to Jenkins' port
 * and to HTTPS, and optionally interface endpoints so subnets without a NAT route reach SQS and SSM.
 */
export class DrainNetwork extends Construct {
  /** What the drain's vpc_config gets. */
  readonly subnetIds: string[];
  readonly securityGroupIds: string[];
  /** Created only when `vpc.securityGroupIds` is not given. */
  readonly securityGroup?: SecurityGroup;
  readonly endpoints: Record<string, VpcEndpoint> = {};

  constructor(scope: Construct, id: string, options: DrainNetworkOptions) {
    super(scope, id);
    const { vpc } = options;
    this.subnetIds = [...vpc.subnetIds];
    if (vpc.securityGroupIds) {
      this.securityGroupIds = [...vpc.securityGroupIds];
    } else {
      this.securityGroup = this.drainSecurityGroup(options, vpc.vpcId!);
      this.securityGroupIds = [this.securityGroup.id];
    }
    const services = endpointServices(vpc.endpoints);
    if (services.length > 0) this.interfaceEndpoints(options, vpc.vpcId!, services);
  }

  private drainSecurityGroup(options: DrainNetworkOptions, vpcId: string): SecurityGroup {
    const group = new SecurityGroup(this, 'drain', {
      name: `${options.name}-drain`,
      description: 'Spigot drain Lambda: outbound to Jenkins and to AWS APIs (HTTPS) only, nothing inbound',
      vpcId,
    });
    new VpcSecurityGroupEgressRule(this, 'https', {
      securityGroupId: group.id,
      description: 'HTTPS to SQS, SSM (through your NAT or the endpoints) and to Jenkins when it serves 443',
      ipProtocol: 'tcp',
      fromPort: 443,
      toPort: 443,
      cidrIpv4: '0.0.0.0/0',
    });
    const host = new URL(options.jenkinsUrl).hostname.replace(/^\[|\]$/g, '');
    const port = jenkinsPort(options.jenkinsUrl);
    // A Jenkins named by address gets exactly that address; a DNS name can resolve anywhere.
    const target = isIP(host) === 4 ? { cidrIpv4: `${host}/32` } : isIP(host) === 6 ? { cidrIpv6: `${host}/128` } : { cidrIpv4: '0.0.0.0/0' };
    if (port !== 443 || target.cidrIpv4 !== '0.0.0.0/0') {
      new VpcSecurityGroupEgressRule(this, 'jenkins', {
        securityGroupId: group.id,
        description: `Jenkins (${new URL(options.jenkinsUrl).host})`,
        ipProtocol: 'tcp',
        fromPort: port,
        toPort: port,
        ...target,
      });
    }
    return group;
  }

  private interfaceEndpoints(options: DrainNetworkOptions, vpcId: string, services: readonly EndpointService[]): void {
    const group = new SecurityGroup(this, 'endpoints', {
      name: `${options.name}-drain-endpoints`,
      description: 'Spigot drain interface endpoints: HTTPS from the drain only',
      vpcId,
    });
    this.securityGroupIds.forEach((source, i) => {
      new VpcSecurityGroupIngressRule(this, `endpoints-from-drain-${i}`, {
        securityGroupId: group.id,
        description: 'HTTPS from the Spigot drain',
        ipProtocol: 'tcp',
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: source,
      });
    });
    for (const service of services) {
      this.endpoints[service] = new VpcEndpoint(this, `endpoint-${service}`, {
        vpcId,
        serviceName: `com.amazonaws.${options.region}.${service}`,
        vpcEndpointType: 'Interface',
        // Private DNS makes the SDK's default regional host name resolve to the endpoint.
        privateDnsEnabled: true,
        subnetIds: this.subnetIds,
        securityGroupIds: [group.id],
        tags: { Name: `${options.name}-drain-${service}` },
      });
    }
  }
}
