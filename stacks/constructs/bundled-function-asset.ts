import path from 'node:path';
import { buildSync } from 'esbuild';
import { Construct } from 'constructs';
import { AssetType, TerraformAsset } from 'cdktf';

export interface BundledFunctionAssetOptions {
  /** TypeScript entry point, relative to the project root. */
  readonly entry: string;
  /** Where the bundle is written before it is zipped. */
  readonly outDir: string;
}

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** esbuild options shared by synth and the tests, so tests run the bundle Lambda runs. */
export function bundleOptions(entry: string, outfile: string) {
  return {
    entryPoints: [path.resolve(PROJECT_ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node' as const,
    target: 'node22',
    format: 'cjs' as const,
    minify: true,
    sourcemap: false,
    legalComments: 'none' as const,
    // The AWS SDK's ES module builds (package.json "module") let esbuild drop every command and
    // schema the drain does not use; their CommonJS "main" builds are one file each, kept whole
    // (@aws-sdk/client-ssm alone was 204 KB). About 40% less code to load at every cold start;
    // CPU per webhook stays the same within the bench's noise (paired ratio 1.02 over 9 rounds).
    mainFields: ['module', 'main'],
    // Those builds load a few Node built-ins with import(); as require() they also run where
    // dynamic import is unavailable (the tests load the bundle in a vm context).
    supported: { 'dynamic-import': false },
    // Bundling the pinned AWS SDK (rather than the runtime's copy) keeps behaviour reproducible.
    logLevel: 'warning' as const,
  };
}

/** Bundles a Lambda handler with esbuild and zips it as a Terraform asset. */
export class BundledFunctionAsset extends Construct {
  readonly asset: TerraformAsset;

  constructor(scope: Construct, id: string, options: BundledFunctionAssetOptions) {
    super(scope, id);
    const outDir = path.resolve(PROJECT_ROOT, options.outDir);
    buildSync(bundleOptions(options.entry, path.join(outDir, 'index.js')));
    this.asset = new TerraformAsset(this, 'zip', { path: outDir, type: AssetType.ARCHIVE });
  }
}
