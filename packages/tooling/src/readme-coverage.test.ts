// Every package README's ```ts blocks are run by a test of that package (the block, verbatim,
// between `// README example start` / `end` markers in one of its src/**/*.test.ts files), or the
// README says right above the block why it is not run (`<!-- README example not run: ... -->`).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markedExamples, normalizeCode, readmeTsBlocks } from './readme-example';

const PACKAGES = new URL('../../', import.meta.url);

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath, e.name));
}

describe('every package README example is run by a test', () => {
  const packages = readdirSync(PACKAGES, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  it('finds the packages', () => {
    expect(packages).toEqual(expect.arrayContaining(['backend', 'layers', 'weights', 'tooling']));
  });
  for (const name of packages) {
    it(name, () => {
      const readme = new URL(`${name}/README.md`, PACKAGES);
      const blocks = readmeTsBlocks(readme);
      const src = new URL(`${name}/src/`, PACKAGES).pathname;
      const run = new Set(
        testFiles(src).flatMap((file) =>
          markedExamples(readFileSync(file, 'utf8')).map(normalizeCode),
        ),
      );
      const missing = blocks
        .filter((b) => b.notRun === undefined && !run.has(normalizeCode(b.code)))
        .map((b) => `ts block ${b.index}: ${b.code.split('\n', 1)[0]}`);
      expect(missing, `${name}/README.md blocks no test runs verbatim`).toEqual([]);
    });
  }
});
