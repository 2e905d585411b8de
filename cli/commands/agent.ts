/**
 * `spigot agent`: the drain as a process next to Jenkins, with the stack's environment: the
 * `agent_environment` output of a drain.mode "agent" stack, else the same variables built from the
 * stack's config and its resolved resources. `--print-env` prints them for a systemd
 * EnvironmentFile or `docker run --env-file` instead of running.
 */
import { loadConfig, type SpigotConfig } from '../../stacks/config';
import { agentEnvironment, drainEnvironment } from '../../stacks/drain-environment';
import { resolveSourcePolicy, untrustedRefusalStatuses } from '../../stacks/source-policy';
import { CliError, UsageError } from '../errors';
import { AGENT_ENVIRONMENT_OUTPUT, type TerraformOutputs } from '../resources';

export type AgentEnvironment = Record<string, string>;

const VARIABLE = /^[A-Z][A-Z0-9_]*$/;

/** The agent_environment output as variables, or undefined when the outputs have none. */
export function environmentFromOutputs(outputs: TerraformOutputs | undefined, source: string): AgentEnvironment | undefined {
  const value = outputs?.[AGENT_ENVIRONMENT_OUTPUT];
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError(`${source}: output ${AGENT_ENVIRONMENT_OUTPUT} is not a map of variables`);
  }
  const env: AgentEnvironment = {};
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (!VARIABLE.test(name) || typeof v !== 'string') throw new CliError(`${source}: output ${AGENT_ENVIRONMENT_OUTPUT} has ${JSON.stringify(name)}, which is not a NAME = "string" variable`);
    env[name] = v;
  }
  return env;
}

export interface StackResources {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly parameterName: string;
  readonly drainStatusParameterName: string;
  readonly leaseQueueUrl: string;
}

/** Without the output: the variables the stack would have output, from its config and its resources. */
export function environmentFromConfig(stack: string, config: SpigotConfig, r: StackResources): AgentEnvironment {
  const drain = drainEnvironment({
    name: stack,
    jenkinsUrl: config.jenkinsUrl,
    queueUrl: r.queueUrl,
    deadLetterQueueUrl: r.dlqUrl,
    leaseQueueUrl: r.leaseQueueUrl,
    spigotParameterName: r.parameterName,
    drainStatusParameterName: r.drainStatusParameterName,
    drain: config.drain,
    untrustedRefusalStatuses: untrustedRefusalStatuses(resolveSourcePolicy(config), config.drain),
  });
  return agentEnvironment(drain, config.region, config.drain);
}

/** The stack's config, for a stack whose outputs have no agent_environment. */
export function configForAgent(stack: string | undefined, configFile: string | undefined, why: string | undefined): SpigotConfig {
  const config = configFile === undefined ? undefined : loadConfig(configFile);
  if (stack === undefined || config === undefined || config.name !== stack) {
    throw new UsageError(
      `spigot agent needs ${stack === undefined ? 'the stack' : `stack ${stack}`}'s environment: the ${AGENT_ENVIRONMENT_OUTPUT} output of a drain.mode "agent" stack ` +
        `(--outputs-file FILE with a saved \`terraform output -json\`, or --state-dir DIR), or the stack's spigot.config.json to build it from ` +
        `[${why ?? `the outputs have no ${AGENT_ENVIRONMENT_OUTPUT}`}; ${config === undefined ? 'no spigot.config.json' : `spigot.config.json is stack ${config.name}`}]`,
    );
  }
  return config;
}

/**
 * KEY=VALUE lines both systemd's EnvironmentFile and `docker run --env-file` read the same way:
 * no quoting (docker would keep the quotes), so a value either side would read differently is refused.
 */
export function envFileLines(env: AgentEnvironment): string[] {
  return Object.keys(env).sort().map((name) => {
    const value = env[name];
    if (/[\n\r"'\\$`]/.test(value) || value !== value.trim()) {
      throw new CliError(`${name}'s value cannot be written to an environment file both systemd and docker read alike (quotes, backslashes, $, newlines or surrounding spaces)`);
    }
    return `${name}=${value}`;
  });
}
