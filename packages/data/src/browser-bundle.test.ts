import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A browser bundle that uses the browser-safe API must not pull in Node modules: the Node
// entries (readIdxFile, imageFolderDataset, loadFashionMnist, ...) import them lazily inside
// their bodies, so tree-shaking drops them with the functions.
const here = dirname(fileURLToPath(import.meta.url));
const requireFromTooling = createRequire(
  createRequire(import.meta.url).resolve('@convkit/tooling/package.json'),
);
// esbuild is the tooling package's dependency; only the part used here is typed.
const esbuild = requireFromTooling('esbuild') as {
  build(options: Record<string, unknown>): Promise<{ outputFiles: { text: string }[] }>;
};

async function bundle(names: string[]): Promise<string> {
  const result = await esbuild.build({
    stdin: {
      contents: `import { ${names.join(', ')} } from './index';\nconsole.log(${names.join(', ')});`,
      resolveDir: here,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    treeShaking: true,
    external: ['@tensorflow/*', '@convkit/*', 'node:*', 'pngjs', 'jpeg-js'],
    logLevel: 'silent',
  });
  return result.outputFiles[0].text;
}

describe('browser bundles', () => {
  it('the browser-safe API bundles without node:*, pngjs or jpeg-js', async () => {
    const code = await bundle([
      'DataLoader',
      'syntheticShapesDataset',
      'parseIdx',
      'gunzipBytes',
      'idxDataset',
      'parseCifarBinary',
      'fileListDataset',
      'imageUrlDataset',
      'compose',
      'randomCrop',
      'mixup',
      'stratifiedSplit',
      'channelStats',
    ]);
    expect(code).toMatch(/DataLoader = class/);
    for (const nodeOnly of ['node:fs', 'node:zlib', 'node:crypto', 'pngjs', 'jpeg-js']) {
      expect(code, nodeOnly).not.toContain(nodeOnly);
    }
  });

  it('a Node entry brings its modules along (so the check above is meaningful)', async () => {
    const code = await bundle(['loadFashionMnist', 'imageFolderDataset']);
    expect(code).toContain('node:fs/promises');
    expect(code).toContain('pngjs');
  });
});
