/**
 * A Jenkins on a private network (issue 10, part 1): the drain in the user's VPC, the endpoints
 * it may need there, and the synth-time refusals for a Jenkins the drain could not reach.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigError, DEFAULT_CONFIG, mergeConfig, validateConfig } from '../../stacks/config';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../stacks/constructs/drain-core';
import { drainVpcWarnings, jenkinsPort, jenkinsReachProblems, privateHostReason } from '../../stacks/jenkins-reach';
import { configProblems, onlyResourceOfType, parseReference, ref, resourcesOfType, synthStack, type SynthesizedStack } from '../support/synth';

const SUBNETS = ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'];
const VPC = 'vpc-0123456789abcdef0';
const PRIVATE_JENKINS = 'https://jenkins.corp.internal:8443/jenkins';
const FIXTURE = path.resolve(__dirname, '..', 'fixtures', 'spigot.vpc.config.json');

const problemsFor = (override: object): string[] => configProblems(override, 'spigot.config.json');
const drainFunction = (parsed: SynthesizedStack) => onlyResourceOfType(parsed, 'aws_lambda_function')[1];
const egressRules = (parsed: SynthesizedStack) => Object.values(resourcesOfType(parsed, 'aws_vpc_security_group_egress_rule'));

function drainPolicy(parsed: SynthesizedStack): { Statement: Array<{ Sid: string; Action: string | string[]; Resource: unknown }> } {
  const roleId = parseReference(drainFunction(parsed).role)!.id;
  const policy = Object.values(resourcesOfType(parsed, 'aws_iam_role_policy')).find((p) => p.role === ref('aws_iam_role', roleId, 'id'))!;
  return JSON.parse(policy.policy);
}

/** The reach problems (synth refusals) for an override, as the stack would raise them. */
function reachProblems(override: object): string[] {
  return jenkinsReachProblems(validateConfig(mergeConfig(DEFAULT_CONFIG, override)));
}

describe('drain.vpc validation', () => {
  it('when subnet ids are names or malformed, it names the entry and shows the id format', () => {
    const problems = problemsFor({ drain: { vpc: { subnetIds: ['private-a', 'subnet-0123456789abcdef0'], vpcId: VPC } } });
    expect(problems).toEqual([expect.stringMatching(/^drain\.vpc\.subnetIds\[0\]: must be an id such as "subnet-0123456789abcdef0"/)]);
  });

  it('when subnetIds is empty or missing, it asks for subnets and recommends two in different AZs', () => {
    for (const vpc of [{ subnetIds: [], vpcId: VPC }, { vpcId: VPC }]) {
      expect(problemsFor({ drain: { vpc } })).toEqual([expect.stringMatching(/^drain\.vpc\.subnetIds: must list 1 to 16 subnet ids .*two or more, in different AZs/)]);
    }
  });

  it('when a subnet is listed twice, it says which', () => {
    expect(problemsFor({ drain: { vpc: { subnetIds: [SUBNETS[0], SUBNETS[0]], vpcId: VPC } } })).toEqual([expect.stringContaining(`lists "${SUBNETS[0]}" twice`)]);
  });

  it('when neither securityGroupIds nor vpcId is given, it names both ways to fix it', () => {
    const [problem] = problemsFor({ drain: { vpc: { subnetIds: SUBNETS } } });
    expect(problem).toMatch(/^drain\.vpc: needs securityGroupIds .* or vpcId \(the stack creates that group\)/);
  });

  it('when a security group or VPC id is malformed, it names the field and the format', () => {
    expect(problemsFor({ drain: { vpc: { subnetIds: SUBNETS, securityGroupIds: ['default'] } } })).toEqual([expect.stringMatching(/^drain\.vpc\.securityGroupIds\[0\]: must be an id such as "sg-/)]);
    expect(problemsFor({ drain: { vpc: { subnetIds: SUBNETS, vpcId: 'vpc-XYZ' } } })).toEqual([expect.stringMatching(/^drain\.vpc\.vpcId: must be the id of the subnets' VPC, such as "vpc-/)]);
  });

  it('when endpoints are asked for without vpcId, or name an unknown service, it says what is needed', () => {
    expect(problemsFor({ drain: { vpc: { subnetIds: SUBNETS, securityGroupIds: ['sg-0123456789abcdef0'], endpoints: true } } }))
      .toEqual([expect.stringMatching(/^drain\.vpc\.endpoints: needs drain\.vpc\.vpcId/)]);
    expect(problemsFor({ drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC, endpoints: ['sqs', 's3'] } } }))
      .toEqual([expect.stringMatching(/^drain\.vpc\.endpoints\[1\]: must be one of "sqs", "ssm", "kms", "logs", "monitoring", "xray", "sts", got "s3"/)]);
  });

  it('when an unknown key is under drain.vpc, it lists the known ones', () => {
    expect(problemsFor({ drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC, subnets: [] } } })).toEqual([expect.stringMatching(/^drain\.vpc\.subnets: unknown setting; .*subnetIds, securityGroupIds, vpcId, endpoints/)]);
  });

  it('when one subnet is given, synth goes on but warns that one AZ carries the drain; with two it does not', () => {
    const one = validateConfig(mergeConfig(DEFAULT_CONFIG, { drain: { vpc: { subnetIds: [SUBNETS[0]], vpcId: VPC } } }));
    expect(drainVpcWarnings(one)).toEqual([expect.stringMatching(/one Availability Zone.*stay safely held in SQS.*second subnet/)]);
    const two = validateConfig(mergeConfig(DEFAULT_CONFIG, { drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC } } }));
    expect(drainVpcWarnings(two)).toEqual([]);
    expect(drainVpcWarnings(DEFAULT_CONFIG)).toEqual([]);
  });

  it('when allowPlainHttp is not a boolean, it names it', () => {
    expect(problemsFor({ allowPlainHttp: 'yes' })).toEqual([expect.stringMatching(/^allowPlainHttp: must be true or false/)]);
  });
});

