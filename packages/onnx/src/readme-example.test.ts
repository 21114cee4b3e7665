// biome-ignore-all assist/source/organizeImports: the README example's imports stay verbatim.
// Runs the README's example exactly as written (the code between the two marker comments is
// the README's ```ts block, checked below so the two cannot drift) and checks its results.
import { readmeExampleDrift } from '@convkit/tooling/readme-example';
import { memory } from '@tensorflow/tfjs-core';
import { expect, it, vi } from 'vitest';

const log = vi.spyOn(console, 'log').mockImplementation(() => {});

// README example start
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@convkit/backend';
import { createOnnxSession, exportOnnx, readOnnxModel } from '@convkit/onnx';
import { resnet18 } from '@convkit/zoo';

await selectBackend();
const model = resnet18({ numClasses: 10 }).eval();
const bytes = await exportOnnx(model, { inputShape: [1, 64, 64, 3] }); // convkit's NHWC shape
console.log(readOnnxModel(bytes).inputs); // [{ name: 'input', shape: ['N', 3, 64, 64] }]: NCHW, as torchvision's export

const engine = await createOnnxSession(bytes); // onnxruntime-node in Node, onnxruntime-web in a browser
const x = tf.randomUniform([8, 64, 64, 3]);
const logits = await engine.predict(x); // [8, 10], the same as model.forward(x)
console.log(logits.shape);
await engine.dispose();
tf.dispose([x, logits]);
// README example end

const printed = log.mock.calls.map((call) => call[0]);
log.mockRestore();

it('the README example is the README block', () => {
  expect(readmeExampleDrift(import.meta.url, new URL('../README.md', import.meta.url))).toBeNull();
});

it('prints the NCHW input and the logits shape, and frees its tensors', () => {
  expect(printed[0]).toEqual([{ name: 'input', shape: ['N', 3, 64, 64] }]);
  expect(printed[1]).toEqual([8, 10]);
  // Only the model's own variables remain (this file runs in its own process).
  const own = model.namedParameters().length + model.namedBuffers().length;
  expect(memory().numTensors).toBe(own);
  model.dispose();
});
