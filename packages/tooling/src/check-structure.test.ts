import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkStructure } from '../bin/check-structure.mjs';

const PACKAGE_JSON = {
  name: '@convkit/backend',
  version: '0.0.0',
  type: 'module',
  sideEffects: false,
  exports: {
    '.': {
      source: './src/index.ts',
      types: './dist/index.d.ts',
      import: './dist/index.js',
      require: './dist/index.cjs',
    },
  },
  files: ['dist'],
  scripts: { build: 'tsup', test: 'vitest run', typecheck: 'tsc' },
  peerDependencies: { '@tensorflow/tfjs-core': '4.22.0' },
  devDependencies: { '@tensorflow/tfjs-core': '4.22.0' },
};

const manifest = (fields: object) => JSON.stringify({ ...PACKAGE_JSON, ...fields });

/** A one-package workspace that follows the skeleton, with `files` added or replaced. */
function cleanTree(files: Record<string, string> = {}): Record<string, string> {
  return {
    'package.json': JSON.stringify({ private: true, devDependencies: { vitest: '3' } }),
    'packages/backend/package.json': JSON.stringify(PACKAGE_JSON),
    'packages/backend/README.md': 'npm install @convkit/backend\n\n```ts\nrun();\n```\n',
    'packages/backend/tsconfig.json': '{}',
    'packages/backend/tsup.config.ts': 'export default {};\n',
    'packages/backend/src/index.ts':
      "// Re-exports from './internal/x' would break the rule: this comment must not count.\n" +
      "export { run } from './run';\n",
    'packages/backend/src/run.ts':
      "import * as tf from '@tensorflow/tfjs-core';\nimport { helper } from './internal/helper';\n" +
      'export const run = () => helper(tf.scalar(1));\n',
    'packages/backend/src/internal/helper.ts': 'export const helper = <T>(x: T) => x;\n',
    'packages/backend/src/run.test.ts':
      "import { it } from 'vitest';\nimport { cases } from './__fixtures__/cases';\n" +
      "it('runs', () => cases);\n",
    'packages/backend/src/__fixtures__/cases.ts': 'export const cases = [1];\n',
    ...files,
  };
}

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function problemsOf(files: Record<string, string>): string[] {
  const root = mkdtempSync(join(tmpdir(), 'check-structure-'));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return checkStructure(root).problems;
}

describe('checkStructure: where files live', () => {
  it('passes a clean tree', () => {
    expect(problemsOf(cleanTree())).toEqual([]);
  });

  it('refuses a barrel that re-exports from src/internal/', () => {
    const problems = problemsOf(
      cleanTree({
        'packages/backend/src/index.ts':
          "export { run } from './run';\nexport type { Helper } from './internal/helper';\n",
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^packages\/backend\/src\/index\.ts: re-exports src\/internal\/helper\.ts: src\/internal\/ is private/,
      ),
    ]);
  });

  it('refuses a file under src/internal/ that only tests import', () => {
    const problems = problemsOf(
      cleanTree({
        'packages/backend/src/internal/harness.ts': 'export const cases = [1];\n',
        'packages/backend/src/run.test.ts':
          "import { it } from 'vitest';\nimport { cases } from './internal/harness';\n" +
          "it('runs', () => cases);\n",
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^packages\/backend\/src\/internal\/harness\.ts: .*only tests import it: a test harness belongs in src\/__fixtures__\//,
      ),
    ]);
  });

  it('refuses non-test source that imports from src/__fixtures__/', () => {
    const problems = problemsOf(
      cleanTree({
        'packages/backend/src/run.ts':
          "import * as tf from '@tensorflow/tfjs-core';\nimport { cases } from './__fixtures__/cases';\n" +
          'export const run = () => tf.tensor(cases);\n',
      }),
    );
    expect(problems).toContainEqual(
      expect.stringMatching(
        /^packages\/backend\/src\/run\.ts: imports the test fixture __fixtures__\/cases\.ts: only tests may use src\/__fixtures__\//,
      ),
    );
  });

  it('counts dynamic imports and require as imports', () => {
    const problems = problemsOf(
      cleanTree({
        'packages/backend/src/run.ts':
          "import * as tf from '@tensorflow/tfjs-core';\n" +
          "export const run = async () => tf.tensor((await import('./__fixtures__/cases')).cases);\n",
      }),
    );
    expect(problems).toContainEqual(
      expect.stringContaining('packages/backend/src/run.ts: imports the test fixture'),
    );
  });
});