describe('drain in a VPC, with a security group the stack creates', () => {
  const { parsed } = synthStack({ jenkinsUrl: 'https://10.20.0.5:8443/jenkins', drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC } } });
  const [groupId, group] = onlyResourceOfType(parsed, 'aws_security_group');

  it('when drain.vpc has subnets and vpcId, the function runs in those subnets with the created group', () => {
    expect(drainFunction(parsed).vpc_config).toEqual({ subnet_ids: SUBNETS, security_group_ids: [ref('aws_security_group', groupId, 'id')] });
    expect(group).toMatchObject({ name: 'spigot-drain', vpc_id: VPC });
  });

  it('when the group is created, it opens only Jenkins\' port (to its address) and HTTPS, and nothing inbound', () => {
    const rules = egressRules(parsed).map((r) => ({ port: [r.from_port, r.to_port], protocol: r.ip_protocol, cidr: r.cidr_ipv4 ?? r.cidr_ipv6, group: r.security_group_id }));
    expect(rules).toEqual(expect.arrayContaining([
      { port: [443, 443], protocol: 'tcp', cidr: '0.0.0.0/0', group: ref('aws_security_group', groupId, 'id') },
      { port: [8443, 8443], protocol: 'tcp', cidr: '10.20.0.5/32', group: ref('aws_security_group', groupId, 'id') },
    ]));
    expect(rules).toHaveLength(2);
    expect(resourcesOfType(parsed, 'aws_vpc_security_group_ingress_rule')).toEqual({});
    expect(group).not.toHaveProperty('ingress');
    for (const rule of egressRules(parsed)) expect(rule.description).toEqual(expect.any(String));
  });

  it('when the stack creates the group, its id is an output to admit in Jenkins\' security group', () => {
    expect(parsed.output?.drain_security_group_id?.value).toBe(ref('aws_security_group', groupId, 'id'));
  });

  it('when in a VPC, the role may manage the function\'s network interfaces, and the policy exists before the function', () => {
    const statement = drainPolicy(parsed).Statement.find((s) => s.Sid === 'VpcNetworkInterfaces')!;
    expect(statement.Action).toEqual(VPC_NETWORK_INTERFACE_ACTIONS);
    expect(statement.Action).toEqual(expect.arrayContaining([
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
    ]));
    expect(statement.Resource).toBe('*');
    const [policyId] = Object.entries(resourcesOfType(parsed, 'aws_iam_role_policy')).find(([, p]) => p.name === 'drain')!;
    expect(drainFunction(parsed).depends_on).toContain(`aws_iam_role_policy.${policyId}`);
  });

  it('when no endpoints are asked for, none is created (the subnets use their NAT route)', () => {
    expect(resourcesOfType(parsed, 'aws_vpc_endpoint')).toEqual({});
  });

  it('when Jenkins is a DNS name on 443, one HTTPS rule covers it; on another port, that port is open to any address', () => {
    const on443 = synthStack({ jenkinsUrl: 'https://jenkins.corp.internal', drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC } } }).parsed;
    expect(egressRules(on443).map((r) => [r.from_port, r.cidr_ipv4])).toEqual([[443, '0.0.0.0/0']]);
    const on8080 = synthStack({ jenkinsUrl: 'http://jenkins.corp.internal:8080', allowPlainHttp: true, drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC } } }).parsed;
    expect(egressRules(on8080).map((r) => [r.from_port, r.cidr_ipv4]).sort()).toEqual([[443, '0.0.0.0/0'], [8080, '0.0.0.0/0']]);
  });
});

