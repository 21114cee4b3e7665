import { readFileSync } from 'node:fs';

/** One ```ts block of a README: its code, and why it is not run when the README says so. */
export interface ReadmeBlock {
  /** 1-based position among the README's ```ts blocks. */
  index: number;
  code: string;
  /** The reason given by a `<!-- README example not run: REASON -->` line right above the fence. */
  notRun?: string;
}

const NOT_RUN = /<!--\s*README example not run:\s*([\s\S]*?)\s*-->\s*$/;

/** Collapse whitespace, so that formatting alone never counts as a difference. */
export function normalizeCode(code: string): string {
  return code.replace(/\s+/g, ' ').trim();
}

/**
 * Every ```ts block of the README at `readmeUrl`, in order. A block preceded (only whitespace
 * between) by `<!-- README example not run: REASON -->` carries that reason; an empty reason is
 * an error, so a README cannot skip an example without saying why.
 */
export function readmeTsBlocks(readmeUrl: URL): ReadmeBlock[] {
  const text = readFileSync(readmeUrl, 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => {
    const before = NOT_RUN.exec(text.slice(Math.max(0, m.index - 1000), m.index));
    if (before && before[1].length === 0)
      throw new Error(`${readmeUrl.pathname}: ts block ${i + 1} is marked not run with no reason`);
    return { index: i + 1, code: m[1], ...(before ? { notRun: before[1] } : {}) };
  });
}

/**
 * The code of every `// README example start` ... `// README example end` region of a test
 * file, in order.
 */
export function markedExamples(source: string): string[] {
  const regions: string[] = [];
  const startMarker = '// README example start\n';
  let from = 0;
  for (;;) {
    const start = source.indexOf(startMarker, from);
    if (start < 0) break;
    const end = source.indexOf('// README example end', start);
    if (end < 0) break;
    regions.push(source.slice(start + startMarker.length, end));
    from = end + 1;
  }
  return regions;
}

/**
 * Whether the code between `// README example start` and `// README example end` in the test
 * file at `testFileUrl` is the README's ```ts block (whitespace-normalized): returns why not, or
 * null. Without `block` the README must have exactly one ```ts block; with `block` (1-based) it
 * is compared with that block of several. A test that runs the README example calls this so
 * the two cannot drift apart.
 */
export function readmeExampleDrift(
  testFileUrl: string,
  readmeUrl: URL,
  { block }: { block?: number } = {},
): string | null {
  const regions = markedExamples(readFileSync(new URL(testFileUrl), 'utf8'));
  if (regions.length === 0) return `${testFileUrl} has no README example markers`;
  if (regions.length > 1) return `${testFileUrl} has ${regions.length} README examples, expected 1`;
  const example = normalizeCode(regions[0]);
  const blocks = readmeTsBlocks(readmeUrl);
  if (block === undefined) {
    if (blocks.length !== 1)
      return `${readmeUrl.pathname} has ${blocks.length} ts blocks, expected 1`;
  } else if (!Number.isInteger(block) || block < 1 || block > blocks.length) {
    return `${readmeUrl.pathname} has ${blocks.length} ts blocks, no block ${block}`;
  }
  const expected = blocks[(block ?? 1) - 1];
  if (expected.notRun !== undefined)
    return `${readmeUrl.pathname}'s ts block ${expected.index} is marked not run`;
  return normalizeCode(expected.code) === example
    ? null
    : `${readmeUrl.pathname}'s example${block ? ` ${block}` : ''} differs from the test's copy`;
}
