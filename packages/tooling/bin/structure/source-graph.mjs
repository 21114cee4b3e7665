// The source files of one package and what each imports, read with the TypeScript API so that
// comments, strings and template text are never mistaken for imports.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import ts from 'typescript';

const SOURCE_EXTENSIONS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.mjs', '.cjs'];
const RESOLVE_SUFFIXES = ['', ...SOURCE_EXTENSIONS, '.json', '/index.ts', '/index.mjs'];
const BUILTINS = new Set(builtinModules);

function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'dist') return [];
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

const isSource = (path) => SOURCE_EXTENSIONS.some((ext) => path.endsWith(ext));
const isTest = (rel) => /\.test\.[cm]?[jt]sx?$/.test(rel);
const isFixture = (rel) => rel.split(sep).includes('__fixtures__');

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`; null for relative and built-ins. */
export function packageNameOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return null;
  if (specifier.startsWith('node:') || BUILTINS.has(specifier.split('/')[0])) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** Every string literal of `text`: lazy loaders name their optional peers this way. */
function stringLiterals(fileName, text) {
  const found = new Set();
  const visit = (node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.add(node.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false));
  return found;
}

function resolveRelative(fromFile, specifier) {
  const base = join(dirname(fromFile), specifier);
  const candidates = RESOLVE_SUFFIXES.map((suffix) => base + suffix);
  // `./x.js` in TypeScript source names `./x.ts`.
  if (/\.[cm]?js$/.test(specifier)) candidates.push(base.replace(/js$/, 'ts'));
  return candidates.find((path) => existsSync(path) && statSync(path).isFile()) ?? null;
}

function readSource(dir, path) {
  const text = readFileSync(path, 'utf8');
  const rel = relative(dir, path);
  const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
  return {
    path,
    rel,
    testSide: isTest(rel) || isFixture(rel),
    specifiers,
    localImports: specifiers
      .filter((s) => s.startsWith('.'))
      .map((s) => resolveRelative(path, s))
      .filter(Boolean),
    packageImports: specifiers.map(packageNameOf).filter(Boolean),
    strings: stringLiterals(path, text),
  };
}

/** The package's source files under `src/` (and `bin/`), each with its imports. */
export function readSources(dir) {
  return ['src', 'bin']
    .map((top) => join(dir, top))
    .filter((top) => existsSync(top))
    .flatMap(walk)
    .filter(isSource)
    .map((path) => readSource(dir, path));
}
