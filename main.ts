import { App } from 'cdktf';
import path from 'node:path';
import { ConfigError, configPath, loadConfig } from './stacks/config';
import { SpigotStack } from './stacks/spigot-stack';

try {
  const source = configPath();
  const config = loadConfig(source);
  const app = new App();
  new SpigotStack(app, config.name, config);
  app.synth();
  console.log(
    `Synthesized stack "${config.name}" (${source ?? 'embedded default configuration'}) to ${path.join(app.outdir, 'stacks', config.name, 'cdk.tf.json')}`,
  );
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
