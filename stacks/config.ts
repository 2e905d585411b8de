/**
 * The typed configuration one Spigot stack is built from.
 *
 * `DEFAULT_CONFIG` is embedded so `npm run synth` works on a fresh clone with no file,
 * no network and no AWS credentials. A deployment overrides it with a JSON file
 * (spigot.config.json, or the path in SPIGOT_CONFIG); `loadConfig` validates the merge
 * and every error names the field and says how to fix it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseRefusalStatuses } from '../functions/drain/core/refusal-judge';
import path from 'node:path';
import { DRAIN_CPU_MS_PER_WEBHOOK, LAMBDA_MAX_MB, LAMBDA_MIN_MB, MB_PER_VCPU, minimumMemoryMb, REFERENCE_JENKINS_MS, sizingCell } from './sizing';
import { SOURCE_CHOICES, cidrListProblem, isCidr, resolveSourcePolicy, sourceEntryProblem } from './source-policy';

export interface ThrottleConfig {
  /** Steady-state requests per second for the whole stage. @default 50 */
  readonly rateLimit: number;
  /** Burst capacity. @default 100 */
  readonly burstLimit: number;
}

export interface WafConfig {
  /**
   * Requests one source IP may make in any 5 minutes; beyond that AWS WAF answers 429 until it
   * slows down (10 to 2,000,000,000). GitHub sends from few addresses: stay above its peak rate.
   */
  readonly ratePer5Minutes: number;
}

export interface ProbeConfig {
  /**
   * Jenkins path probed before any release. `/whoAmI/api/json` is served to anonymous
   * users without creating a session (unlike `/login`) and answers 503 while Jenkins starts.
   * @default "/whoAmI/api/json"
   */
  readonly path: string;
  /** @default "GET" */
  readonly method: 'GET' | 'HEAD';
  /** Statuses that count as healthy. @default [200] */
  readonly expectStatus: readonly number[];
  /** @default 5000 */
  readonly timeoutMs: number;
}

/** When a run of refusals means Jenkins is broken, not the webhooks (README "Refused webhooks"). */
export interface RefusalConfig {
  /** Refusals of one kind in a row, with no webhook accepted between, that close the spigot. @default 5 */
  readonly afterWebhooks: number;
  /** ...coming from at least this many repositories. @default 2 */
  readonly fromRepositories: number;
  /**
   * Statuses judged this way ("3xx", "4xx" or single statuses); any other refusal is dead-lettered
   * at once. 408 and 429 are never refusals (they are retried). @default ["3xx", "4xx"]
   */
  readonly statuses: readonly string[];
}

/** How long a repository Jenkins is not taking stays hidden (README "How long a refused webhook survives"). */
export interface HoldConfig {
  /** Hold after 429/503 without Retry-After. @default 30 */
  readonly defaultSeconds: number;
  /** A held repository is never received again sooner: about one schedule period. @default 60 */
  readonly minSeconds: number;
  /** The floor doubles with each receive of the same webhook up to this. @default 300 */
  readonly maxSeconds: number;
}

/** AWS services the drain can reach through interface VPC endpoints (README "Where does your Jenkins live?"). */
export const ENDPOINT_SERVICES = ['sqs', 'ssm', 'kms', 'logs', 'monitoring', 'xray', 'sts'] as const;
export type EndpointService = (typeof ENDPOINT_SERVICES)[number];
/**
 * What `endpoints: true` creates: the services the drain calls itself. KMS, CloudWatch Logs and
 * metrics (EMF lines on stdout) and X-Ray segments are reached by SQS, SSM and Lambda on its behalf.
 */
export const DRAIN_ENDPOINT_SERVICES: readonly EndpointService[] = ['sqs', 'ssm'];

/** Runs the drain Lambda in your VPC, so it reaches a Jenkins on a private address. */
export interface DrainVpcConfig {
  /** Subnets the drain's network interfaces go in; two or more in different AZs (synth warns about one). */
  readonly subnetIds: readonly string[];
  /** Your security groups for the drain. @default undefined (the stack creates one in `vpcId`) */
  readonly securityGroupIds?: readonly string[];
  /**
   * The subnets' VPC: the stack creates the drain's security group here (egress to Jenkins' port
   * and 443 only) unless `securityGroupIds` is set, and the endpoints. @default undefined
   */
  readonly vpcId?: string;
  /**
   * Interface VPC endpoints with private DNS, for subnets without a NAT route: `true` for the
   * services the drain calls (sqs, ssm), or a list of them. Billed per hour per AZ, so off.
   * Needs `vpcId`. @default false (the subnets reach AWS through your NAT gateway)
   */
  readonly endpoints?: boolean | readonly EndpointService[];
}

/** Where the drain runs (README "Where does your Jenkins live?"). */
export const DRAIN_MODES = ['lambda', 'agent'] as const;
export type DrainMode = (typeof DRAIN_MODES)[number];
/** How the agent publishes its per-run metrics: EMF lines on stdout, or PutMetricData calls. */
export const METRICS_SINKS = ['emf', 'cloudwatch'] as const;
export type MetricsSink = (typeof METRICS_SINKS)[number];

