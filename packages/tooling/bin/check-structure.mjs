#!/usr/bin/env node
// Checks that every package follows the skeleton in ARCHITECTURE.md: README with an install line
// and an example, an exports map with types / ESM / CJS / source, `sideEffects: false`,
// tfjs-core as a peer, tests beside sources, and dependencies that point down the layer graph.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLayout } from './structure/layout-rules.mjs';
import { checkManifest } from './structure/manifest-rules.mjs';
import { readSources } from './structure/source-graph.mjs';

// Which @convkit packages each package may depend on (ARCHITECTURE.md; `backend` holds the
// shared random source, so every package may use it).
const ALLOWED_DEPENDENCIES = {
  backend: [],
  initializers: ['backend'],
  losses: ['backend'],
  optimizers: ['backend'],
  weights: ['backend'],
  data: ['backend'],
  layers: ['backend', 'initializers'],
  train: ['backend', 'layers', 'losses', 'optimizers', 'weights', 'data'],
  zoo: ['backend', 'layers', 'weights', 'initializers'],
  transfer: ['backend', 'zoo', 'layers', 'optimizers', 'train', 'weights'],
  visualization: ['backend', 'layers'],
  tune: ['backend', 'train', 'data'],
  onnx: ['backend', 'layers'],
};

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** A subpath export (`./random`) offers the same conditions, in the same order, as `.`. */
function checkSubpathExports(problem, where, exports) {
  const conditions = Object.keys(exports?.['.'] ?? {}).join(', ');
  for (const [subpath, target] of Object.entries(exports ?? {})) {
    if (subpath === '.' || typeof target === 'string') continue;
    if (Object.keys(target).join(', ') !== conditions) {
      problem(
        where,
        `exports["${subpath}"] must have the conditions of exports["."] (${conditions})`,
      );
    }
  }
}

function checkPublishedPackage({ root, problem }, dir, pkg) {
  const short = pkg.name.replace('@convkit/', '');
  const where = relative(root, dir);
  if (pkg.name !== `@convkit/${dir.split('/').at(-1)}`)
    problem(where, `name ${pkg.name} does not match the folder`);
  if (pkg.type !== 'module') problem(where, 'package.json needs "type": "module"');
  if (pkg.sideEffects !== false) problem(where, 'package.json needs "sideEffects": false');
  const dot = pkg.exports?.['.'];
  for (const key of ['source', 'types', 'import', 'require']) {
    if (!dot?.[key]) problem(where, `exports["."] has no "${key}" condition`);
  }
  if (dot && Object.keys(dot)[0] !== 'source')
    problem(where, 'exports["."]: "source" must come first');
  if (dot && Object.keys(dot).indexOf('types') > Object.keys(dot).indexOf('import')) {
    problem(where, 'exports["."]: "types" must come before "import"');
  }
  checkSubpathExports(problem, where, pkg.exports);
  if (!pkg.files?.includes('dist')) problem(where, 'package.json "files" must include "dist"');
  if (!pkg.peerDependencies?.['@tensorflow/tfjs-core'])
    problem(where, '@tensorflow/tfjs-core must be a peer dependency');
  if (pkg.dependencies?.['@tensorflow/tfjs-core'])
    problem(where, '@tensorflow/tfjs-core must not be a direct dependency');
  for (const script of ['build', 'test', 'typecheck']) {
    if (!pkg.scripts?.[script]) problem(where, `package.json has no "${script}" script`);
  }
  for (const file of ['tsconfig.json', 'tsup.config.ts', 'src/index.ts']) {
    if (!existsSync(join(dir, file))) problem(where, `missing ${file}`);
  }

  const readmePath = join(dir, 'README.md');
  if (!existsSync(readmePath)) {
    problem(where, 'missing README.md');
  } else {
    const readme = readFileSync(readmePath, 'utf8');
    if (!new RegExp(`(npm|pnpm) (install|add) [^\\n]*${pkg.name}`).test(readme)) {
      problem(where, `README.md has no install line for ${pkg.name}`);
    }
    if (!/```(ts|js|typescript|javascript)\n[\s\S]*?```/.test(readme))
      problem(where, 'README.md has no code example');
  }

  const allowed = ALLOWED_DEPENDENCIES[short];
  if (!allowed)
    problem(
      where,
      `not in the dependency map of check-structure.mjs (add it with its allowed dependencies)`,
    );
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (dep.startsWith('@convkit/') && !allowed?.includes(dep.replace('@convkit/', ''))) {
      problem(where, `may not depend on ${dep} (allowed: ${allowed?.join(', ') || 'none'})`);
    }
  }
  checkTestsBesideSources(problem, dir, where);
}

function checkTestsBesideSources(problem, dir, where) {
  const files = walk(dir).map((f) => relative(dir, f));
  const tests = files.filter((f) => f.endsWith('.test.ts'));
  if (tests.length === 0) problem(where, 'has no *.test.ts');
  for (const test of tests) {
    if (!test.startsWith('src/'))
      problem(where, `${test}: tests live beside their sources under src/`);
  }
}

function checkSources(context, dir, pkg) {
  const sources = readSources(dir);
  const where = relative(context.root, dir);
  checkLayout(sources, dir, (file, what) =>
    context.problem(relative(context.root, file.path), what),
  );
  checkManifest(pkg, context, sources, (what) => context.problem(`${where}/package.json`, what));
}

function checkPackage(context, dir) {
  const pkgPath = join(dir, 'package.json');
  if (!existsSync(pkgPath)) {
    context.problem(relative(context.root, dir), 'has no package.json');
    return false;
  }
  const pkg = readJson(pkgPath);
  if (!pkg.private) checkPublishedPackage(context, dir, pkg);
  else if (!existsSync(join(dir, 'README.md')) && dir.includes('/apps/'))
    context.problem(relative(context.root, dir), 'missing README.md');
  checkSources(context, dir, pkg);
  return true;
}

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));

/** Each workspace package's manifest by its name. */
function workspaceManifests(packageDirs) {
  const manifests = packageDirs
    .map((dir) => join(dir, 'package.json'))
    .filter((path) => existsSync(path))
    .map(readJson);
  return new Map(manifests.map((pkg) => [pkg.name, pkg]));
}

/** Every problem of the workspace at `root` as `path: what`, with the number of packages checked. */
export function checkStructure(root) {
  const problems = [];
  const packageDirs = ['packages', 'apps'].flatMap((top) =>
    existsSync(join(root, top)) ? readdirSync(join(root, top)).map((d) => join(root, top, d)) : [],
  );
  const context = {
    root,
    rootPkg: readJson(join(root, 'package.json')),
    workspace: workspaceManifests(packageDirs),
    problem: (where, what) => problems.push(`${where}: ${what}`),
  };
  const checked = packageDirs.filter((dir) => checkPackage(context, dir)).length;
  return { problems, checked };
}

function main() {
  const { problems, checked } = checkStructure(fileURLToPath(new URL('../../..', import.meta.url)));
  if (problems.length > 0) {
    console.error(
      `check-structure: ${problems.length} problem(s):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    process.exit(1);
  }
  console.log(`check-structure: ${checked} packages follow the skeleton`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
