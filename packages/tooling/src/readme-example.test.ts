// The README example helper: blocks, not-run reasons, marked regions, drift.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { markedExamples, readmeExampleDrift, readmeTsBlocks } from './readme-example';

describe('readmeExampleDrift', () => {
  const dir = mkdtempSync(join(tmpdir(), 'readme-example-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return pathToFileURL(join(dir, name));
  };
  const readme = write(
    'README.md',
    [
      '# x',
      '```ts',
      'const a = 1;',
      '```',
      'text',
      '<!-- README example not run: it needs the network -->',
      '',
      '```ts',
      'await fetch(url);',
      '```',
      '```ts',
      'const b =',
      '  2;',
      '```',
    ].join('\n'),
  );
  const testFile = (code: string) =>
    write(
      'x.test.ts',
      `setup();\n// README example start\n${code}\n// README example end\nmore();\n`,
    ).href;

  it('reads blocks, with the reason a block is not run', () => {
    expect(readmeTsBlocks(readme)).toEqual([
      { index: 1, code: 'const a = 1;\n' },
      { index: 2, code: 'await fetch(url);\n', notRun: 'it needs the network' },
      { index: 3, code: 'const b =\n  2;\n' },
    ]);
    const bad = write('BAD.md', '<!-- README example not run: -->\n```ts\nx();\n```\n');
    expect(() => readmeTsBlocks(bad)).toThrow(/block 1 is marked not run with no reason/);
  });

  it('compares the marked region with the chosen block, whitespace aside', () => {
    expect(readmeExampleDrift(testFile('const b = 2;'), readme, { block: 3 })).toBeNull();
    expect(readmeExampleDrift(testFile('const b = 3;'), readme, { block: 3 })).toMatch(
      /example 3 differs/,
    );
    expect(readmeExampleDrift(testFile('const a = 1;'), readme)).toMatch(/has 3 ts blocks/);
    expect(readmeExampleDrift(testFile('const a = 1;'), readme, { block: 4 })).toMatch(
      /no block 4/,
    );
    expect(readmeExampleDrift(testFile('await fetch(url);'), readme, { block: 2 })).toMatch(
      /marked not run/,
    );
    const unmarked = write('y.test.ts', 'const a = 1;\n').href;
    expect(readmeExampleDrift(unmarked, readme, { block: 1 })).toMatch(/no README example markers/);
    const single = write('ONE.md', '```ts\nconst a = 1;\n```\n');
    expect(readmeExampleDrift(testFile('const a  =  1;'), single)).toBeNull();
  });

  it('finds every marked region in order', () => {
    expect(
      markedExamples(
        '// README example start\na();\n// README example end\nx\n// README example start\nb();\n// README example end\n',
      ),
    ).toEqual(['a();\n', 'b();\n']);
  });
});