/**
 * Who runs the agent and how it reports, with drain.mode "agent". At least one identity
 * (assumeRolePrincipals, instanceProfile or createUser) must be chosen.
 */
export interface DrainAgentConfig {
  /**
   * IAM role or user ARNs (or an account's `arn:aws:iam::<account>:root`) that may assume the
   * agent role, e.g. the role of the host or the cluster workload that runs the agent. @default []
   */
  readonly assumeRolePrincipals?: readonly string[];
  /** Also create an EC2 instance profile for the role, for an agent on an EC2 host. @default false */
  readonly instanceProfile?: boolean;
  /**
   * Also create an IAM user (in a group with the same policy) for a host outside AWS. Terraform
   * creates no access key (it would sit in the state): create one with `aws iam create-access-key`.
   * @default false
   */
  readonly createUser?: boolean;
  /**
   * METRICS_SINK in the agent_environment output: "cloudwatch" (PutMetricData, which the role is
   * allowed for the Spigot namespace only) works wherever stdout goes; "emf" needs the agent's
   * stdout shipped to CloudWatch Logs with EMF extraction (docker's awslogs driver with
   * awslogs-format=json/emf, or the CloudWatch agent). @default "cloudwatch"
   */
  readonly metricsSink?: MetricsSink;
}

export interface DrainConfig {
  /**
   * "lambda": a scheduled Lambda (in Lambda's network, or in drain.vpc). "agent": no Lambda and
   * no schedule; the same drain runs as a process next to Jenkins (`npx spigot agent`, or the
   * image in deploy/agent) with the role this stack creates. @default "lambda"
   */
  readonly mode: DrainMode;
  /** The agent's identity and metrics, with mode "agent". @default undefined */
  readonly agent?: DrainAgentConfig;
  /** EventBridge schedule expression. @default "rate(1 minute)" */
  readonly schedule: string;
  /** Lambda timeout; the queue's visibility timeout is derived from it. @default 300 */
  readonly timeoutSeconds: number;
  /**
   * Lambda memory; CPU comes with it (one vCPU at 1769 MB). 512 MB lets the drain release about
   * 3x as fast as a Jenkins answering in 50 ms takes webhooks at the default concurrency
   * (README "Sizing the drain"). @default 512
   */
  readonly memoryMb: number;
  /** Most webhooks in flight to Jenkins at once (Jenkins' SCM event pool has 10 threads). @default 8 */
  readonly concurrency: number;
  /**
   * Reserved concurrency for the drain function, on top of the run lease that already keeps to one
   * run at a time. Reserving needs an account concurrency quota of at least 100 + this (new accounts
   * often have 10, and apply then fails): `spigot doctor` checks it. @default undefined (no reservation)
   */
  readonly reservedConcurrency?: number;
  /** Optional cap on releases per second across all repositories. @default undefined (no cap) */
  readonly ratePerSecond?: number;
  /** Timeout of one POST to Jenkins. @default 10000 */
  readonly httpTimeoutMs: number;
  /** Attempts per webhook within one run for transient failures (5xx, timeouts, resets). @default 3 */
  readonly maxAttempts: number;
  /** Webhooks in a row that fail all their attempts (5xx, timeouts, connection errors) before the spigot closes. @default 5 */
  readonly autoCloseAfterFailures: number;
  /** Reopen after this many consecutive healthy probes, only if the drain closed it. @default undefined (never) */
  readonly autoReopenAfterHealthyProbes?: number;
  /** SSM SecureString holding `user:apiToken` for Jenkins; enables the quiet-down check. @default undefined */
  readonly credentialsParameterName?: string;
  /** SSM SecureString with the GitHub webhook secret; when set, the drain verifies signatures too. @default undefined */
  readonly webhookSecretParameterName?: string;
  /** @default "INFO" */
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly probe: ProbeConfig;
  readonly refusals: RefusalConfig;
  readonly hold: HoldConfig;
  /** Run the drain in your VPC (a Jenkins on a private network). @default undefined (Lambda's own network: public Jenkins only) */
  readonly vpc?: DrainVpcConfig;
}

export interface AlarmConfig {
  /** E-mail address subscribed to the alarm topic. @default undefined (topic only) */
  readonly email?: string;
  /** Alarm when the oldest held webhook is older than this while the spigot is open. @default 900 */
  readonly oldestMessageAgeSeconds: number;
  /** Alarm when the spigot has been closed longer than this. @default 4 */
  readonly maxClosedHours: number;
  /** API 4xx responses per 5 minutes that count as a spike. @default 50 */
  readonly api4xxPer5Minutes: number;
  /** API 5xx responses per 5 minutes that count as a spike. @default 1 */
  readonly api5xxPer5Minutes: number;
}

export interface DomainConfig {
  /** The host senders post to, e.g. "hooks.example.com". */
  readonly name: string;
  /** ACM certificate for `name`, in the stack's region (the API is regional). */
  readonly certificateArn: string;
  /** Route 53 hosted zone to create the alias record in. @default undefined (you create a CNAME to the `custom_domain_target` output) */
  readonly hostedZoneId?: string;
}

export type BackendConfig =
  | { readonly type: 'local'; readonly path?: string }
  | { readonly type: 's3'; readonly bucket: string; readonly key: string; readonly region: string; readonly dynamodbTable?: string };

