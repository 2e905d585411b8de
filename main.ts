import { App } from 'cdktf';
import path from 'node:path';
import { ConfigError, configPath, isPlaceholderJenkinsUrl, loadConfig } from './stacks/config';
import { assertJenkinsReachable, drainVpcWarnings } from './stacks/jenkins-reach';
import { resolveSourcePolicy } from './stacks/source-policy';
import { SpigotStack } from './stacks/spigot-stack';
import { localStatePath, localStateWarning } from './stacks/state-path';

try {
  const source = configPath();
  const config = loadConfig(source);
  // Before the App exists, so a refused config leaves cdktf.out as it was (the stack checks too).
  assertJenkinsReachable(config);
  const app = new App();
  new SpigotStack(app, config.name, config);
  app.synth();
  console.log(
    `Synthesized stack "${config.name}" (${source ?? 'embedded default configuration'}) to ${path.join(app.outdir, 'stacks', config.name, 'cdk.tf.json')}`,
  );
  if (isPlaceholderJenkinsUrl(config.jenkinsUrl)) {
    console.error(`warning: jenkinsUrl is the placeholder ${config.jenkinsUrl}: terraform plan and apply will refuse this stack until spigot.config.json sets your Jenkins URL.`);
  }
  if (resolveSourcePolicy(config).kind === 'unchosen') {
    console.error('warning: allowedSources is not set: terraform plan and apply will refuse this stack until spigot.config.json chooses ["github"], a list of CIDR blocks, or ["anyone"] (README "Who may send webhooks").');
  }
  for (const warning of drainVpcWarnings(config)) console.error(`warning: ${warning}`);
  const localState = localStatePath(config.name, config.backend);
  if (localState !== undefined) console.error(`warning: ${localStateWarning(localState)}`);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
