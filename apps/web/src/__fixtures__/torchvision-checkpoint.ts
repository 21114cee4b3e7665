/**
 * A torchvision-layout checkpoint made at test time, without PyTorch: a zoo model built with a
 * seed, its state dict converted to PyTorch layouts (`exportStateDict`) and written as
 * safetensors, what `pth_to_safetensors.py` writes for a torchvision checkpoint. Also the
 * logits the app must show for it, computed here with the app's own preprocessing.
 */
import { manualSeed } from '@convkit/backend';
import { exportStateDict, readSafetensors, writeSafetensors } from '@convkit/weights';
import { type ZooModel, layoutsOf } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { type ModelSpec, modelInput } from '../models';

/** The model of `spec` with seeded weights, and its state dict in PyTorch layout as safetensors. */
export function seededCheckpoint(
  spec: ModelSpec,
  numClasses: number,
  seed: number,
): { model: ZooModel; bytes: Uint8Array } {
  manualSeed(seed);
  const model = spec.build(numClasses);
  const converted = exportStateDict(model.stateDict(), layoutsOf(model));
  try {
    const problems = [...converted.missing, ...converted.unexpected, ...converted.misShaped];
    if (problems.length > 0) throw new Error(`exportStateDict: ${JSON.stringify(problems)}`);
    return { model, bytes: writeSafetensors(converted.tensors, { format: 'pt' }) };
  } finally {
    tf.dispose(Object.values(converted.tensors));
  }
}

/** Softmax probabilities of `model` for one 28x28 image in [0, 1], preprocessed as the app does. */
export async function probabilitiesOf(
  spec: ModelSpec,
  model: ZooModel,
  pixels: Float32Array,
): Promise<number[]> {
  model.eval();
  const x = modelInput(spec, pixels, 1);
  const p = tf.tidy(() => tf.softmax(model.forward(x) as tf.Tensor));
  const values = Array.from(await p.data());
  tf.dispose([x, p]);
  return values;
}

/** The checkpoint with the tensor at `key` replaced by zeros of `shape` (a mis-shaped file). */
export function misShapedCheckpoint(bytes: Uint8Array, key: string, shape: number[]): Uint8Array {
  const { tensors } = readSafetensors(bytes);
  try {
    if (!tensors[key]) throw new Error(`misShapedCheckpoint: no key ${key}`);
    tensors[key].dispose();
    tensors[key] = tf.zeros(shape);
    return writeSafetensors(tensors, { format: 'pt' });
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
