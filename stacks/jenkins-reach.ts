/**
 * Can the drain, as configured, reach Jenkins, and safely? Pure decisions on the merged config,
 * made when the stack is built (README "Where does your Jenkins live?").
 *
 * Outside a VPC the drain Lambda only reaches public addresses, so a Jenkins on a private address
 * or a private DNS name would fail every probe: the spigot closes itself and nothing is released.
 * The agent (drain.mode "agent") runs next to Jenkins, so any address is its to reach; the http://
 * refusal still applies to it, since the path from the agent to Jenkins may cross a network too.
 */
import { isIP } from 'node:net';
import { ConfigError, type SpigotConfig } from './config';

/** DNS suffixes that only resolve inside a private network (RFC 6761/6762/8375, and common practice). */
const PRIVATE_SUFFIXES = ['.internal', '.local', '.lan', '.corp', '.home.arpa', '.localhost'] as const;

const IPV4_PRIVATE: ReadonlyArray<[prefix: number[], bits: number, kind: string]> = [
  [[10], 8, 'a private (RFC 1918)'],
  [[172, 16], 12, 'a private (RFC 1918)'],
  [[192, 168], 16, 'a private (RFC 1918)'],
  [[127], 8, 'a loopback'],
  [[169, 254], 16, 'a link-local'],
  [[100, 64], 10, 'a carrier-grade NAT (RFC 6598, e.g. Tailscale)'],
  [[0], 8, 'an unroutable'],
];

function ipv4Kind(address: string): string | undefined {
  const value = address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  for (const [prefix, bits, kind] of IPV4_PRIVATE) {
    const base = [...prefix, 0, 0, 0].slice(0, 4).reduce((n, octet) => n * 256 + octet, 0);
    const size = 2 ** (32 - bits);
    if (value >= base && value < base + size) return kind;
  }
  return undefined;
}

/** The 8 groups of an IPv6 address as numbers (the URL parser has already normalised it). */
function ipv6Groups(address: string): number[] {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const front = parse(head);
  const back = parse(tail);
  return tail === undefined ? front : [...front, ...Array(8 - front.length - back.length).fill(0), ...back];
}

function ipv6Kind(address: string): string | undefined {
  const g = ipv6Groups(address);
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return 'a loopback';
  if ((g[0] & 0xfe00) === 0xfc00) return 'a unique local (ULA)';
  if ((g[0] & 0xffc0) === 0xfe80) return 'a link-local';
  // IPv4-mapped (::ffff:a.b.c.d): judged as the IPv4 address it carries.
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) {
    return ipv4Kind([g[6] >> 8, g[6] & 255, g[7] >> 8, g[7] & 255].join('.'));
  }
  return undefined;
}

/**
 * Why a Jenkins host is only reachable from inside a private network ("a private (RFC 1918)
 * address 10.0.0.5"), or undefined for a host that may be public. Names under `.invalid` (the
 * embedded placeholder) are not judged here: plan refuses them anyway.
 */
export function privateHostReason(jenkinsUrl: string): string | undefined {
  const host = new URL(jenkinsUrl).hostname.toLowerCase().replace(/\.$/, '');
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare) === 4) return withKind(ipv4Kind(bare), 'address', bare);
  if (isIP(bare) === 6) return withKind(ipv6Kind(bare), 'address', bare);
  if (host === 'localhost') return 'the loopback name localhost';
  const suffix = PRIVATE_SUFFIXES.find((s) => host.endsWith(s));
  if (suffix) return `a private DNS name (${suffix}) ${host}, which public DNS never resolves`;
  if (!host.includes('.')) return `the single-label name ${host}, which only your network's DNS resolves`;
  return undefined;
}

const withKind = (kind: string | undefined, what: string, host: string): string | undefined => (kind ? `${kind} ${what} ${host}` : undefined);

/** The TCP port the drain connects to Jenkins on. */
export function jenkinsPort(jenkinsUrl: string): number {
  const url = new URL(jenkinsUrl);
  return url.port ? Number(url.port) : url.protocol === 'http:' ? 80 : 443;
}

/** Every reason this stack's drain could not reach Jenkins safely, each naming its fixes. */
export function jenkinsReachProblems(config: SpigotConfig): string[] {
  const problems: string[] = [];
  const where = 'in spigot.config.json, or the file SPIGOT_CONFIG names';
  if (new URL(config.jenkinsUrl).protocol === 'http:' && !config.allowPlainHttp) {
    problems.push(
      `jenkinsUrl: ${config.jenkinsUrl} is plain http: the drain replays signed webhook bodies to it (and sends the Jenkins API token of drain.credentialsParameterName), readable by anyone on the path. Use https://, or set "allowPlainHttp": true (${where}) if the path to Jenkins is private to you.`,
    );
  }
  const reason = privateHostReason(config.jenkinsUrl);
  if (reason && config.drain.mode === 'lambda' && config.drain.vpc === undefined) {
    problems.push(
      `jenkinsUrl: ${config.jenkinsUrl} is ${reason}, which the drain Lambda cannot reach from outside your network, so every probe would fail and nothing would be released. Either configure drain.vpc, so the drain runs in the VPC that reaches Jenkins: "drain": {"vpc": {"subnetIds": ["subnet-...", "subnet-..."], "vpcId": "vpc-..."}}; or run the drain as an agent next to Jenkins: "drain": {"mode": "agent", "agent": {"assumeRolePrincipals": ["arn:aws:iam::<account>:role/<the host's role>"]}} (${where}). See README "Where does your Jenkins live?".`,
    );
  }
  return problems;
}

/** Throws a ConfigError listing jenkinsReachProblems, if any. */
export function assertJenkinsReachable(config: SpigotConfig): void {
  const problems = jenkinsReachProblems(config);
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Advice that does not stop synth. */
export function drainVpcWarnings(config: SpigotConfig): string[] {
  const vpc = config.drain.vpc;
  if (vpc === undefined || vpc.subnetIds.length > 1) return [];
  return [
    `drain.vpc.subnetIds lists one subnet, so the drain runs in one Availability Zone: if that AZ fails, webhooks stay safely held in SQS but nothing is released until it recovers. List a second subnet in another AZ for redundancy.`,
  ];
}
