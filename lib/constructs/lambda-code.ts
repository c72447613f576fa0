/**
 * The code of a broker function: its asset folder bundled locally with the esbuild settings of
 * lib/bundling.ts (ESM, minified, code splitting: `index.mjs` and `chunks/`), plus the native
 * modules the bundle imports (argon2), installed with `npm ci` from the project's lock file.
 *
 * NodejsFunction cannot deploy this: it bundles into one `index.mjs` (esbuild's `outfile`), and
 * code splitting needs an output folder. `Code.fromAsset` with a local bundler gives the same
 * asset life cycle (bundled at synth, skipped for stacks outside `aws:cdk:bundling-stacks`,
 * hashed by its output), and the asset folder is exactly what the bundle-size and cold-start
 * scripts measure.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as esbuild from 'esbuild';
import { lambdaBuildOptions, NATIVE_MODULES, REPO_ROOT } from '../bundling.ts';

/**
 * `npm ci` of the native modules in the asset folder: from the npm cache when it has the locked
 * tarball (synth offline), without install scripts (argon2's package already holds the
 * linux-arm64 binary; nothing to compile for the host).
 */
const NPM_ENVIRONMENT: Readonly<Record<string, string>> = {
  NPM_CONFIG_PREFER_OFFLINE: 'true',
  NPM_CONFIG_IGNORE_SCRIPTS: 'true',
  NPM_CONFIG_AUDIT: 'false',
  NPM_CONFIG_FUND: 'false',
  NPM_CONFIG_UPDATE_NOTIFIER: 'false',
};

/**
 * Bundles function `name` into `outputDir` and installs the native modules its chunks import.
 * @returns the native modules installed.
 * @throws when esbuild or `npm ci` fails.
 */
export function bundleFunction(name: string, outputDir: string): string[] {
  const result = esbuild.buildSync(lambdaBuildOptions(name, outputDir));
  const imported = new Set(
    Object.values(result.metafile.outputs).flatMap((o) =>
      o.imports.filter((i) => i.external).map((i) => i.path),
    ),
  );
  const natives = NATIVE_MODULES.filter((m) => imported.has(m));
  if (natives.length > 0) installNativeModules(natives, outputDir);
  return natives;
}

function installNativeModules(modules: readonly string[], outputDir: string): void {
  const project = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
  };
  const dependencies = Object.fromEntries(
    modules.map((m) => {
      const version = project.dependencies?.[m];
      if (!version) throw new Error(`${m} is not a dependency in package.json`);
      return [m, version];
    }),
  );
  writeFileSync(path.join(outputDir, 'package.json'), JSON.stringify({ dependencies }));
  copyFileSync(
    path.join(REPO_ROOT, 'package-lock.json'),
    path.join(outputDir, 'package-lock.json'),
  );
  const run = spawnSync('npm', ['ci'], {
    cwd: outputDir,
    env: { ...process.env, ...NPM_ENVIRONMENT },
    encoding: 'utf8',
  });
  if (run.status !== 0) {
    throw new Error(`npm ci of ${modules.join(', ')} failed: ${run.stderr || run.error?.message}`);
  }
}

/** The asset of broker function `name` (functions/handlers/<name>.ts). */
export function brokerFunctionCode(name: string): lambda.AssetCode {
  return lambda.Code.fromAsset(REPO_ROOT, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Only the local bundler runs (esbuild is a devDependency); the image is a required
      // placeholder for Docker bundling, which this project never uses.
      image: DockerImage.fromRegistry('deskbroker-local-bundling-only'),
      // Names the function in the bundling options, which key CDK's bundling cache.
      command: ['bundle', name],
      local: {
        tryBundle(outputDir) {
          bundleFunction(name, outputDir);
          return true;
        },
      },
    },
  });
}