export interface SpigotConfig {
  /** Names every resource; one stack per environment. @default "spigot" */
  readonly name: string;
  /** @default "us-east-1" */
  readonly region: string;
  /** Base URL of Jenkins, with its context path if any. */
  readonly jenkinsUrl: string;
  /**
   * Accept an `http://` jenkinsUrl. The drain replays signed webhook bodies and, with
   * drain.credentialsParameterName, sends a Jenkins API token: over plain HTTP anyone on the path
   * reads both. @default false (an http:// jenkinsUrl fails synth)
   */
  readonly allowPlainHttp: boolean;
  /** Webhook paths accepted (POST only). @default ["/github-webhook/", "/generic-webhook-trigger/invoke"] */
  readonly routes: readonly string[];
  /**
   * Who may call the API: CIDR blocks and the preset "github" (GitHub.com's webhook ranges), or
   * exactly ["anyone"] (README "Who may send webhooks"). @default undefined (nothing chosen:
   * synth works, plan and apply refuse)
   */
  readonly allowedSources?: readonly string[];
  /** The older spelling of `allowedSources` with CIDR blocks only; non-empty counts as a choice. @default [] */
  readonly allowedSourceCidrs: readonly string[];
  readonly throttle: ThrottleConfig;
  /** AWS WAF rate limit per source IP in front of the stage; billed, so off. @default undefined (no WAF) */
  readonly waf?: WafConfig;
  /**
   * Set the account-wide API Gateway CloudWatch Logs role that stage logging needs. It is one
   * setting per account and region, so exactly one stack (or nothing but the AWS CLI) should own
   * it; a stack that owns it refuses to be destroyed while it does (README "API Gateway account
   * role"). @default false (the account already has one: `spigot doctor` checks)
   */
  readonly manageApiGatewayAccountRole: boolean;
  /** Retention of access and drain logs. @default 365 */
  readonly logRetentionDays: number;
  /** Receives before SQS moves a message to the DLQ; see README "Why maxReceiveCount is high". @default 100 */
  readonly maxReceiveCount: number;
  readonly drain: DrainConfig;
  readonly alarms: AlarmConfig;
  readonly backend: BackendConfig;
  /**
   * Optional custom domain, so the webhook URL survives replacing the REST API.
   * @default undefined (senders use the stage's execute-api URL)
   */
  readonly domain?: DomainConfig;
  /** Extra tags on every resource. @default {} */
  readonly tags: Readonly<Record<string, string>>;
}

export const DEFAULT_CONFIG: SpigotConfig = {
  name: 'spigot',
  region: 'us-east-1',
  jenkinsUrl: 'https://jenkins.example.invalid',
  allowPlainHttp: false,
  routes: ['/github-webhook/', '/generic-webhook-trigger/invoke'],
  allowedSourceCidrs: [],
  throttle: { rateLimit: 50, burstLimit: 100 },
  manageApiGatewayAccountRole: false,
  logRetentionDays: 365,
  maxReceiveCount: 100,
  drain: {
    mode: 'lambda',
    schedule: 'rate(1 minute)',
    timeoutSeconds: 300,
    memoryMb: 512,
    concurrency: 8,
    httpTimeoutMs: 10000,
    maxAttempts: 3,
    autoCloseAfterFailures: 5,
    logLevel: 'INFO',
    probe: { path: '/whoAmI/api/json', method: 'GET', expectStatus: [200], timeoutMs: 5000 },
    refusals: { afterWebhooks: 5, fromRepositories: 2, statuses: ['3xx', '4xx'] },
    hold: { defaultSeconds: 30, minSeconds: 60, maxSeconds: 300 },
  },
  alarms: { oldestMessageAgeSeconds: 900, maxClosedHours: 4, api4xxPer5Minutes: 50, api5xxPer5Minutes: 1 },
  backend: { type: 'local' },
  tags: {},
};

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid Spigot configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** CloudWatch Logs accepts only these retention values. */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];
const ROUTE = /^(\/[A-Za-z0-9._-]+)+\/?$/;

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Deep-merges a user override onto the defaults; arrays and scalars replace. */
export function mergeConfig(base: Json, override: Json): Json {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const merged: Record<string, Json> = { ...base };
  for (const [key, value] of Object.entries(override)) merged[key] = mergeConfig(base[key], value);
  return merged;
}

class Checker {
  readonly problems: string[] = [];
  constructor(private readonly source: string) {}

  fail(field: string, message: string): void {
    this.problems.push(`${field}: ${message} (set it in ${this.source})`);
  }

  unknownKeys(value: Record<string, Json>, known: Record<string, unknown>, prefix: string): void {
    for (const key of Object.keys(value)) {
      if (!(key in known)) {
        this.fail(`${prefix}${key}`, `unknown setting; known settings here are ${Object.keys(known).join(', ')}`);
      }
    }
  }

  /** An object whose keys are those of `known`; says which keys it takes when it is not one. */
  section(value: Json, field: string, known: object): value is Record<string, Json> {
    if (!isObject(value)) {
      this.fail(field, `must be an object with ${Object.keys(known).join(', ')}`);
      return false;
    }
    this.unknownKeys(value, known as Record<string, unknown>, `${field}.`);
    return true;
  }

