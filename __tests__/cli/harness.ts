/** Runs the spigot CLI in-process, end to end: real AWS SDK clients from the default chain, pointed at emulators by env. */
import { main, type CliIo } from '../../cli/index';
import { TEST_CREDENTIALS, TEST_REGION } from '../support/fauxqs';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Nothing listens here: CloudWatch calls fail fast with ECONNREFUSED instead of reaching AWS. */
export const REFUSING_ENDPOINT = 'http://127.0.0.1:9';

/**
 * Points the SDK's default chain at the emulators exactly as an operator would (AWS_ENDPOINT_URL_*),
 * and keeps it away from any real profile. Jest gives each test file its own process.env.
 * CloudWatch (read by `status`) goes to a refusing endpoint unless one is given, so no suite ever calls AWS.
 */
export function useEmulatorEnvironment(endpoints: { sqs?: string; ssm?: string; lambda?: string; cloudwatch?: string }): void {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
    AWS_CONFIG_FILE: '/nonexistent/spigot-test-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/spigot-test-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
  if (endpoints.sqs) process.env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  if (endpoints.ssm) process.env.AWS_ENDPOINT_URL_SSM = endpoints.ssm;
  if (endpoints.lambda) process.env.AWS_ENDPOINT_URL_LAMBDA = endpoints.lambda;
  process.env.AWS_ENDPOINT_URL_CLOUDWATCH = endpoints.cloudwatch ?? REFUSING_ENDPOINT;
}

/** Environment for the CLI's own discovery: no SPIGOT_* leaks in from the outside. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SPIGOT_')) env[key] = value;
  return { ...env, USER: 'alice', ...extra };
}

export async function runCli(args: readonly string[], io: Partial<CliIo> = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    env: cliEnv(),
    cwd: process.cwd(),
    interactive: false,
    ...io,
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
  });
  return { code, stdout, stderr };
}
