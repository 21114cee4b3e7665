import type { AnyModule } from '@convkit/layers';
import { convertStateDict, type LayoutMap } from '@convkit/weights';
import type * as tf from '@tensorflow/tfjs-core';
import type { AnyZooModel } from './zoo-model';

/**
 * The layout of every state-dict entry of `model` (parameters with their convkit shapes,
 * buffers as `vector` or `scalar`), for `convertStateDict` / `exportStateDict` of
 * `@convkit/weights`.
 */
export function layoutsOf(model: AnyModule): LayoutMap {
  const layouts: LayoutMap = {};
  for (const [key, p] of model.namedParameters())
    layouts[key] = { layout: p.layout, shape: p.shape };
  for (const [key, b] of model.namedBuffers()) {
    if (b.persistent) layouts[key] = b.shape.length === 1 ? 'vector' : 'scalar';
  }
  return layouts;
}

export interface LoadPyTorchOptions {
  /** Missing and unexpected keys are errors (default true), as `loadStateDict`. */
  strict?: boolean;
}

/**
 * Load a PyTorch / torchvision state dict (PyTorch layouts and keys, e.g. read with
 * `readSafetensorsFile` from a file written by `pth_to_safetensors.py`) into a zoo model:
 * converts every tensor to convkit's layout (conv `OIHW -> HWIO`, depthwise `-> HWCM`, linear
 * `(out, in) -> (in, out)`, the CHW -> HWC column order of the linears in
 * `model.info.flattenedFrom`), then `loadStateDict`. Every problem (missing, unexpected,
 * mis-shaped keys) is reported in one error and nothing is written unless everything fits.
 * The input tensors are not disposed.
 */
export function loadPyTorchStateDict(
  model: AnyZooModel,
  pytorchState: Record<string, tf.Tensor>,
  { strict = true }: LoadPyTorchOptions = {},
): { missingKeys: string[]; unexpectedKeys: string[] } {
  const converted = convertStateDict(pytorchState, layoutsOf(model), {
    flattenedFrom: model.info.flattenedFrom,
  });
  try {
    const problems = [
      ...converted.misShaped.map(
        (p) =>
          `${p.key}: expected ${p.expected}, received PyTorch shape [${p.received.join(', ')}]`,
      ),
      ...(strict ? converted.missing.map((k) => `missing key ${k}`) : []),
      ...(strict ? converted.unexpected.map((k) => `unexpected key ${k}`) : []),
    ];
    if (problems.length > 0) {
      throw new Error(
        `${model.info.name}: loadPyTorchStateDict: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`,
      );
    }
    model.loadStateDict(converted.tensors, { strict: false });
    return { missingKeys: converted.missing, unexpectedKeys: converted.unexpected };
  } finally {
    for (const t of Object.values(converted.tensors)) t.dispose();
  }
}