  int(value: Json, field: string, min: number, max: number): void {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(field, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
    }
  }

  text(value: Json, field: string, pattern: RegExp, hint: string): void {
    if (typeof value !== 'string' || !pattern.test(value)) this.fail(field, `${hint}, got ${JSON.stringify(value)}`);
  }

  oneOf(value: Json, field: string, options: readonly string[]): void {
    if (typeof value !== 'string' || !options.includes(value)) {
      this.fail(field, `must be one of ${options.map((o) => JSON.stringify(o)).join(', ')}, got ${JSON.stringify(value)}`);
    }
  }
}

function checkJenkinsUrl(c: Checker, value: Json): void {
  let url: URL | undefined;
  try {
    url = new URL(String(value));
  } catch {
    c.fail('jenkinsUrl', `must be an absolute http(s) URL such as "https://jenkins.example.com/jenkins", got ${JSON.stringify(value)}`);
    return;
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash || url.username || url.password) {
    c.fail('jenkinsUrl', 'must be a plain http(s) base URL with no query, fragment or credentials (credentials go in drain.credentialsParameterName)');
  }
}

function checkRoutes(c: Checker, routes: Json): void {
  if (!Array.isArray(routes) || routes.length === 0) {
    c.fail('routes', 'must list at least one webhook path, e.g. ["/github-webhook/"]');
    return;
  }
  const seen = new Set<string>();
  routes.forEach((route, i) => {
    c.text(route, `routes[${i}]`, ROUTE, 'must be a path like "/github-webhook/" made of letters, digits and . _ - (no {parameters})');
    const key = String(route).replace(/\/$/, '').toLowerCase();
    if (seen.has(key)) c.fail(`routes[${i}]`, `duplicates another route (API Gateway ignores a trailing slash and case is ambiguous): ${JSON.stringify(route)}`);
    seen.add(key);
  });
}

function checkSources(c: Checker, sources: Json, cidrs: Json): void {
  if (!Array.isArray(cidrs)) {
    c.fail('allowedSourceCidrs', 'must be a list of CIDR blocks such as ["192.30.252.0/22"] (or leave it out and use allowedSources)');
  } else {
    cidrs.forEach((cidr, i) => {
      if (!isCidr(cidr)) c.fail(`allowedSourceCidrs[${i}]`, `must be a CIDR block such as "192.30.252.0/22", got ${JSON.stringify(cidr)}`);
    });
  }
  if (sources === undefined) return;
  if (!Array.isArray(sources) || sources.length === 0) {
    c.fail('allowedSources', `must choose who may call the API: ${SOURCE_CHOICES}`);
    return;
  }
  sources.forEach((entry, i) => {
    const problem = sourceEntryProblem(entry, sources);
    if (problem) c.fail(`allowedSources[${i}]`, problem);
  });
  if (Array.isArray(cidrs) && cidrs.length > 0) {
    c.fail('allowedSourceCidrs', 'is the older spelling of allowedSources, and both are set: move its CIDR blocks into allowedSources and remove allowedSourceCidrs');
  }
}

/** Once the entries are valid: the expanded list must fit one resource policy. */
function checkSourcePolicySize(c: Checker, value: Record<string, Json>): void {
  const policy = resolveSourcePolicy({ allowedSources: value.allowedSources as string[] | undefined, allowedSourceCidrs: value.allowedSourceCidrs as string[] });
  const problem = policy.kind === 'restricted' ? cidrListProblem(policy.cidrs) : undefined;
  if (problem) c.fail(value.allowedSources !== undefined ? 'allowedSources' : 'allowedSourceCidrs', problem);
}

function checkWaf(c: Checker, w: Json): void {
  if (!c.section(w, 'waf', { ratePer5Minutes: 0 })) return;
  c.int(w.ratePer5Minutes, 'waf.ratePer5Minutes', 10, 2_000_000_000);
}

/** A drain too small for its concurrency makes the Lambda, not Jenkins, set the pace. */
function checkDrainMemory(c: Checker, memoryMb: Json, concurrency: Json): void {
  if (typeof memoryMb !== 'number' || typeof concurrency !== 'number' || memoryMb < LAMBDA_MIN_MB || concurrency < 1) return;
  const cell = sizingCell(memoryMb, concurrency, DRAIN_CPU_MS_PER_WEBHOOK, REFERENCE_JENKINS_MS);
  if (cell.limitedBy !== 'drain') return;
  const enough = minimumMemoryMb(DRAIN_CPU_MS_PER_WEBHOOK, concurrency, REFERENCE_JENKINS_MS, 1);
  const ahead = minimumMemoryMb(DRAIN_CPU_MS_PER_WEBHOOK, concurrency, REFERENCE_JENKINS_MS, 2);
  const fix = enough === undefined
    ? `no memory size gets one Node.js event loop there; lower drain.concurrency to ${Math.floor((1000 / DRAIN_CPU_MS_PER_WEBHOOK) * (REFERENCE_JENKINS_MS / 1000))} or less`
    : `use at least ${enough}${ahead === undefined ? '' : ` (${ahead} keeps the drain twice as fast as Jenkins)`}, or lower drain.concurrency`;
  c.fail('drain.memoryMb', `${memoryMb} MB gives the drain ${(Math.min(1, memoryMb / MB_PER_VCPU)).toFixed(2)} vCPU: at ${DRAIN_CPU_MS_PER_WEBHOOK} ms of CPU per webhook ` +
    `it releases at most ${Math.floor(cell.drainPerSecond)} webhooks/s, fewer than the ${Math.round(cell.jenkinsPerSecond)}/s a Jenkins answering in ${REFERENCE_JENKINS_MS} ms takes ` +
    `at drain.concurrency ${concurrency}, so a backlog would drain ${(1 / cell.headroom).toFixed(1)}x slower than Jenkins allows; ${fix}`);
}