describe('drain in a VPC, with the user\'s security groups', () => {
  const groups = ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'];
  const { parsed } = synthStack({ jenkinsUrl: PRIVATE_JENKINS, drain: { vpc: { subnetIds: SUBNETS, securityGroupIds: groups } } });

  it('when securityGroupIds is given, the function uses exactly those and the stack creates no group or rule', () => {
    expect(drainFunction(parsed).vpc_config).toEqual({ subnet_ids: SUBNETS, security_group_ids: groups });
    expect(resourcesOfType(parsed, 'aws_security_group')).toEqual({});
    expect(egressRules(parsed)).toEqual([]);
    expect(parsed.output).not.toHaveProperty('drain_security_group_id');
  });
});

describe('drain without a VPC', () => {
  const { parsed } = synthStack();

  it('when drain.vpc is not set, the function has no vpc_config, the role no EC2 permission, and no network resource exists', () => {
    expect(drainFunction(parsed)).not.toHaveProperty('vpc_config');
    expect(JSON.stringify(drainPolicy(parsed))).not.toContain('ec2:');
    for (const type of ['aws_security_group', 'aws_vpc_endpoint', 'aws_vpc_security_group_egress_rule']) expect(resourcesOfType(parsed, type)).toEqual({});
  });
});

describe('interface VPC endpoints', () => {
  const { parsed } = synthStack({ jenkinsUrl: PRIVATE_JENKINS, region: 'eu-west-1', drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC, endpoints: true } } });
  const groups = resourcesOfType(parsed, 'aws_security_group');
  const [drainGroupId] = Object.entries(groups).find(([, g]) => g.name === 'spigot-drain')!;
  const [endpointGroupId, endpointGroup] = Object.entries(groups).find(([, g]) => g.name === 'spigot-drain-endpoints')!;
  const endpoints = Object.values(resourcesOfType(parsed, 'aws_vpc_endpoint'));

  it('when endpoints is true, it creates interface endpoints for what the drain calls (SQS, SSM) with private DNS in its subnets', () => {
    expect(endpoints.map((e) => e.service_name).sort()).toEqual(['com.amazonaws.eu-west-1.sqs', 'com.amazonaws.eu-west-1.ssm']);
    for (const endpoint of endpoints) {
      expect(endpoint).toMatchObject({
        vpc_id: VPC, vpc_endpoint_type: 'Interface', private_dns_enabled: true, subnet_ids: SUBNETS,
        security_group_ids: [ref('aws_security_group', endpointGroupId, 'id')],
      });
    }
    expect(endpointGroup.vpc_id).toBe(VPC);
  });

  it('when endpoints exist, their group admits HTTPS from the drain\'s group only', () => {
    const ingress = Object.values(resourcesOfType(parsed, 'aws_vpc_security_group_ingress_rule'));
    expect(ingress).toEqual([expect.objectContaining({
      security_group_id: ref('aws_security_group', endpointGroupId, 'id'),
      referenced_security_group_id: ref('aws_security_group', drainGroupId, 'id'),
      ip_protocol: 'tcp', from_port: 443, to_port: 443,
    })]);
    expect(ingress[0]).not.toHaveProperty('cidr_ipv4');
  });

  it('when endpoints lists services, it creates exactly those, admitting each of the user\'s groups', () => {
    const userGroups = ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'];
    const listed = synthStack({
      jenkinsUrl: PRIVATE_JENKINS,
      drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC, securityGroupIds: userGroups, endpoints: ['sqs', 'ssm', 'kms', 'logs', 'monitoring', 'xray'] } },
    }).parsed;
    expect(Object.values(resourcesOfType(listed, 'aws_vpc_endpoint')).map((e) => e.service_name.split('.').pop()).sort())
      .toEqual(['kms', 'logs', 'monitoring', 'sqs', 'ssm', 'xray']);
    expect(Object.values(resourcesOfType(listed, 'aws_vpc_security_group_ingress_rule')).map((r) => r.referenced_security_group_id).sort()).toEqual(userGroups);
  });
});

