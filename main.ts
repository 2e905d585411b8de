import { App } from 'cdktf';
import { ConfigError, loadConfig } from './stacks/config';
import { SpigotStack } from './stacks/spigot-stack';

try {
  const config = loadConfig();
  const app = new App();
  new SpigotStack(app, config.name, config);
  app.synth();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  throw error;
}