function checkDrain(c: Checker, d: Record<string, Json>): void {
  const known = { ...DEFAULT_CONFIG.drain, ratePerSecond: 0, reservedConcurrency: 0, autoReopenAfterHealthyProbes: 0, credentialsParameterName: '', webhookSecretParameterName: '', vpc: 0, agent: 0 };
  c.unknownKeys(d, known, 'drain.');
  checkDrainMode(c, d);
  c.text(d.schedule, 'drain.schedule', /^(rate\((1 (minute|hour|day)|([2-9]|[1-9]\d+) (minutes|hours|days))\)|cron\(\S+( \S+){5}\))$/,
    'must be an EventBridge schedule such as "rate(1 minute)", "rate(5 minutes)" or "cron(0/2 * * * ? *)"');
  c.int(d.timeoutSeconds, 'drain.timeoutSeconds', 30, 900);
  c.int(d.memoryMb, 'drain.memoryMb', LAMBDA_MIN_MB, LAMBDA_MAX_MB);
  c.int(d.concurrency, 'drain.concurrency', 1, 64);
  checkDrainMemory(c, d.memoryMb, d.concurrency);
  c.int(d.httpTimeoutMs, 'drain.httpTimeoutMs', 100, 120000);
  c.int(d.maxAttempts, 'drain.maxAttempts', 1, 10);
  c.int(d.autoCloseAfterFailures, 'drain.autoCloseAfterFailures', 1, 1000);
  if (d.ratePerSecond !== undefined) c.int(d.ratePerSecond, 'drain.ratePerSecond', 1, 10000);
  if (d.reservedConcurrency !== undefined) c.int(d.reservedConcurrency, 'drain.reservedConcurrency', 1, 1000);
  if (d.autoReopenAfterHealthyProbes !== undefined) c.int(d.autoReopenAfterHealthyProbes, 'drain.autoReopenAfterHealthyProbes', 1, 1000);
  for (const name of ['credentialsParameterName', 'webhookSecretParameterName'] as const) {
    if (d[name] !== undefined) c.text(d[name], `drain.${name}`, /^\/?[A-Za-z0-9_.\-/]{1,2011}$/, 'must be an SSM parameter name such as "/jenkins/spigot-token"');
  }
  c.oneOf(d.logLevel, 'drain.logLevel', ['DEBUG', 'INFO', 'WARN', 'ERROR']);
  const probe = d.probe;
  if (!isObject(probe)) {
    c.fail('drain.probe', 'must be an object with path, method, expectStatus and timeoutMs');
  } else {
    c.unknownKeys(probe, DEFAULT_CONFIG.drain.probe as unknown as Record<string, unknown>, 'drain.probe.');
    c.text(probe.path, 'drain.probe.path', /^\/\S*$/, 'must be a path under jenkinsUrl such as "/whoAmI/api/json"');
    c.oneOf(probe.method, 'drain.probe.method', ['GET', 'HEAD']);
    c.int(probe.timeoutMs, 'drain.probe.timeoutMs', 100, 60000);
    if (!Array.isArray(probe.expectStatus) || probe.expectStatus.length === 0) {
      c.fail('drain.probe.expectStatus', 'must list the HTTP statuses that mean healthy, e.g. [200]');
    } else {
      probe.expectStatus.forEach((s, i) => c.int(s, `drain.probe.expectStatus[${i}]`, 100, 599));
    }
    if (typeof probe.timeoutMs === 'number' && typeof d.timeoutSeconds === 'number' && probe.timeoutMs >= d.timeoutSeconds * 1000) {
      c.fail('drain.probe.timeoutMs', 'must be shorter than drain.timeoutSeconds');
    }
  }
  checkRefusals(c, d.refusals);
  checkHold(c, d.hold);
  if (d.vpc !== undefined) checkDrainVpc(c, d.vpc);
  if (typeof d.httpTimeoutMs === 'number' && typeof d.maxAttempts === 'number' && typeof d.timeoutSeconds === 'number'
      && d.httpTimeoutMs * d.maxAttempts > (d.timeoutSeconds * 1000) / 2) {
    c.fail('drain.httpTimeoutMs', 'times drain.maxAttempts must fit in half of drain.timeoutSeconds, so a webhook being sent never outlives its visibility timeout; lower one or raise drain.timeoutSeconds');
  }
}

const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@\/-]{1,512}|user\/[\w+=,.@\/-]{1,512})$/;