describe('where Jenkins lives: synth refusals', () => {
  it('when jenkinsUrl is on a private, loopback, link-local or ULA address, the host is recognised as private', () => {
    const cases: Record<string, RegExp> = {
      'https://10.0.0.5:8080': /RFC 1918/,
      'https://172.31.255.1': /RFC 1918/,
      'https://192.168.1.10/jenkins': /RFC 1918/,
      'https://127.0.0.1:8080': /loopback/,
      'https://169.254.10.1': /link-local/,
      'https://100.100.1.1': /carrier-grade NAT/,
      'https://[::1]:8080': /loopback/,
      'https://[fd12:3456::1]': /unique local/,
      'https://[fe80::1]': /link-local/,
      'https://[::ffff:10.0.0.5]': /RFC 1918/,
      'https://localhost:8080': /loopback/,
      'https://jenkins': /single-label/,
    };
    for (const [url, reason] of Object.entries(cases)) expect([url, privateHostReason(url)]).toEqual([url, expect.stringMatching(reason)]);
  });

  it('when jenkinsUrl ends in .internal, .local, .lan, .corp or .home.arpa, the name is recognised as private', () => {
    for (const suffix of ['.internal', '.local', '.lan', '.corp', '.home.arpa']) {
      expect(privateHostReason(`https://ci.example${suffix}/jenkins`)).toContain(`private DNS name (${suffix})`);
    }
  });

  it('when jenkinsUrl is public or the embedded placeholder, nothing is private', () => {
    for (const url of ['https://ci.example.com', 'https://172.32.0.1', 'https://8.8.8.8', 'https://[2001:db8::1]', 'https://internal.example.com', DEFAULT_CONFIG.jenkinsUrl]) {
      expect([url, privateHostReason(url)]).toEqual([url, undefined]);
    }
  });

  it('when a private Jenkins has no drain.vpc, synth fails naming both fixes: drain.vpc, or the agent', () => {
    expect(() => synthStack({ jenkinsUrl: 'https://10.0.0.5:8443' })).toThrow(ConfigError);
    const [problem] = reachProblems({ jenkinsUrl: 'https://10.0.0.5:8443' });
    expect(problem).toMatch(/^jenkinsUrl: .*private \(RFC 1918\) address 10\.0\.0\.5/);
    expect(problem).toContain('configure drain.vpc');
    expect(problem).toContain('"drain": {"vpc": {"subnetIds"');
    expect(problem).toMatch(/run the drain as an agent next to Jenkins/);
  });

  it('when a private Jenkins has drain.vpc, synth accepts it', () => {
    expect(reachProblems({ jenkinsUrl: PRIVATE_JENKINS, drain: { vpc: { subnetIds: SUBNETS, vpcId: VPC } } })).toEqual([]);
  });

  it('when jenkinsUrl is http:// without allowPlainHttp, synth fails naming the opt-in; with it, synth accepts it', () => {
    const problems = reachProblems({ jenkinsUrl: 'http://ci.example.com:8080' });
    expect(problems).toEqual([expect.stringMatching(/^jenkinsUrl: .*plain http.*"allowPlainHttp": true/)]);
    expect(() => synthStack({ jenkinsUrl: 'http://ci.example.com:8080' })).toThrow(/allowPlainHttp/);
    expect(reachProblems({ jenkinsUrl: 'http://ci.example.com:8080', allowPlainHttp: true })).toEqual([]);
  });

  it('when jenkinsUrl is both plain http and private without a VPC, both problems are reported at once', () => {
    const [plain, unreachable] = reachProblems({ jenkinsUrl: 'http://192.168.0.2:8080' });
    expect(plain).toContain('"allowPlainHttp": true');
    expect(unreachable).toMatch(/configure drain\.vpc.*as an agent/);
  });

  it('when the embedded default or the example config is synthesized, nothing is refused', () => {
    expect(jenkinsReachProblems(DEFAULT_CONFIG)).toEqual([]);
    const example = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'spigot.config.example.json'), 'utf8'));
    expect(reachProblems(example)).toEqual([]);
  });

  it('when the port is implied, it is the scheme\'s', () => {
    expect([jenkinsPort('https://ci.example.com'), jenkinsPort('http://ci.example.com'), jenkinsPort('https://ci.example.com:8443')]).toEqual([443, 80, 8443]);
  });
});

