/**
 * `spigot doctor` end to end against the emulators: fauxqs (SQS and SNS), the loopback SSM, a loopback
 * Lambda/API Gateway control plane whose drain function is the real drain bundle (probe-only mode),
 * a loopback Jenkins, and the synthesized edge answering the webhook route.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { loadDrain } from '../support/drain-harness';
import { Edge } from '../support/edge';
import { createBufferQueues, startFauxqs, TEST_CREDENTIALS, TEST_REGION, type BufferQueues, type Fauxqs } from '../support/fauxqs';
import { startLoopbackJenkins, type LoopbackJenkins } from '../support/loopback-jenkins';
import { startLoopbackSsm, type LoopbackSsm } from '../support/loopback-ssm';
import { synthStack } from '../support/synth';
import { cliEnv, runCli, useEmulatorEnvironment } from './harness';
import { startLoopbackControlPlane, type LoopbackControlPlane } from './loopback-control-plane';

const STACK = 'doctor';
const FUNCTION = `${STACK}-drain`;
const ROLE_ARN = 'arn:aws:iam::000000000000:role/shared-apigw-cloudwatch';
const S3_BACKEND = { type: 's3', bucket: 'acme-tfstate', key: 'spigot/doctor.tfstate', region: TEST_REGION, dynamodbTable: 'tf-locks' };

interface Line {
  readonly status: string;
  readonly phase: string;
  readonly check: string;
  readonly detail: string;
}

describe('spigot doctor', () => {
  let fauxqs: Fauxqs;
  let ssm: LoopbackSsm;
  let jenkins: LoopbackJenkins;
  let plane: LoopbackControlPlane;
  let edgeServer: Server;
  let edgeUrl: string;
  let queues: BufferQueues;
  let sns: SNSClient;
  let project: string;
  let outputsFile: string;

  /** A project folder with a spigot.config.json, as an operator has one. */
  const writeConfig = (overrides: Record<string, unknown> = {}): void => {
    writeFileSync(path.join(project, 'spigot.config.json'), JSON.stringify({ name: STACK, region: TEST_REGION, jenkinsUrl: jenkins.url, allowedSources: ['anyone'], ...overrides }));
  };

  const writeOutputs = (topicArn: string): void => {
    const outputs = {
      queue_url: queues.queueUrl, dlq_url: queues.dlqUrl, spigot_parameter_name: `/${STACK}/spigot`, drain_status_parameter_name: `/${STACK}/drain-status`,
      drain_function_name: FUNCTION, alarm_topic_arn: topicArn, webhook_urls: { '/github-webhook/': `${edgeUrl}/live/github-webhook/` },
    };
    writeFileSync(outputsFile, JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, value]) => [k, { value, type: 'string', sensitive: false }]))));
  };

  const topic = async (name: string, subscriptions: ReadonlyArray<{ protocol: string; endpoint: string }>): Promise<string> => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: name }));
    for (const s of subscriptions) await sns.send(new SubscribeCommand({ TopicArn, Protocol: s.protocol, Endpoint: s.endpoint }));
    return TopicArn!;
  };

  const doctor = async (args: readonly string[] = []) => {
    const result = await runCli(['doctor', '--outputs-file', outputsFile, ...args], { env: cliEnv(), cwd: project });
    const json = await runCli(['doctor', '--json', '--outputs-file', outputsFile, ...args], { env: cliEnv(), cwd: project });
    const report = JSON.parse(json.stdout) as { ok: boolean; checks: Line[] };
    const byName = Object.fromEntries(report.checks.map((c) => [c.check, c]));
    return { ...result, report, byName };
  };

  beforeAll(async () => {
    [fauxqs, ssm, jenkins] = await Promise.all([startFauxqs(), startLoopbackSsm(), startLoopbackJenkins({})]);
    queues = await createBufferQueues(fauxqs.sqs, STACK);
    ssm.putDirect(`/${STACK}/spigot`, 'open');
    const drain = loadDrain({
      jenkinsUrl: jenkins.url, queueUrl: queues.queueUrl, dlqUrl: queues.dlqUrl, parameterName: `/${STACK}/spigot`,
      sqsEndpoint: fauxqs.endpoint, ssmEndpoint: ssm.endpoint,
    });
    plane = await startLoopbackControlPlane({
      concurrency: { limit: 1000, unreserved: 1000 },
      reservations: {},
      functions: { [FUNCTION]: async (event) => (await drain.invoke({ event })).result },
      cloudwatchRoleArn: ROLE_ARN,
    });
    const edge = new Edge(synthStack().parsed, { endpoint: fauxqs.endpoint, queueUrl: queues.queueUrl });
    edgeServer = createServer((req, res) => {
      req.resume();
      req.on('end', async () => {
        const answer = await edge.accept({ method: req.method, path: req.url!.replace(/^\/live/, ''), headers: [], body: Buffer.alloc(0) });
        res.writeHead(answer.status, { 'Content-Type': 'application/json' });
        res.end(answer.body);
      });
    });
    await new Promise<void>((resolve) => edgeServer.listen(0, '127.0.0.1', resolve));
    edgeUrl = `http://127.0.0.1:${(edgeServer.address() as AddressInfo).port}`;
    useEmulatorEnvironment({ sqs: fauxqs.endpoint, ssm: ssm.endpoint, lambda: plane.endpoint });
    process.env.AWS_ENDPOINT_URL_API_GATEWAY = plane.endpoint;
    process.env.AWS_ENDPOINT_URL_SNS = fauxqs.endpoint;
    sns = new SNSClient({ endpoint: fauxqs.endpoint, region: TEST_REGION, credentials: TEST_CREDENTIALS });
    project = mkdtempSync(path.join(tmpdir(), 'spigot-doctor-'));
    outputsFile = path.join(project, 'outputs.json');
  });
  afterAll(async () => {
    sns.destroy();
    edgeServer.closeAllConnections();
    await new Promise((resolve) => edgeServer.close(resolve));
    await Promise.all([fauxqs.stop(), ssm.stop(), jenkins.stop(), plane.stop()]);
  });
  beforeEach(async () => {
    writeConfig();
    plane.state.concurrency = { limit: 1000, unreserved: 1000 };
    plane.state.cloudwatchRoleArn = ROLE_ARN;
    await jenkins.setBehaviour('healthy');
    writeOutputs(await topic(`confirmed-${Date.now()}`, [{ protocol: 'sqs', endpoint: queues.dlqArn }]));
  });

  it('when everything is in place, every check passes, one line each, and it exits 0', async () => {
    writeConfig({ backend: S3_BACKEND });
    const { code, stdout, stderr, report, byName } = await doctor();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => `${c.phase} ${c.check} ${c.status}`)).toEqual([
      'before config ok', 'before region ok', 'before credentials ok', 'before lambda concurrency ok', 'before api gateway logging role ok',
      'before state backend ok', 'after outputs ok', 'after spigot parameter ok', 'after alarm topic ok', 'after drain reaches jenkins ok', 'after webhook route ok',
    ]);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(report.checks.length + 1);
    expect(lines[0]).toMatch(/^ok {4}before {2}config {2,}.*spigot\.config\.json: stack "doctor" in us-east-1, Jenkins http:\/\/127\.0\.0\.1:\d+/);
    expect(lines[lines.length - 1]).toBe('11 checks: 0 failed, 0 warnings');
    expect(byName['drain reaches jenkins'].detail).toMatch(/^Jenkins is healthy from where the drain runs: GET http:\/\/127\.0\.0\.1:\d+\/whoAmI\/api\/json \(\d+ ms\)$/);
    expect(byName['webhook route'].detail).toContain('GET answered 405 (POST only)');
    expect(byName['api gateway logging role'].detail).toContain(ROLE_ARN);
    // Probe-only: the drain probed Jenkins and released nothing.
    expect(jenkins.deliveries).toHaveLength(0);
    expect(plane.requests).toContain(`POST /2015-03-31/functions/${FUNCTION}/invocations`);
  });

  it('when the stack runs the drain as an agent, doctor needs no drain function: the Lambda checks say why they do not apply and nothing is invoked', async () => {
    writeConfig({ backend: S3_BACKEND, drain: { mode: 'agent', agent: { createUser: true } } });
    const withFunction = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, unknown>;
    delete withFunction.drain_function_name;
    writeFileSync(outputsFile, JSON.stringify({ ...withFunction, agent_environment: { value: { QUEUE_URL: queues.queueUrl } } }));
    const requestsBefore = plane.requests.length;
    const { code, report, byName } = await doctor();
    expect(code).toBe(0);
    expect(report.checks.map((c) => `${c.phase} ${c.check} ${c.status}`)).toEqual([
      'before config ok', 'before region ok', 'before credentials ok', 'before lambda concurrency ok', 'before api gateway logging role ok',
      'before state backend ok', 'after outputs ok', 'after spigot parameter ok', 'after alarm topic ok', 'after drain reaches jenkins warn', 'after webhook route ok',
    ]);
    expect(byName['lambda concurrency'].detail).toBe('drain.mode "agent": no drain Lambda, so no concurrency to reserve');
    expect(byName.outputs.detail).toMatch(/^all 6 resources found \(drain agent, webhook /);
    expect(byName['drain reaches jenkins'].detail).toMatch(/^not checked: drain\.mode "agent" has no Lambda to probe from: the agent probes Jenkins before every run/);
    expect(plane.requests.slice(requestsBefore).filter((r) => r.includes('/invocations') || r.includes('/concurrency'))).toEqual([]);
  });

  it('when Jenkins is down, the drain\'s own probe says so and doctor exits 1', async () => {
    await jenkins.setBehaviour('down');
    const { code, stderr, byName } = await doctor(['--after']);
    expect(code).toBe(1);
    expect(byName['drain reaches jenkins']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/^the drain cannot use Jenkins: probe \/whoAmI\/api\/json failed: /) });
    expect(stderr).toMatch(/spigot: doctor: 1 of 6 checks failed/);
    expect(ssm.parameter(`/${STACK}/spigot`)?.value).toBe('open');
  });

  it('when the only alarm subscription awaits confirmation, the alarm topic check fails and says how to fix it', async () => {
    writeOutputs(await topic(`pending-${Date.now()}`, [{ protocol: 'email', endpoint: 'ops@example.com' }]));
    const { code, byName } = await doctor(['--after']);
    expect(code).toBe(1);
    expect(byName['alarm topic']).toEqual({ phase: 'after', check: 'alarm topic', status: 'fail', detail: expect.stringContaining('1 subscription(s) pending confirmation and none confirmed') });
  });

  it('when the config chooses no source policy, the config check fails as plan would, naming the three choices', async () => {
    writeConfig({ allowedSources: undefined });
    const { code, byName } = await doctor(['--before']);
    expect(code).toBe(1);
    expect(byName.config).toMatchObject({ status: 'fail', detail: expect.stringContaining('allowedSources is not set, which plan and apply refuse: choose ["github"], a list of CIDR blocks, or ["anyone"]') });
  });

  it('when the account has no API Gateway logging role and a reservation would break the quota, both before-checks fail with the fix', async () => {
    plane.state.cloudwatchRoleArn = undefined;
    plane.state.concurrency = { limit: 10, unreserved: 10 };
    writeConfig({ drain: { reservedConcurrency: 1 } });
    const { code, byName } = await doctor(['--before']);
    expect(code).toBe(1);
    expect(byName['api gateway logging role']).toMatchObject({ status: 'fail', detail: expect.stringContaining('"manageApiGatewayAccountRole": true in exactly one stack') });
    expect(byName['lambda concurrency']).toMatchObject({ status: 'fail', detail: expect.stringContaining('would leave 9 unreserved, below Lambda\'s minimum of 100') });
    expect(byName.outputs).toBeUndefined();
  });

  it('when the config is the embedded placeholder and no region is set, doctor says both before any deploy', async () => {
    const saved = process.env.AWS_REGION;
    delete process.env.AWS_REGION;
    try {
      const empty = mkdtempSync(path.join(tmpdir(), 'spigot-doctor-empty-'));
      const result = await runCli(['doctor', '--before', '--json'], { env: cliEnv(), cwd: empty });
      const checks = JSON.parse(result.stdout).checks as Line[];
      expect(result.code).toBe(1);
      expect(checks.find((c) => c.check === 'config')).toMatchObject({ status: 'fail', detail: expect.stringContaining('jenkinsUrl is the placeholder https://jenkins.example.invalid') });
      expect(checks.find((c) => c.check === 'region')).toMatchObject({ status: 'fail', detail: expect.stringContaining('set AWS_REGION') });
    } finally {
      process.env.AWS_REGION = saved;
    }
  });

  it('when the outputs cannot be found, the outputs check fails with how to give them and the checks needing them are skipped', async () => {
    const result = await runCli(['doctor', '--after', '--json', '--state-dir', path.join(project, 'nowhere')], { env: cliEnv(), cwd: project });
    const checks = JSON.parse(result.stdout).checks as Line[];
    expect(result.code).toBe(1);
    expect(checks.find((c) => c.check === 'outputs')).toMatchObject({ status: 'fail', detail: expect.stringContaining('cannot find the') });
    expect(checks.filter((c) => c.detail === 'not checked: outputs missing').map((c) => c.check)).toEqual(['spigot parameter', 'alarm topic', 'drain reaches jenkins', 'webhook route']);
  });
});
