import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@convkit/tooling/testing';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { convkit, expectBuiltCli } from './__fixtures__/built-cli';
import { pngOf, writeLenetCheckpoint } from './__fixtures__/served-model';

let dir: string;
beforeAll(async () => {
  expectBuiltCli();
  await useBackend('cpu');
  dir = await mkdtemp(join(tmpdir(), 'convkit-explain-cli-'));
  await writeLenetCheckpoint(join(dir, 'model'));
  await writeFile(join(dir, 'a.png'), pngOf(1));
  await writeFile(join(dir, 'b.png'), pngOf(7));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('convkit explain writes Grad-CAM and saliency PNGs and refuses a bad layer or class', async () => {
  const out = join(dir, 'out');
  const cam = await convkit(
    'explain',
    join(dir, 'model'),
    join(dir, 'a.png'),
    join(dir, 'b.png'),
    '-o',
    out,
    '--target',
    '2',
    '--backend',
    'wasm',
    '--json',
  );
  expect(cam.code, cam.stderr).toBe(0);
  const result = JSON.parse(cam.stdout);
  expect(result.results).toHaveLength(2);
  expect(result.results[0]).toMatchObject({
    method: 'gradcam',
    layer: 'features.4',
    target: 2,
    label: 'Pullover',
    height: 28,
    width: 28,
  });
  const png = PNG.sync.read(await readFile(join(out, 'a.gradcam.png')));
  expect([png.width, png.height]).toEqual([224, 224]);
  // The heatmap is blended in: the PNG is not the grey input (some pixel has R != B).
  let coloured = 0;
  for (let p = 0; p < png.data.length; p += 4) if (png.data[p] !== png.data[p + 2]) coloured++;
  expect(coloured).toBeGreaterThan(0);

  const sal = await convkit(
    'explain',
    join(dir, 'model'),
    join(dir, 'a.png'),
    '-o',
    out,
    '--method',
    'saliency',
    '--min-side',
    '56',
  );
  expect(sal.code, sal.stderr).toBe(0);
  expect(sal.stdout).toMatch(/a\.png: saliency for \S+/);
  expect(PNG.sync.read(await readFile(join(out, 'a.saliency.png'))).width).toBe(56);

  const layer = await convkit('explain', join(dir, 'model'), join(dir, 'a.png'), '--layer', 'x.1');
  expect(layer.code).toBe(1);
  expect(layer.stderr).toMatch(/layer 'x\.1' .* valid layers: features\.0, features\.1/);
  const target = await convkit('explain', join(dir, 'model'), join(dir, 'a.png'), '--target', '10');
  expect(target.code).toBe(1);
  expect(target.stderr).toMatch(/target class 10 is out of range .*\[0, 9\]/);
}, 120_000);