describe('checkStructure: subpath exports', () => {
  it('refuses a subpath export without the conditions of the main entry', () => {
    const exports = {
      ...PACKAGE_JSON.exports,
      './random': { import: './dist/random.js', require: './dist/random.cjs' },
    };
    const problems = problemsOf(
      cleanTree({ 'packages/backend/package.json': manifest({ exports }) }),
    );
    expect(problems).toEqual([
      'packages/backend: exports["./random"] must have the conditions of exports["."] (source, types, import, require)',
    ]);
  });
});

describe('checkStructure: manifests say what the code uses', () => {
  const withManifest = (fields: object, files: Record<string, string> = {}) =>
    problemsOf(cleanTree({ 'packages/backend/package.json': manifest(fields), ...files }));

  it('refuses a dependency that no source imports', () => {
    expect(withManifest({ dependencies: { fflate: '1' } })).toEqual([
      'packages/backend/package.json: fflate is declared but no source under src/ imports it: remove it',
    ]);
  });

  it('refuses a dependency that only tests import', () => {
    const test =
      "import { it } from 'vitest';\nimport { zip } from 'fflate';\nit('zips', () => zip);\n";
    expect(
      withManifest({ dependencies: { fflate: '1' } }, { 'packages/backend/src/run.test.ts': test }),
    ).toEqual([
      'packages/backend/package.json: fflate is used only by tests: make it a devDependency',
    ]);
  });

  it('refuses source that imports an undeclared package, or a devDependency', () => {
    const run =
      "import * as tf from '@tensorflow/tfjs-core';\nimport { zip } from 'fflate/node';\nexport const run = () => [tf, zip];\n";
    const files = { 'packages/backend/src/run.ts': run };
    expect(withManifest({}, files)).toEqual([
      'packages/backend/package.json: src/run.ts imports fflate, which is not in dependencies or peerDependencies',
    ]);
    expect(withManifest({ devDependencies: { fflate: '1' } }, files)).toEqual([
      'packages/backend/package.json: src/run.ts imports fflate, which is not in dependencies or peerDependencies (it is only a devDependency)',
    ]);
  });

  it('refuses a test import that no manifest declares', () => {
    const test =
      "import { it } from 'vitest';\nimport { zip } from 'fflate';\nit('zips', () => zip);\n";
    expect(withManifest({}, { 'packages/backend/src/run.test.ts': test })).toEqual([
      'packages/backend/package.json: src/run.test.ts imports fflate, which package.json does not declare (add it to devDependencies)',
    ]);
  });

  it('counts an optional peer named by a lazy loader, and ignores Node built-ins', () => {
    const run =
      "import * as tf from '@tensorflow/tfjs-core';\nimport { join } from 'node:path';\nimport os from 'os';\n" +
      "const load = (name: string) => import(name);\nexport const run = () => [tf, join, os, load('webgpu')];\n";
    const peers = { '@tensorflow/tfjs-core': '4', webgpu: '1' };
    const files = { 'packages/backend/src/run.ts': run };
    expect(withManifest({ peerDependencies: peers }, files)).toEqual([]);
    expect(withManifest({ peerDependencies: { ...peers, vega: '5' } }, files)).toEqual([
      'packages/backend/package.json: vega is declared but no source under src/ imports it: remove it',
    ]);
  });

  it("accepts a peer passed on for a workspace dependency's peer", () => {
    const initializers = {
      'packages/initializers/package.json': manifest({
        name: '@convkit/initializers',
        dependencies: { '@convkit/backend': 'workspace:*' },
      }),
      'packages/initializers/README.md':
        'npm install @convkit/initializers\n\n```ts\nrun();\n```\n',
      'packages/initializers/tsconfig.json': '{}',
      'packages/initializers/tsup.config.ts': 'export default {};\n',
      'packages/initializers/src/index.ts': "export { run } from '@convkit/backend';\n",
      'packages/initializers/src/index.test.ts':
        "import { it } from 'vitest';\nit('runs', () => {});\n",
    };
    expect(problemsOf(cleanTree(initializers))).toEqual([]);
  });
});
