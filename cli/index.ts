/**
 * `spigot`: the operator CLI. This file only wires commander to the commands in cli/commands
 * (which return data) and the printers in cli/format.ts.
 *
 * Exit codes: 0 ok, 1 the operation failed, 2 the command line (or missing configuration) was wrong.
 *
 * Commands are imported when they run (`await import(...)`): they load the AWS SDK, and `--help` or
 * `--version` should not pay for that.
 */
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { version } from '../package.json';
import { LazyClients, type Clients } from './clients';
import { durationOption, sinceOption } from './duration';
import { CliError, describeError, EXIT_NOT_OK, EXIT_OPERATIONAL, EXIT_USAGE, NotOkError, UsageError } from './errors';
import { describeFilter, duration, formatCheck, formatDeadLetter, formatDlqList, formatDoctor, formatDrain, formatRedrive, formatJenkinsAnswer, formatRepositoryTrace, formatTrace, formatSetState, formatSmoke, formatStatus } from './format';
import type { RedriveFilter } from './commands/dlq-redrive';
import { resolveResources, type DiscoveryContext, type DiscoveryFlags, type ResourceKey, type TerraformRunner } from './resources';
import { NO_STACK_MESSAGE, resolveStack, type StackRef } from './stack';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Whether `dlq redrive` may ask for confirmation. */
  readonly interactive: boolean;
  /** Whether stderr is a terminal (progress is then one line rewritten in place), and its width. */
  readonly progressTerminal: boolean;
  readonly columns?: number;
  readonly confirm: (question: string) => Promise<boolean>;
  /** Injected AWS clients; by default built from the default credential/region/endpoint chain. */
  readonly clients?: Clients;
  readonly runTerraform?: TerraformRunner;
}

async function askOnTerminal(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

const nonNegativeInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number, 0 or more');
  return n;
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
};

/** The filters `dlq drop` and `dlq redrive` share, as commander hands them over. */
interface DeadLetterFilterOptions {
  readonly repo?: string;
  readonly status?: string;
  readonly event?: string;
  readonly since?: number;
  readonly reason?: string;
}

/** Adds those filters to a command; `which` says what each one picks ("every dead letter", "only the dead letters"). */
const withDeadLetterFilters = (command: Command, which: string): Command =>
  command
    .option('--repo <owner/name>', `${which} of this repository (with other filters: of those)`)
    .option('--status <status>', `${which} with this Jenkins answer: 404, a class such as 4xx, or none (SQS moved it: maxReceiveCount)`)
    .option('--event <event>', `${which} of this event, e.g. push`)
    .option('--since <when>', `${which} received since then: 30m, 2h, 1d back, or an ISO time`, (v: string) => sinceOption(v))
    .option('--reason <text>', `${which} whose reason contains this text, any case (e.g. "signature mismatch")`);

const filterOf = (o: DeadLetterFilterOptions): RedriveFilter => ({ repo: o.repo, status: o.status, event: o.event, since: o.since, reason: o.reason });

const RESOURCE_HELP = `
The stack is the one spigot.config.json names (the file synth reads: $SPIGOT_CONFIG, else
./spigot.config.json), with its region; --stack NAME (or SPIGOT_STACK) picks another, --region
overrides the region. Every resource follows from the stack's name; a flag or SPIGOT_QUEUE_URL,
SPIGOT_DLQ_URL, SPIGOT_PARAMETER_NAME, SPIGOT_DRAIN_FUNCTION, SPIGOT_WEBHOOK_URL,
SPIGOT_DRAIN_STATUS_PARAMETER, SPIGOT_ALARM_TOPIC_ARN overrides one, and --outputs-file FILE (saved \`terraform output
-json\`) or --state-dir DIR overrides them all. The webhook URL (smoke) and the alarm topic (doctor)
come from the flag, the variable, or the Terraform outputs in cdktf.out/stacks/<stack>.
AWS credentials and endpoints come from the default chain (AWS_PROFILE, AWS_ENDPOINT_URL_SQS /
_SSM / _LAMBDA / _CLOUDWATCH / _CLOUDWATCH_LOGS / _SNS / _API_GATEWAY for emulators).

Exit codes: 0 ok, 1 operation failed, 2 usage or missing configuration, 3 not ok (status --check
found a problem, drain auto-closed, wait timed out).`;