/** drain.mode, and drain.agent with what it needs (and only with mode "agent"). */
function checkDrainMode(c: Checker, d: Record<string, Json>): void {
  if (d.mode !== 'lambda' && d.mode !== 'agent') {
    c.fail('drain.mode', `must be "lambda" (the drain Lambda, the default) or "agent" (the drain as a process next to Jenkins, for a Jenkins no Lambda reaches: README "Behind a firewall (agent)"), got ${JSON.stringify(d.mode)}`);
    return;
  }
  const example = '"drain": {"mode": "agent", "agent": {"assumeRolePrincipals": ["arn:aws:iam::123456789012:role/jenkins-host"]}}';
  if (d.mode === 'lambda') {
    if (d.agent !== undefined) c.fail('drain.agent', `only applies with drain.mode "agent": remove it, or set ${example}`);
    return;
  }
  if (d.vpc !== undefined) c.fail('drain.vpc', 'puts the drain Lambda in a VPC, and drain.mode "agent" has no Lambda: remove drain.vpc (the agent already runs where it reaches Jenkins), or use drain.mode "lambda"');
  if (d.reservedConcurrency !== undefined) c.fail('drain.reservedConcurrency', 'reserves Lambda concurrency, and drain.mode "agent" has no Lambda: remove it (the run lease keeps agents to one at a time)');
  const agent = d.agent;
  const identity = `needs an identity for the agent: "assumeRolePrincipals" (ARNs of the roles or users that run it), "instanceProfile": true (an agent on EC2) or "createUser": true (a host outside AWS), e.g. ${example}`;
  if (agent === undefined) {
    c.fail('drain.agent', `drain.mode "agent" ${identity}`);
    return;
  }
  if (!c.section(agent, 'drain.agent', { assumeRolePrincipals: 0, instanceProfile: 0, createUser: 0, metricsSink: 0 })) return;
  const principals = agent.assumeRolePrincipals;
  if (principals !== undefined) {
    if (!Array.isArray(principals)) c.fail('drain.agent.assumeRolePrincipals', `must be a list of IAM ARNs such as ["arn:aws:iam::123456789012:role/jenkins-host"], got ${JSON.stringify(principals)}`);
    else principals.forEach((arn, i) => c.text(arn, `drain.agent.assumeRolePrincipals[${i}]`, IAM_PRINCIPAL_ARN, 'must be an IAM role or user ARN such as "arn:aws:iam::123456789012:role/jenkins-host" (or an account\'s "arn:aws:iam::123456789012:root")'));
  }
  for (const flag of ['instanceProfile', 'createUser'] as const) {
    if (agent[flag] !== undefined && typeof agent[flag] !== 'boolean') c.fail(`drain.agent.${flag}`, `must be true or false, got ${JSON.stringify(agent[flag])}`);
  }
  if (agent.metricsSink !== undefined) c.oneOf(agent.metricsSink, 'drain.agent.metricsSink', METRICS_SINKS);
  const chosen = (Array.isArray(principals) && principals.length > 0) || agent.instanceProfile === true || agent.createUser === true;
  if (!chosen) c.fail('drain.agent', identity);
}

/** EC2 ids: a prefix and 8 (older resources) or 17 lower-case hex digits. */
const ec2Id = (prefix: string): RegExp => new RegExp(`^${prefix}-([0-9a-f]{8}|[0-9a-f]{17})$`);

/** A non-empty list of distinct EC2 ids, at most `max` (Lambda takes 16 subnets and 5 security groups). */
function checkIdList(c: Checker, value: Json, field: string, prefix: string, max: number, example: string): void {
  if (!Array.isArray(value) || value.length === 0 || value.length > max) {
    c.fail(field, `must list 1 to ${max} ${prefix} ids such as ${example}, got ${JSON.stringify(value)}`);
    return;
  }
  value.forEach((id, i) => c.text(id, `${field}[${i}]`, ec2Id(prefix), `must be an id such as "${prefix}-0123456789abcdef0" (the ${prefix === 'sg' ? 'security group' : 'subnet'}'s ID in the VPC console, not its name)`));
  const duplicate = value.find((id, i) => value.indexOf(id) !== i);
  if (duplicate !== undefined) c.fail(field, `lists ${JSON.stringify(duplicate)} twice`);
}