describe('the scan fixture', () => {
  it('when scripts/scan.sh synthesizes the VPC fixture, it is a valid config with a private Jenkins, the created group and endpoints', () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const { parsed } = synthStack(fixture);
    expect(privateHostReason(fixture.jenkinsUrl)).toEqual(expect.any(String));
    expect(drainFunction(parsed).vpc_config.subnet_ids).toHaveLength(2);
    expect(Object.keys(resourcesOfType(parsed, 'aws_vpc_endpoint')).length).toBeGreaterThan(0);
  });
});

describe('main.ts with a private Jenkins', () => {
  const root = path.resolve(__dirname, '..', '..');
  let cwd: string;
  beforeEach(() => { cwd = mkdtempSync(path.join(tmpdir(), 'spigot-vpc-main-')); });
  afterEach(() => { rmSync(cwd, { recursive: true, force: true }); });
  const runMain = (config: object) => {
    const file = path.join(cwd, 'spigot.config.json');
    writeFileSync(file, JSON.stringify(config));
    return spawnSync(path.join(root, 'node_modules', '.bin', 'tsx'), [path.join(root, 'main.ts')], {
      cwd, env: { ...process.env, SPIGOT_CONFIG: file }, encoding: 'utf8', timeout: 60000,
    });
  };

  it('when the config points at a private Jenkins without drain.vpc, synth exits 2 with the fixes and synthesizes nothing', () => {
    const result = runMain({ jenkinsUrl: 'https://jenkins.lan:8443' });
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/jenkinsUrl: .*private DNS name \(\.lan\).*configure drain\.vpc.*as an agent/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(cwd, 'cdktf.out'))).toBe(false);
  });

  it('when drain.vpc has one subnet, synth succeeds and warns about the single Availability Zone', () => {
    const result = runMain({ jenkinsUrl: 'https://jenkins.lan:8443', drain: { vpc: { subnetIds: [SUBNETS[0]], vpcId: VPC } } });
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/warning: drain\.vpc\.subnetIds lists one subnet/);
  });
});

describe('the scan', () => {
  const root = path.resolve(__dirname, '..', '..');

  it('when checkov runs, CKV_AWS_117 is not skipped globally and scan.sh synthesizes and scans the VPC fixture too', () => {
    const skipList = readFileSync(path.join(root, '.checkov.yaml'), 'utf8').split(/^skip-check:/m)[1];
    expect(skipList).not.toMatch(/^\s*- CKV_AWS_117/m);
    const scan = readFileSync(path.join(root, 'scripts', 'scan.sh'), 'utf8');
    expect(scan).toContain(`VPC_FIXTURE=${path.relative(root, FIXTURE)}`);
    expect(scan).toMatch(/NO_VPC_ONLY=CKV_AWS_117/);
  });
});