/** `onStack` hears which stack (and region) a command resolved, before any AWS client is built. */
export function buildProgram(io: CliIo, clients: Clients, onStack: (stack: StackRef | undefined, region: string | undefined) => void = () => {}): Command {
  const out = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const progress = (text: string): void => io.stderr(`${text}\n`);
  const json = (data: unknown): void => out(JSON.stringify(data, null, 2));
  /** Destructive commands ask on a terminal unless --yes; elsewhere they need --yes. */
  const confirmOrRefuse = async (yes: boolean | undefined, what: string, question: string, cancelled: string): Promise<void> => {
    if (yes) return;
    if (!io.interactive) throw new UsageError(`${what}; pass --yes to confirm (no terminal to ask on)`);
    if (!(await io.confirm(question))) throw new CliError(cancelled);
  };

  const program = new Command('spigot')
    .description('Operate Spigot: the SQS FIFO webhook buffer in front of Jenkins, gated by an SSM "spigot" parameter.')
    .version(version, '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .option('--queue-url <url>', 'buffer queue URL (SPIGOT_QUEUE_URL)')
    .option('--dlq-url <url>', 'dead-letter queue URL (SPIGOT_DLQ_URL)')
    .option('--parameter <name>', 'spigot SSM parameter name (SPIGOT_PARAMETER_NAME)')
    .option('--function <name>', 'drain Lambda function name (SPIGOT_DRAIN_FUNCTION)')
    .option('--webhook-url <url>', 'public webhook URL (SPIGOT_WEBHOOK_URL)')
    .option('--drain-status-parameter <name>', 'SSM parameter the drain records its last run in (SPIGOT_DRAIN_STATUS_PARAMETER)')
    .option('--alarm-topic-arn <arn>', 'SNS topic the alarms notify (SPIGOT_ALARM_TOPIC_ARN; doctor only)')
    .option('--lease-queue-url <url>', 'run lease queue URL (SPIGOT_LEASE_QUEUE_URL; agent only, without an agent_environment output)')
    .option('--route <route>', 'which route of the webhook_urls output to use, e.g. /github-webhook/')
    .option('--stack <name>', 'operate this stack instead of the one spigot.config.json names (SPIGOT_STACK)')
    .option('--region <region>', "AWS region (default: the config's region for its stack, else the AWS default chain)")
    .option('--state-dir <dir>', 'directory to run `terraform output -json` in, instead of deriving names from the stack')
    .option('--outputs-file <file>', 'saved `terraform output -json` to read instead of running terraform')
    .addHelpText('after', RESOURCE_HELP);

  /** How every command finds its stack's resources (cli/resources.ts). */
  const discovery = (command: Command): DiscoveryContext => {
    const flags = command.optsWithGlobals<DiscoveryFlags & { region?: string }>();
    const stack = resolveStack(flags, io.env, io.cwd);
    onStack(stack, stack?.region ?? flags.region);
    return {
      flags,
      env: io.env,
      cwd: io.cwd,
      runTerraform: io.runTerraform,
      progress,
      stack,
      queueUrlOf: async (name) => (await import('./queue-url')).queueUrlByName(clients.sqs, name, stack!),
    };
  };
  const resources = async <K extends ResourceKey, O extends ResourceKey = never>(
    command: Command,
    keys: readonly K[],
    optional: readonly O[] = [],
  ): Promise<Record<K, string> & Partial<Record<O, string>>> => resolveResources(keys, discovery(command), optional);

  program
    .command('status')
    .description(
      'show the spigot (and who changed it, when, why), buffer depth, the oldest buffered webhook\'s age (CloudWatch), ' +
        'dead letters and the last drain run (from the drain status parameter)',
    )
    .option('--json', 'print JSON')
    .option('--check', `exit ${EXIT_NOT_OK} when the spigot is closed, the DLQ is not empty or the drain has not run recently, saying which`)
    .option('--max-drain-age <duration>', 'with --check: how long ago the last drain run may have ended (e.g. 90s, 10m)', durationOption)
    .option('--allow-dead-letters <n>', 'with --check: dead letters that may be there (known from before a maintenance window)', nonNegativeInt, 0)
    .action(async (options: { json?: boolean; check?: boolean; maxDrainAge?: number; allowDeadLetters: number }, command: Command) => {
      const r = await resources(command, ['parameterName', 'queueUrl', 'dlqUrl'], ['drainStatusParameterName']);
      const [{ status }, { checkStatus }] = await Promise.all([import('./commands/status'), import('./commands/status-check')]);
      const report = await status(clients, {
        parameterName: r.parameterName,
        queueUrl: r.queueUrl,
        dlqUrl: r.dlqUrl,
        drainStatusParameterName: r.drainStatusParameterName,
      });
      const check = options.check ? checkStatus(report, new Date(), options.maxDrainAge, options.allowDeadLetters) : undefined;
      if (options.json) json(check ? { ...report, check } : report);
      else out(check ? `${formatStatus(report)}\n${formatCheck(check)}` : formatStatus(report));
      if (check && !check.ok) throw new NotOkError(`status check failed: ${check.problems.map((p) => p.message).join('; ')}`);
    });

  program
    .command('open')
    .description(
      'open the spigot: the drain releases held webhooks to Jenkins (changing the parameter starts a drain). ' +
        "Refuses, showing who closed it, when and why, when the close is someone else's: not yours, not the drain's own auto-close",
    )
    .option('--reason <text>', 'optional note recorded in the parameter Description')
    .option('--force', "open even over someone else's close (a person's, or an auto-close someone wrote over)")
    .option('--json', 'print JSON')
    .action(async (options: { reason?: string; force?: boolean; json?: boolean }, command: Command) => {
      const r = await resources(command, ['parameterName']);
      const { operatorName, setState } = await import('./commands/set-state');
      const result = await setState(clients, {
        parameterName: r.parameterName,
        state: 'open',
        reason: options.reason,
        operator: operatorName(io.env),
        force: options.force,
      });
      if (options.json) json(result);
      else out(formatSetState(result));
    });

  program
    .command('close')
    .description('close the spigot: webhooks keep being accepted and are held in the buffer')
    .requiredOption('--reason <text>', 'why (recorded in the parameter Description as "closed by $USER via spigot CLI: <reason>")')
    .option('--json', 'print JSON')
    .action(async (options: { reason: string; json?: boolean }, command: Command) => {
      const r = await resources(command, ['parameterName']);
      const { operatorName, setState } = await import('./commands/set-state');
      const result = await setState(clients, { parameterName: r.parameterName, state: 'closed', reason: options.reason, operator: operatorName(io.env) });
      if (options.json) json(result);
      else out(formatSetState(result));
    });

  program
    .command('drain')
    .description(`run the drain Lambda once now, synchronously, and show its result; exits ${EXIT_NOT_OK} when the run auto-closed the spigot`)
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const r = await resources(command, ['functionName']);
      progress(`invoking ${r.functionName} and waiting for the run to finish (up to its timeout) ...`);
      const { drain } = await import('./commands/drain');
      const run = await drain(clients, { functionName: r.functionName });
      if (options.json) json(run);
      else out(formatDrain(run));
      const result = (run.result ?? {}) as { action?: unknown; reason?: unknown };
      if (result.action === 'auto-closed') {
        throw new NotOkError(`the drain auto-closed the spigot: ${typeof result.reason === 'string' ? result.reason : 'no reason given'} (webhooks stay queued; see \`spigot status\`)`);
      }
    });

  const dlq = program.command('dlq').description('list, show, drop and redrive dead letters');

  dlq
    .command('list')
    .description(
      'list every dead letter, without bodies: received time, route, repository, event, status, reason, delivery id. ' +
        'SQS has no peek: listing receives each dead letter and makes it visible again. When FIFO hides a repository\'s ' +
        'later dead letters (SQS shows up to 10 per repository at a time), it goes through the DLQ, moving each dead letter ' +
        'to its back in order, so every repository ends in its original order.',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const r = await resources(command, ['dlqUrl']);
      const { dlqListAll } = await import('./commands/dlq-find');
      const listing = await dlqListAll(clients, { dlqUrl: r.dlqUrl, progress });
      if (options.json) json(listing);
      else out(formatDlqList(listing));
    });

  dlq
    .command('show')
    .description('show one dead letter: where it came from, why it is there, its headers (signatures and tokens redacted); the body only with --body')
    .argument('<id>', 'its delivery id (X-GitHub-Delivery, as GitHub shows it), request id or message id')
    .option('--body', 'also print the body (it may hold anything the sender put in it)')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { body?: boolean; json?: boolean }, command: Command) => {
      const r = await resources(command, ['dlqUrl']);
      const { deadLetterDetails, findDeadLetters, onlyMatch } = await import('./commands/dlq-find');
      const found = await findDeadLetters(clients, { dlqUrl: r.dlqUrl, id, progress });
      const details = (found.length > 1 ? found : [onlyMatch(found, id)]).map((f) => deadLetterDetails(f, Boolean(options.body)));
      if (options.json) json(details.length === 1 ? details[0] : details);
      else out(details.map(formatDeadLetter).join('\n\n'));
    });

  const drop = dlq
    .command('drop')
    .description(
      'delete dead letters for good (webhooks that must never reach Jenkins): one by its id, or every one the filters match ' +
        '(--reason "signature mismatch" clears a flood of forged deliveries); the rest of each repository keeps its order',
    )
    .argument('[id]', 'its delivery id, or its request id when a delivery id matches several');
  withDeadLetterFilters(drop, 'every dead letter')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, options: DeadLetterFilterOptions & { yes?: boolean; json?: boolean }, command: Command) => {
      const filter = filterOf(options);
      const filters = describeFilter(filter);
      if (id !== undefined && filters) throw new UsageError(`name one dead letter by its id, or filter (${filters}), not both`);
      const r = await resources(command, ['dlqUrl']);
      if (id === undefined) {
        const { assertNarrowed, dlqDropMatching } = await import('./commands/dlq-drop-matching');
        assertNarrowed(filter);
        await confirmOrRefuse(options.yes, `dlq drop would delete every dead letter matching ${filters} for good`, `delete every dead letter matching ${filters} for good? [y/N] `, 'drop cancelled; nothing was deleted');
        const result = await dlqDropMatching(clients, { dlqUrl: r.dlqUrl, filter, progress });
        if (options.json) json(result);
        else out(`dropped ${result.dropped} dead letter(s) matching ${filters}${result.kept > 0 ? `; ${result.kept} other dead letter(s) of those repositories kept, in order` : ''}; about ${result.remaining} left in the DLQ`);
        return;
      }
      const { dlqDrop, findDeadLetters, onlyMatch } = await import('./commands/dlq-find');
      const { deadLetter } = onlyMatch(await findDeadLetters(clients, { dlqUrl: r.dlqUrl, id, progress }), id);
      const summary = `${deadLetter.event ?? '?'} from ${deadLetter.repository ?? deadLetter.group ?? '?'} received ${deadLetter.receivedAt ?? '?'} (delivery ${deadLetter.deliveryId ?? '?'}, ${deadLetter.reason})`;
      await confirmOrRefuse(options.yes, `dlq drop would delete ${summary} for good`, `delete ${summary} for good? [y/N] `, 'drop cancelled; nothing was deleted');
      const result = await dlqDrop(clients, { dlqUrl: r.dlqUrl, target: deadLetter, progress });
      if (options.json) json(result);
      else out(`dropped ${summary}${result.keptInOrder > 0 ? `; ${result.keptInOrder} other dead letter(s) of its repository kept, in order` : ''}`);
    });

  const redrive = dlq
    .command('redrive')
    .description(
      'move dead letters back to the buffer, each repository in its original order (send, then delete: ' +
        'a failure can duplicate a webhook, never lose one; a second DLQ copy of a webhook moved in the same run is deleted, not redriven). ' +
        'Filters pick which; the others stay in the DLQ in order. They are released at the next drain if the spigot is open.',
    );
  withDeadLetterFilters(redrive, 'only the dead letters')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--json', 'print JSON')
    .action(async (options: DeadLetterFilterOptions & { yes?: boolean; json?: boolean }, command: Command) => {
      const r = await resources(command, ['dlqUrl', 'queueUrl']);
      const [{ dlqRedrive }, { queueDepth }] = await Promise.all([import('./commands/dlq-redrive'), import('./commands/status')]);
      const filter = filterOf(options);
      const filters = describeFilter(filter);
      if (!options.yes) {
        const depth = await queueDepth(clients.sqs, r.dlqUrl, 'dead-letter queue');
        const what = `${filters ? `the dead letters matching ${filters}, of ` : ''}about ${depth.visible + depth.inFlight} dead letter(s)`;
        await confirmOrRefuse(false, `dlq redrive would move ${what} into ${r.queueUrl}`, `move ${what} from ${r.dlqUrl} back to ${r.queueUrl}? [y/N] `, 'redrive cancelled; nothing was moved');
      }
      const result = await dlqRedrive(clients, { dlqUrl: r.dlqUrl, queueUrl: r.queueUrl, filter, progress });
      if (options.json) json(result);
      else out(formatRedrive(result));
      if (result.stoppedBecause) throw new CliError(`redrive stopped early: ${result.stoppedBecause}`);
    });

  program
    .command('wait')
    .description(
      'wait until the buffer is drained: nothing waiting and nothing in flight, in two readings in a row. Shows progress ' +
        '(left, released so far, rate, estimate) on stderr: one line in place on a terminal, plain lines otherwise. ' +
        `Exits ${EXIT_NOT_OK} on --timeout, or at once when the spigot is closed with webhooks held`,
    )
    .option('--drained', 'wait for the buffer to be empty (the only condition so far; required)')
    .option('--timeout <duration>', 'give up after this long (e.g. 10m, 2h)', durationOption, 1800)
    .option('--interval <duration>', 'time between readings', durationOption, 5)
    .option('--json', 'print the result as JSON')
    .action(async (options: { drained?: boolean; timeout: number; interval: number; json?: boolean }, command: Command) => {
      if (!options.drained) throw new UsageError('say what to wait for: spigot wait --drained');
      const r = await resources(command, ['queueUrl', 'parameterName']);
      const [{ waitDrained, progressLine }, { progressReporter }] = await Promise.all([import('./commands/wait'), import('./progress')]);
      const reporter = progressReporter(io.stderr, io.progressTerminal, io.columns);
      try {
        const result = await waitDrained(clients, {
          queueUrl: r.queueUrl,
          parameterName: r.parameterName,
          timeoutSeconds: options.timeout,
          intervalSeconds: options.interval,
          onProgress: (p) => reporter.update(progressLine(p), `${p.left}/${p.inFlight}`),
        });
        reporter.done();
        if (options.json) json(result);
        else out(`drained: the buffer is empty (released ~${result.released} in ${duration(result.elapsedSeconds)})`);
      } finally {
        reporter.done();
      }
    });

  program
    .command('trace')
    .description(
      'where is my webhook? From the API access log and the drain\'s log lines (CloudWatch Logs), the DLQ and the buffer: ' +
        'when API Gateway accepted it (or refused it, and why), whether it is still held, when the drain released it and what ' +
        'Jenkins answered, or why it is a dead letter. With --repo, that repository\'s recent webhooks',
    )
    .argument('[id]', 'a delivery id (X-GitHub-Delivery, as GitHub shows it) or API Gateway request id (the requestId Spigot answered)')
    .option('--repo <owner/name>', "list a repository's recent webhooks instead")
    .option('--since <when>', 'how far back to search: 30m, 2h, 1d, or an ISO time (default 24h)', (v: string) => sinceOption(v))
    .option('--drain-log-group <name>', 'the drain\'s log group (SPIGOT_DRAIN_LOG_GROUP; default /aws/lambda/<stack>-drain)')
    .option('--access-log-group <name>', 'the API access log group (SPIGOT_ACCESS_LOG_GROUP; default /aws/apigateway/<stack>/access)')
    .option('--json', 'print JSON')
    .action(async (id: string | undefined, options: { repo?: string; since?: number; json?: boolean }, command: Command) => {
      if ((id === undefined) === (options.repo === undefined)) throw new UsageError('trace takes a delivery or request id, or --repo owner/name (one of the two)');
      const r = await resources(command, ['drainLogGroup', 'accessLogGroup', 'dlqUrl', 'queueUrl', 'parameterName']);
      const { trace, traceRepository } = await import('./commands/trace');
      const since = options.since ?? Date.now() - 24 * 3600_000;
      const sources = { drainLogGroup: r.drainLogGroup, accessLogGroup: r.accessLogGroup, dlqUrl: r.dlqUrl, queueUrl: r.queueUrl, parameterName: r.parameterName };
      if (options.repo !== undefined) {
        const result = await traceRepository(clients, sources, options.repo, since);
        if (options.json) json(result);
        else out(formatRepositoryTrace(result));
        return;
      }
      const result = await trace(clients, sources, id!, since);
      if (options.json) json(result);
      else out(formatTrace(result));
      if (result.verdict.state === 'unknown') {
        throw new CliError(`no trace of ${id} since ${result.since}: older (--since), not logged yet (CloudWatch Logs lags by seconds), or not a delivery or request id`);
      }
    });

  program
    .command('env')
    .description('print the stack\'s resources as `export` lines for a shell: eval "$(npx spigot env)" pins a session to this stack and sets what the runbook\'s aws commands use')
    .action(async (_options: object, command: Command) => {
      // No functionName in agent mode (cli/resources.ts): the line is then left out.
      const r = await resources(command, ['parameterName', 'queueUrl', 'dlqUrl'], ['functionName', 'drainStatusParameterName', 'drainLogGroup', 'accessLogGroup']);
      const flags = command.optsWithGlobals<DiscoveryFlags & { region?: string }>();
      const stack = resolveStack(flags, io.env, io.cwd);
      const { envLines } = await import('./commands/env');
      out(envLines(stack, stack?.region ?? flags.region ?? io.env.AWS_REGION, r).join('\n'));
    });

  program
    .command('agent')
    .description(
      'run the drain as an agent next to Jenkins (outbound only: SQS and SSM over HTTPS, and Jenkins): the Lambda\'s drain, one run after ' +
        'another under the same run lease, until SIGTERM or SIGINT, which hand back what was not sent and exit 0. Its environment is the ' +
        'stack\'s agent_environment output (drain.mode "agent"; --outputs-file or --state-dir, else terraform output in cdktf.out/stacks/<stack>), ' +
        'else built from spigot.config.json and the stack\'s resources; AWS credentials come from the default chain (the agent role, ' +
        'instance profile or user). --print-env prints that environment instead, for a systemd EnvironmentFile or docker run --env-file',
    )
    .option('--print-env', 'print the environment as KEY=VALUE lines and exit (no secrets: secret parameter names only)')
    .action(async (options: { printEnv?: boolean }, command: Command) => {
      const ctx = discovery(command);
      if (ctx.stack === undefined && ctx.flags.outputsFile === undefined && ctx.flags.stateDir === undefined) throw new UsageError(NO_STACK_MESSAGE);
      const [{ stackOutputs }, agent, { configPath }] = await Promise.all([import('./resources'), import('./commands/agent'), import('../stacks/config')]);
      const loaded = await stackOutputs(ctx);
      let env = agent.environmentFromOutputs(loaded.outputs, ctx.flags.outputsFile ?? 'the Terraform outputs');
      if (env === undefined) {
        const config = agent.configForAgent(ctx.stack?.name, configPath(io.env, io.cwd), loaded.why);
        env = agent.environmentFromConfig(config.name, config, await resources(command, ['queueUrl', 'dlqUrl', 'parameterName', 'drainStatusParameterName', 'leaseQueueUrl']));
      }
      if (options.printEnv) {
        out(agent.envFileLines(env).join('\n'));
        return;
      }
      progress(`spigot agent: releasing to ${env.JENKINS_URL} from ${env.QUEUE_URL}; SIGTERM or Ctrl-C stops it`);
      // The stack's values win; the SDK reads region and endpoints from process.env.
      Object.assign(process.env, io.env, env);
      const [{ createDrainRuntime }, { runAgentProcess }] = await Promise.all([import('../functions/drain/runtime'), import('../functions/drain/agent-process')]);
      const code = await runAgentProcess(createDrainRuntime(process.env), process.env);
      if (code !== 0) throw new CliError('the agent stopped after an error (see its last log lines)');
    });

  program
    .command('smoke')
    .description(
      'post a signed test delivery (X-GitHub-Event: ping, header X-Spigot-Smoke) to the webhook URL and check it was queued (202, queued:true). ' +
        'The drain deletes smoke deliveries without forwarding them, so Jenkins never sees it. With --end-to-end, a plain signed ping ' +
        `instead, which the drain releases to Jenkins (the GitHub plugin accepts pings harmlessly): waits for the drain's log line and prints Jenkins' answer; exits ${EXIT_NOT_OK} unless it is 2xx`,
    )
    .requiredOption('--secret-env <NAME>', 'name of the environment variable holding the webhook secret (the secret is never a flag)')
    .option('--timeout <ms>', 'how long to wait for the API', positiveInt, 10_000)
    .option('--end-to-end', "go all the way to Jenkins and print its answer (needs the spigot open and the drain's log group)")
    .option('--wait <duration>', 'with --end-to-end: how long to wait for the drain to release it', durationOption, 180)
    .option('--interval <duration>', 'with --end-to-end: time between looks at the drain log', durationOption, 5)
    .option('--drain-log-group <name>', "the drain's log group (SPIGOT_DRAIN_LOG_GROUP; default /aws/lambda/<stack>-drain)")
    .option('--json', 'print JSON')
    .action(async (options: { secretEnv: string; timeout: number; endToEnd?: boolean; wait: number; interval: number; json?: boolean }, command: Command) => {
      const r = await resources(command, ['webhookUrl'], options.endToEnd ? ['parameterName', 'drainLogGroup'] : []);
      const { smoke } = await import('./commands/smoke');
      if (options.endToEnd) {
        if (r.parameterName === undefined || r.drainLogGroup === undefined) {
          throw new UsageError('smoke --end-to-end needs the spigot parameter and the drain log group: configure the stack (spigot.config.json or --stack), or pass --parameter and --drain-log-group');
        }
        const { readSpigot } = await import('./spigot');
        const spigot = await readSpigot(clients.ssm, r.parameterName);
        if (spigot.state === 'closed') {
          throw new NotOkError(`the spigot is closed (${spigot.reason ?? 'no description'}): an end-to-end ping would wait in the buffer; open it first, or run smoke without --end-to-end`);
        }
      }
      progress(`posting a ${options.endToEnd ? 'signed ping for Jenkins' : 'smoke delivery'} to ${r.webhookUrl} ...`);
      const result = await smoke({ webhookUrl: r.webhookUrl, secretEnv: options.secretEnv, env: io.env, timeoutMs: options.timeout, endToEnd: options.endToEnd });
      if (!options.endToEnd) {
        if (options.json) json(result);
        else out(formatSmoke(result));
        return;
      }
      if (!options.json) out(formatSmoke(result));
      progress(`waiting up to ${duration(options.wait)} for the drain to release it (${r.drainLogGroup}) ...`);
      const { waitForJenkins } = await import('./commands/smoke-end-to-end');
      const jenkins = await waitForJenkins(clients, { drainLogGroup: r.drainLogGroup!, deliveryId: result.smokeId, queuedAt: result.queuedAt, waitSeconds: options.wait, intervalSeconds: options.interval });
      if (options.json) json({ ...result, jenkins });
      else out(formatJenkinsAnswer(jenkins));
      if (jenkins.outcome !== 'released' || !/^2\d\d$/.test(jenkins.status ?? '')) {
        throw new NotOkError(`Jenkins did not take the ping: ${jenkins.outcome}, ${jenkins.status ?? 'no status'}${jenkins.reason ? ` (${jenkins.reason})` : ''}`);
      }
    });

  program
    .command('doctor')
    .description(
      'check a deployment, one line per check (ok/warn/fail), exit 1 on any fail. Before a deploy: the config, region, credentials, ' +
        'Lambda concurrency quota, the account\'s API Gateway logging role, the state backend. After: every output resolves, the spigot ' +
        'reads, the alarm topic has a confirmed subscription, the drain reaches Jenkins from where it runs (a probe-only invocation: ' +
        'nothing is released), and a webhook route answers GET with 405 (nothing is queued).',
    )
    .option('--before', 'only the checks that need no deployed stack')
    .option('--after', 'only the checks of the deployed stack')
    .option('--json', 'print JSON')
    .action(async (options: { before?: boolean; after?: boolean; json?: boolean }, command: Command) => {
      const both = !options.before && !options.after;
      const { doctor } = await import('./commands/doctor');
      const report = await doctor(clients, {
        before: both || Boolean(options.before),
        after: both || Boolean(options.after),
        env: io.env,
        cwd: io.cwd,
        resolve: (keys) => resources(command, keys),
      });
      if (options.json) json(report);
      else out(formatDoctor(report));
      const failed = report.checks.filter((c) => c.status === 'fail').length;
      if (failed > 0) throw new CliError(`doctor: ${failed} of ${report.checks.length} checks failed`);
    });

  return program;
}

