/**
 * Where Terraform keeps this stack's state. The S3 backend is the path for any real deployment;
 * local state is for trying Spigot out, kept outside cdktf.out (which every synth rewrites and
 * CI deletes), and every plan or apply that uses it warns.
 */
import { LocalBackend, S3Backend, TerraformLocal, TerraformStack } from 'cdktf';
import type { BackendConfig } from './config';
import { fromStackDir, localStatePath, localStateWarning } from './state-path';

export function configureBackend(stack: TerraformStack, name: string, backend: BackendConfig): void {
  if (backend.type === 's3') {
    const { bucket, key, region, dynamodbTable } = backend;
    new S3Backend(stack, { bucket, key, region, encrypt: true, dynamodbTable });
    return;
  }
  const file = localStatePath(name, backend)!;
  new LocalBackend(stack, { path: fromStackDir(file) });
  // A check block only warns, on every plan and apply, in cdktf and plain terraform alike.
  const kind = new TerraformLocal(stack, 'state-backend', 'local');
  kind.overrideLogicalId('spigot_state_backend');
  stack.addOverride('check.spigot_state_backend.assert', [{ condition: `\${local.spigot_state_backend != "local"}`, error_message: localStateWarning(file) }]);
}