function checkDrainVpc(c: Checker, v: Json): void {
  const example = '{"subnetIds": ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"], "vpcId": "vpc-0123456789abcdef0"}';
  if (!c.section(v, 'drain.vpc', { subnetIds: 0, securityGroupIds: 0, vpcId: 0, endpoints: 0 })) return;
  checkIdList(c, v.subnetIds, 'drain.vpc.subnetIds', 'subnet', 16, '["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"] (two or more, in different AZs)');
  if (v.securityGroupIds !== undefined) checkIdList(c, v.securityGroupIds, 'drain.vpc.securityGroupIds', 'sg', 5, '["sg-0123456789abcdef0"]');
  if (v.vpcId !== undefined) c.text(v.vpcId, 'drain.vpc.vpcId', ec2Id('vpc'), 'must be the id of the subnets\' VPC, such as "vpc-0123456789abcdef0"');
  if (v.securityGroupIds === undefined && v.vpcId === undefined) {
    c.fail('drain.vpc', `needs securityGroupIds (your groups for the drain, with egress to Jenkins and to AWS on 443) or vpcId (the stack creates that group), e.g. ${example}`);
  }
  const endpoints = v.endpoints;
  if (endpoints === undefined || endpoints === false) return;
  if (endpoints !== true) {
    if (!Array.isArray(endpoints) || endpoints.length === 0) {
      c.fail('drain.vpc.endpoints', `must be true (${DRAIN_ENDPOINT_SERVICES.join(' and ')}, what the drain calls), false, or a list of ${ENDPOINT_SERVICES.join(', ')}; got ${JSON.stringify(endpoints)}`);
      return;
    }
    endpoints.forEach((service, i) => c.oneOf(service, `drain.vpc.endpoints[${i}]`, ENDPOINT_SERVICES));
  }
  if (v.vpcId === undefined) c.fail('drain.vpc.endpoints', 'needs drain.vpc.vpcId, the VPC the endpoints are created in (the same VPC as the subnets)');
}

