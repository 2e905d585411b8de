/**
 * `spigot`: the operator CLI. This file only wires commander to the commands in cli/commands
 * (which return data) and the printers in cli/format.ts.
 *
 * Exit codes: 0 ok, 1 the operation failed, 2 the command line (or missing configuration) was wrong.
 */
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LazyClients, type Clients } from './clients';
import { dlqList } from './commands/dlq-list';
import { dlqRedrive } from './commands/dlq-redrive';
import { doctor } from './commands/doctor';
import { drain } from './commands/drain';
import { operatorName, setState } from './commands/set-state';
import { smoke } from './commands/smoke';
import { queueDepth, status } from './commands/status';
import { CliError, describeError, EXIT_OPERATIONAL, EXIT_USAGE, UsageError } from './errors';
import { formatDlqList, formatDoctor, formatDrain, formatRedrive, formatSetState, formatSmoke, formatStatus } from './format';
import { DEFAULT_STACK, resolveResources, type DiscoveryFlags, type ResourceKey, type TerraformRunner } from './resources';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Whether `dlq redrive` may ask for confirmation. */
  readonly interactive: boolean;
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

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
};

const RESOURCE_HELP = `
Resources are found from flags, then SPIGOT_QUEUE_URL, SPIGOT_DLQ_URL, SPIGOT_PARAMETER_NAME,
SPIGOT_DRAIN_FUNCTION, SPIGOT_WEBHOOK_URL, SPIGOT_DRAIN_STATUS_PARAMETER, SPIGOT_ALARM_TOPIC_ARN, then \`terraform output -json\`
in --state-dir (default cdktf.out/stacks/<stack>) or a saved copy given with --outputs-file.
The drain status parameter is optional (status then shows "last drain: unknown"); terraform is not
run just to find it.
AWS credentials, region and endpoints come from the default chain (AWS_PROFILE, AWS_REGION,
AWS_ENDPOINT_URL_SQS / _SSM / _LAMBDA / _CLOUDWATCH / _SNS / _API_GATEWAY for emulators).

Exit codes: 0 ok, 1 operation failed, 2 usage or missing configuration.`;

