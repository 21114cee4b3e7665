import { readFileSync } from 'node:fs';
/**
 * Whether the code between `// README example start` and `// README example end` in the test
 * file at `testFileUrl` is the README's only ```ts block (whitespace-normalized): returns why
 * not, or null. A test that runs the README example calls this so the two cannot drift apart.
 */
export function readmeExampleDrift(testFileUrl: string, readmeUrl: URL): string | null {
  const normalize = (code: string) => code.replace(/\s+/g, ' ').trim();
  const source = readFileSync(new URL(testFileUrl), 'utf8');
  const startMarker = '// README example start\n';
  const start = source.indexOf(startMarker);
  const end = source.indexOf('// README example end');
  if (start < 0 || end < start) return `${testFileUrl} has no README example markers`;
  const example = normalize(source.slice(start + startMarker.length, end));
  const blocks = [...readFileSync(readmeUrl, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) =>
    normalize(m[1]),
  );
  if (blocks.length !== 1)
    return `${readmeUrl.pathname} has ${blocks.length} ts blocks, expected 1`;
  return blocks[0] === example
    ? null
    : `${readmeUrl.pathname}'s example differs from the test's copy`;
}