function checkAlarms(c: Checker, a: Record<string, Json>): void {
  c.unknownKeys(a, { ...DEFAULT_CONFIG.alarms, email: '' }, 'alarms.');
  if (a.email !== undefined) c.text(a.email, 'alarms.email', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an e-mail address');
  c.int(a.oldestMessageAgeSeconds, 'alarms.oldestMessageAgeSeconds', 60, 1209600);
  // CloudWatch caps period x evaluation periods at 7 days.
  c.int(a.maxClosedHours, 'alarms.maxClosedHours', 1, 168);
  c.int(a.api4xxPer5Minutes, 'alarms.api4xxPer5Minutes', 1, 1000000);
  c.int(a.api5xxPer5Minutes, 'alarms.api5xxPer5Minutes', 1, 1000000);
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const ACM_ARN = /^arn:aws[a-z-]*:acm:([a-z]{2}(-[a-z]+)+-\d):\d{12}:certificate\/[0-9a-f-]{36}$/;

function checkDomain(c: Checker, d: Json, region: Json): void {
  if (!isObject(d)) {
    c.fail('domain', 'must be {"name": "hooks.example.com", "certificateArn": "arn:aws:acm:...", "hostedZoneId"?: "Z..."}');
    return;
  }
  c.unknownKeys(d, { name: 0, certificateArn: 0, hostedZoneId: 0 }, 'domain.');
  if (typeof d.name === 'string' && /^[a-z]+:\/\//i.test(d.name)) {
    c.fail('domain.name', `must be a host name only, without scheme or path: use ${JSON.stringify(d.name.replace(/^[a-z]+:\/\//i, '').split('/')[0])}`);
  } else {
    c.text(d.name, 'domain.name', HOSTNAME, 'must be a lower-case DNS name such as "hooks.example.com" (no wildcard, no trailing dot)');
  }
  const arn = typeof d.certificateArn === 'string' ? ACM_ARN.exec(d.certificateArn) : null;
  if (!arn) {
    c.fail('domain.certificateArn', `must be an ACM certificate ARN such as "arn:aws:acm:${String(region)}:123456789012:certificate/<uuid>", got ${JSON.stringify(d.certificateArn)}`);
  } else if (arn[1] !== region) {
    c.fail('domain.certificateArn', `is in ${arn[1]}, but the API is regional in ${JSON.stringify(region)}: request or import the certificate for ${JSON.stringify(d.name)} in ACM in ${String(region)}`);
  }
  if (d.hostedZoneId !== undefined) {
    c.text(d.hostedZoneId, 'domain.hostedZoneId', /^Z[A-Z0-9]{1,31}$/, 'must be a Route 53 hosted zone id such as "Z0123456789ABCDEFGHIJ" (leave it out to create the DNS record yourself)');
  }
}

function checkBackend(c: Checker, b: Json): void {
  if (!isObject(b)) {
    c.fail('backend', 'must be {"type": "local"} or {"type": "s3", "bucket", "key", "region"}');
    return;
  }
  if (b.type === 'local') {
    c.unknownKeys(b, { type: 0, path: 0 }, 'backend.');
    if (b.path !== undefined) c.text(b.path, 'backend.path', /\.tfstate$/, 'must be a file path ending in .tfstate');
  } else if (b.type === 's3') {
    c.unknownKeys(b, { type: 0, bucket: 0, key: 0, region: 0, dynamodbTable: 0 }, 'backend.');
    c.text(b.bucket, 'backend.bucket', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name');
    c.text(b.key, 'backend.key', /^\S+$/, 'must be the state object key, e.g. "spigot/prod.tfstate"');
    c.text(b.region, 'backend.region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as "us-east-1"');
    if (b.dynamodbTable !== undefined) c.text(b.dynamodbTable, 'backend.dynamodbTable', /^[A-Za-z0-9_.-]{3,255}$/, 'must be a DynamoDB table name');
  } else {
    c.fail('backend.type', `must be "local" or "s3", got ${JSON.stringify(b.type)}`);
  }
}

function checkRefusals(c: Checker, r: Json): void {
  if (!c.section(r, 'drain.refusals', DEFAULT_CONFIG.drain.refusals)) return;
  c.int(r.afterWebhooks, 'drain.refusals.afterWebhooks', 1, 1000);
  c.int(r.fromRepositories, 'drain.refusals.fromRepositories', 1, 1000);
  if (!Array.isArray(r.statuses)) {
    c.fail('drain.refusals.statuses', 'must list statuses such as ["3xx", "4xx"] or ["404", "403"]');
    return;
  }
  try {
    parseRefusalStatuses(r.statuses.map(String).join(','));
  } catch (error) {
    c.fail('drain.refusals.statuses', `${(error as Error).message}; use [] to dead-letter every refusal at once`);
  }
}

function checkHold(c: Checker, h: Json): void {
  if (!c.section(h, 'drain.hold', DEFAULT_CONFIG.drain.hold)) return;
  c.int(h.defaultSeconds, 'drain.hold.defaultSeconds', 1, 43200);
  c.int(h.minSeconds, 'drain.hold.minSeconds', 1, 43200);
  c.int(h.maxSeconds, 'drain.hold.maxSeconds', 1, 43200);
  if (typeof h.minSeconds === 'number' && typeof h.maxSeconds === 'number' && h.maxSeconds < h.minSeconds) {
    c.fail('drain.hold.maxSeconds', `must be at least drain.hold.minSeconds (${h.minSeconds})`);
  }
}

/** Validates a merged configuration; throws ConfigError listing every problem. */
export function validateConfig(value: Json, source = 'the configuration'): SpigotConfig {
  const c = new Checker(source);
  if (!isObject(value)) throw new ConfigError([`the configuration must be a JSON object (in ${source})`]);
  c.unknownKeys(value, { ...DEFAULT_CONFIG, allowedSources: 0, waf: 0, domain: 0 } as unknown as Record<string, unknown>, '');
  c.text(value.name, 'name', /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, 'must be 2-32 lower-case letters, digits or dashes, starting with a letter');
  c.text(value.region, 'region', /^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as "eu-west-1"');
  checkJenkinsUrl(c, value.jenkinsUrl);
  if (typeof value.allowPlainHttp !== 'boolean') c.fail('allowPlainHttp', `must be true or false, got ${JSON.stringify(value.allowPlainHttp)}`);
  checkRoutes(c, value.routes);
  const sourceProblems = c.problems.length;
  checkSources(c, value.allowedSources, value.allowedSourceCidrs);
  if (c.problems.length === sourceProblems) checkSourcePolicySize(c, value);
  if (value.waf !== undefined) checkWaf(c, value.waf);
  if (!isObject(value.throttle)) c.fail('throttle', 'must be {"rateLimit": n, "burstLimit": n}');
  else {
    c.unknownKeys(value.throttle, DEFAULT_CONFIG.throttle as unknown as Record<string, unknown>, 'throttle.');
    c.int(value.throttle.rateLimit, 'throttle.rateLimit', 1, 10000);
    c.int(value.throttle.burstLimit, 'throttle.burstLimit', 1, 5000);
  }
  if (!LOG_RETENTION_DAYS.includes(value.logRetentionDays as number)) {
    c.fail('logRetentionDays', `must be one of CloudWatch's retention values (${LOG_RETENTION_DAYS.join(', ')}), got ${JSON.stringify(value.logRetentionDays)}`);
  }
  c.int(value.maxReceiveCount, 'maxReceiveCount', 10, 1000);
  if (typeof value.manageApiGatewayAccountRole !== 'boolean') {
    c.fail('manageApiGatewayAccountRole', `must be true or false, got ${JSON.stringify(value.manageApiGatewayAccountRole)}`);
  }
  if (isObject(value.drain)) checkDrain(c, value.drain);
  else c.fail('drain', 'must be an object');
  if (isObject(value.alarms)) checkAlarms(c, value.alarms);
  else c.fail('alarms', 'must be an object');
  checkBackend(c, value.backend);
  if (value.domain !== undefined) checkDomain(c, value.domain, value.region);
  if (!isObject(value.tags) || Object.values(value.tags).some((t) => typeof t !== 'string')) {
    c.fail('tags', 'must be an object of string values');
  }
  if (c.problems.length > 0) throw new ConfigError(c.problems);
  return value as unknown as SpigotConfig;
}

/** The embedded default's Jenkins is under the reserved `.invalid` TLD: fine to synthesize, never to deploy. */
export const isPlaceholderJenkinsUrl = (url: string): boolean => /^https?:\/\/[^/:]+\.invalid([:/]|$)/i.test(url);

/** Where a user's override comes from: SPIGOT_CONFIG, else ./spigot.config.json if present. */
export function configPath(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (env.SPIGOT_CONFIG) return path.resolve(cwd, env.SPIGOT_CONFIG);
  const local = path.join(cwd, 'spigot.config.json');
  return existsSync(local) ? local : undefined;
}

export function loadConfig(file = configPath()): SpigotConfig {
  if (file === undefined) return validateConfig(DEFAULT_CONFIG, 'the embedded default configuration');
  let override: Json;
  try {
    override = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`${file} could not be read as JSON: ${(error as Error).message}`]);
  }
  return validateConfig(mergeConfig(DEFAULT_CONFIG, override), file);
}