export function buildProgram(io: CliIo, clients: Clients): Command {
  const out = (text: string): void => io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  const progress = (text: string): void => io.stderr(`${text}\n`);
  const json = (data: unknown): void => out(JSON.stringify(data, null, 2));

  const program = new Command('spigot')
    .description('Operate Spigot: the SQS FIFO webhook buffer in front of Jenkins, gated by an SSM "spigot" parameter.')
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
    .option('--route <route>', 'which route of the webhook_urls output to use, e.g. /github-webhook/')
    .option('--stack <name>', `stack name, for the default --state-dir (SPIGOT_STACK, default ${DEFAULT_STACK})`)
    .option('--state-dir <dir>', 'directory to run `terraform output -json` in (default cdktf.out/stacks/<stack>)')
    .option('--outputs-file <file>', 'saved `terraform output -json` to read instead of running terraform')
    .addHelpText('after', RESOURCE_HELP);

  const resources = async <K extends ResourceKey, O extends ResourceKey = never>(
    command: Command,
    keys: readonly K[],
    optional: readonly O[] = [],
  ): Promise<Record<K, string> & Partial<Record<O, string>>> =>
    resolveResources(
      keys,
      {
        flags: command.optsWithGlobals<DiscoveryFlags>(),
        env: io.env,
        cwd: io.cwd,
        runTerraform: io.runTerraform,
        progress,
      },
      optional,
    );

  program
    .command('status')
    .description(
      'show the spigot (and who changed it, when, why), buffer depth, the oldest buffered webhook\'s age (CloudWatch), ' +
        'dead letters and the last drain run (from the drain status parameter)',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const r = await resources(command, ['parameterName', 'queueUrl', 'dlqUrl'], ['drainStatusParameterName']);
      const report = await status(clients, {
        parameterName: r.parameterName,
        queueUrl: r.queueUrl,
        dlqUrl: r.dlqUrl,
        drainStatusParameterName: r.drainStatusParameterName,
      });
      if (options.json) json(report);
      else out(formatStatus(report));
    });

  program
    .command('open')
    .description('open the spigot: the drain releases held webhooks to Jenkins (changing the parameter starts a drain)')
    .option('--reason <text>', 'optional note recorded in the parameter Description')
    .option('--json', 'print JSON')
    .action(async (options: { reason?: string; json?: boolean }, command: Command) => {
      const r = await resources(command, ['parameterName']);
      const result = await setState(clients, { parameterName: r.parameterName, state: 'open', reason: options.reason, operator: operatorName(io.env) });
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
      const result = await setState(clients, { parameterName: r.parameterName, state: 'closed', reason: options.reason, operator: operatorName(io.env) });
      if (options.json) json(result);
      else out(formatSetState(result));
    });

  program
    .command('drain')
    .description('run the drain Lambda once now, synchronously, and show its result')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }, command: Command) => {
      const r = await resources(command, ['functionName']);
      progress(`invoking ${r.functionName} and waiting for the run to finish (up to its timeout) ...`);
      const run = await drain(clients, { functionName: r.functionName });
      if (options.json) json(run);
      else out(formatDrain(run));
    });

  const dlq = program.command('dlq').description('inspect and redrive dead letters');

  dlq
    .command('list')
    .description(
      'list dead letters without their bodies: event, repository, status, reason, delivery id, received time. ' +
        'SQS has no peek, so listing receives each message briefly and makes it visible again; this raises its ' +
        'receive count on the DLQ, which is harmless (the DLQ has no redrive policy). FIFO shows at most 10 per repository per listing.',
    )
    .option('--json', 'print JSON')
    .option('--max <n>', 'most dead letters to list', positiveInt, 100)
    .action(async (options: { json?: boolean; max: number }, command: Command) => {
      const r = await resources(command, ['dlqUrl']);
      const listing = await dlqList(clients, { dlqUrl: r.dlqUrl, max: options.max, progress });
      if (options.json) json(listing);
      else out(formatDlqList(listing));
    });

  dlq
    .command('redrive')
    .description(
      'move dead letters back to the buffer, each repository in its original order (send, then delete: ' +
        'a failure can duplicate a webhook, never lose one; a second DLQ copy of a webhook moved in the same run is deleted, not redriven). ' +
        'They are released at the next drain if the spigot is open.',
    )
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--json', 'print JSON')
    .action(async (options: { yes?: boolean; json?: boolean }, command: Command) => {
      const r = await resources(command, ['dlqUrl', 'queueUrl']);
      if (!options.yes) {
        const depth = await queueDepth(clients.sqs, r.dlqUrl, 'dead-letter queue');
        const count = depth.visible + depth.inFlight;
        if (!io.interactive) {
          throw new UsageError(`dlq redrive would move about ${count} dead letter(s) into ${r.queueUrl}; pass --yes to confirm (no terminal to ask on)`);
        }
        if (!(await io.confirm(`move about ${count} dead letter(s) from ${r.dlqUrl} back to ${r.queueUrl}? [y/N] `))) {
          throw new CliError('redrive cancelled; nothing was moved');
        }
      }
      const result = await dlqRedrive(clients, { dlqUrl: r.dlqUrl, queueUrl: r.queueUrl, progress });
      if (options.json) json(result);
      else out(formatRedrive(result));
      if (result.stoppedBecause) throw new CliError(`redrive stopped early: ${result.stoppedBecause}`);
    });

  program
    .command('smoke')
    .description(
      'post a signed test delivery (X-GitHub-Event: ping, header X-Spigot-Smoke) to the webhook URL and check it was queued (202, queued:true). ' +
        'The drain deletes smoke deliveries without forwarding them, so Jenkins never sees it.',
    )
    .requiredOption('--secret-env <NAME>', 'name of the environment variable holding the webhook secret (the secret is never a flag)')
    .option('--timeout <ms>', 'how long to wait for the API', positiveInt, 10_000)
    .option('--json', 'print JSON')
    .action(async (options: { secretEnv: string; timeout: number; json?: boolean }, command: Command) => {
      const r = await resources(command, ['webhookUrl']);
      progress(`posting a smoke delivery to ${r.webhookUrl} ...`);
      const result = await smoke({ webhookUrl: r.webhookUrl, secretEnv: options.secretEnv, env: io.env, timeoutMs: options.timeout });
      if (options.json) json(result);
      else out(formatSmoke(result));
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
    confirm: io.confirm ?? askOnTerminal,
    clients: io.clients,
    runTerraform: io.runTerraform,
  };
  const owned = full.clients === undefined ? new LazyClients() : undefined;
  const clients = full.clients ?? owned!;
  try {
    await buildProgram(full, clients).parseAsync([...argv], { from: 'user' });
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
