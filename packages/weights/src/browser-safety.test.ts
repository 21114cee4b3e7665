import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('.', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === '__fixtures__' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('browser safety', () => {
  it('no source file imports a Node built-in statically or with a literal dynamic import', () => {
    const offenders: string[] = [];
    for (const file of sources(root)) {
      const text = readFileSync(file, 'utf8');
      for (const [index, line] of text.split('\n').entries()) {
        const staticImport =
          /^\s*(import|export)\s+(?!type\b)[^;]*from\s+['"](node:)?(fs|path|os|child_process|fs\/promises)['"]/.test(
            line,
          );
        const literalDynamic =
          /import\(\s*['"](node:)?(fs|path)/.test(line) && !/typeof import\(/.test(line);
        if (staticImport || literalDynamic)
          offenders.push(`${file.slice(root.length)}:${index + 1}: ${line.trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