/** Runs the CLI; resolves to the exit code instead of exiting. `argv` excludes node and the script. */
export async function main(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const full: CliIo = {
    stdout: io.stdout ?? ((text) => process.stdout.write(text)),
    stderr: io.stderr ?? ((text) => process.stderr.write(text)),
    env: io.env ?? process.env,
    cwd: io.cwd ?? process.cwd(),
    interactive: io.interactive ?? Boolean(process.stdin.isTTY),
    progressTerminal: io.progressTerminal ?? Boolean(process.stderr.isTTY),
    columns: io.columns ?? process.stderr.columns,
    confirm: io.confirm ?? askOnTerminal,
    clients: io.clients,
    runTerraform: io.runTerraform,
  };
  let region: string | undefined;
  const owned = full.clients === undefined ? new LazyClients(() => region) : undefined;
  const clients = full.clients ?? owned!;
  try {
    await buildProgram(full, clients, (_stack, picked) => (region = picked)).parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has already printed its message (or the help).
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0) return 0;
      return EXIT_USAGE;
    }
    full.stderr(`spigot: ${describeError(error)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT_OPERATIONAL;
  } finally {
    owned?.destroy();
  }
}

/** Entry point for bin/spigot.js and `npm run spigot`. */
export function runFromProcess(): void {
  main(process.argv.slice(2)).then(
    (code) => process.stdout.write('', () => process.exit(code)),
    (error: unknown) => {
      process.stderr.write(`spigot: ${describeError(error)}\n`);
      process.exit(EXIT_OPERATIONAL);
    },
  );
}

if (require.main === module) runFromProcess();
