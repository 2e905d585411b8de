import { installLocalstack } from './localstack-install';

/** Runs once per jest run, outside any test timeout: the first run on a fresh clone installs LocalStack. */
export default async function globalSetup(): Promise<void> {
  installLocalstack();
}
