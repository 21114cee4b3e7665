// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// biome-ignore-all format: the README example's lines stay as the README writes them.
// Runs the README's third example exactly as written (the code between the two marker comments
// is the README's third ```ts block, checked below so the two cannot drift). The wrapping: the
// example reads resnet18-f37072fd.pth from the working directory, which is not in the
// repository; the committed PyTorch 1.13 checkpoint fixture (fixtures/pth.py: a small CNN's
// state dict under 'model_state_dict', with 'epoch') is copied there under that name.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { afterAll, expect, it } from 'vitest';

const previousDirectory = process.cwd();
const directory = mkdtempSync(join(tmpdir(), 'weights-readme-pth-'));
copyFileSync(
  fileURLToPath(new URL('./__fixtures__/pth-checkpoint.pt', import.meta.url)),
  join(directory, 'resnet18-f37072fd.pth'),
);
process.chdir(directory);

afterAll(() => {
  process.chdir(previousDirectory);
  rmSync(directory, { recursive: true, force: true });
});

// README example start
import { readFile } from 'node:fs/promises';
import '@tensorflow/tfjs-backend-cpu'; // or any tfjs backend: the tensors are created on it
import { readPthFile, readPth, inspectPth } from '@convkit/weights';

// A state dict (torch.save(model.state_dict(), 'model.pth')) or a checkpoint dict: the state
// dict is the top-level dict of tensors, or its 'state_dict' / 'model_state_dict' / 'model'
// entry, or the entry you name with { key }.
const { tensors, dtypes, key, skipped } = await readPthFile('resnet18-f37072fd.pth', {
  stripPrefix: 'module.', // DataParallel checkpoints
});
// tensors are in PyTorch layouts: loadPyTorchStateDict(model, tensors) from @convkit/zoo,
// or convertStateDict(tensors, layouts, { flattenedFrom }) from this package.

// In a browser: readPth(new Uint8Array(await (await fetch(url)).arrayBuffer()))
// The pickled object itself (epoch, optimizer state, ...), tensors not read:
const bytes = new Uint8Array(await readFile('resnet18-f37072fd.pth')); // or fetched bytes
const { root } = inspectPth(bytes); // Map / arrays / numbers / bigint / PthTensor
// README example end

it('the example above is the README example, verbatim', () => {
  expect(
    readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url), { block: 3 }),
  ).toBeNull();
});

it("finds the checkpoint's state dict and the pickled object around it", async () => {
  const expected = (await import('./__fixtures__/pth-checkpoint.json')).default as Record<
    string,
    { shape: number[] }
  >;
  expect(key).toBe('model_state_dict');
  expect(skipped).toEqual([]);
  expect(Object.keys(tensors).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, t] of Object.entries(tensors)) expect(t.shape, name).toEqual(expected[name].shape);
  expect(dtypes['0.weight']).toBe('F32'); // as stored in the file
  expect(root).toBeInstanceOf(Map);
  expect((root as Map<unknown, unknown>).get('epoch')).toBeDefined();
  // readPth on the same bytes reads the same state dict.
  expect(Object.keys(readPth(bytes).tensors).sort()).toEqual(Object.keys(tensors).sort());
});
