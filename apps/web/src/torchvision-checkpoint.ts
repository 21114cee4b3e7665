/**
 * A torchvision checkpoint uploaded to the weights view: PyTorch keys and layouts, either a
 * safetensors file (as `packages/weights/scripts/pth_to_safetensors.py` writes) or a `.pth` zip
 * (read by `@convkit/weights`' restricted unpickler: no pickle code runs). The architecture is
 * detected from the keys (or chosen), a fresh zoo model is built and `loadPyTorchStateDict`
 * fills it: every problem is one error and a failure leaves no model and no tensors behind, so
 * the app's current model is replaced only by a fully loaded one.
 */
import { readPth, readSafetensors } from '@convkit/weights';
import { loadPyTorchStateDict, type ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import { type ModelSpec, modelSpec, TORCHVISION } from './models';

export interface LoadedCheckpoint {
  spec: ModelSpec;
  model: ZooModel;
  numClasses: number;
  keys: number;
  format: 'safetensors' | 'pth';
}

/** Problems listed in one error before the rest are counted. */
const SHOWN_PROBLEMS = 6;

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** The state dict of a safetensors or `.pth` file (PyTorch layouts); the caller disposes it. */
export function readStateDict(
  bytes: Uint8Array,
  file: string,
): { tensors: Record<string, tf.Tensor>; format: 'safetensors' | 'pth' } {
  const zip = ZIP_MAGIC.every((b, i) => bytes[i] === b);
  try {
    return zip
      ? { tensors: readPth(bytes, { file }).tensors, format: 'pth' }
      : { tensors: readSafetensors(bytes, { file }).tensors, format: 'safetensors' };
  } catch (error) {
    throw new Error(
      `${file} is not a readable ${zip ? 'PyTorch .pth' : 'safetensors'} file (expected a safetensors file or a torch.save zip): ${(error as Error).message}`,
    );
  }
}

/** The torchvision architecture whose keys and shapes `shapes` has, and its number of classes. */
export function detectArchitecture(
  shapes: Readonly<Record<string, readonly number[]>>,
  choice = 'auto',
): { spec: ModelSpec; numClasses: number } {
  const keys = Object.keys(shapes);
  const spec =
    choice === 'auto' ? TORCHVISION.find((s) => s.torchvision?.matches(shapes)) : modelSpec(choice);
  if (!spec?.torchvision) {
    throw new Error(
      choice === 'auto'
        ? `the checkpoint's ${keys.length} keys (${keys.slice(0, 4).join(', ')}${keys.length > 4 ? ', ...' : ''}) are not those of ${TORCHVISION.map((s) => s.id).join(' or ')}; pick the architecture, or convert a torchvision checkpoint of one of them`
        : `${choice} is not a torchvision architecture the app loads; expected one of ${TORCHVISION.map((s) => s.id).join(', ')}`,
    );
  }
  const { classifierKey } = spec.torchvision;
  const shape = shapes[classifierKey];
  if (!shape || shape.length < 2 || !(shape[0] > 0)) {
    throw new Error(
      `${spec.id}: the classifier weight ${classifierKey} gives the number of classes; expected a PyTorch shape [classes, ...], received ${shape ? `[${shape.join(', ')}]` : 'no such key'}`,
    );
  }
  return { spec, numClasses: shape[0] };
}

/** `loadPyTorchStateDict`'s error with at most `SHOWN_PROBLEMS` problems listed. */
function shortened(error: Error): Error {
  const [head, ...problems] = error.message.split('\n');
  if (problems.length <= SHOWN_PROBLEMS) return error;
  const shown = problems.slice(0, SHOWN_PROBLEMS).join('\n');
  return new Error(`${head}\n${shown}\n  ... and ${problems.length - SHOWN_PROBLEMS} more`);
}

/**
 * Build the architecture of the checkpoint in `bytes` (or `choice`) and load it. Throws,
 * naming the key and the expected and received shapes, when anything does not fit.
 */
export function loadTorchvisionCheckpoint(
  bytes: Uint8Array,
  file: string,
  choice = 'auto',
): LoadedCheckpoint {
  const { tensors, format } = readStateDict(bytes, file);
  try {
    const shapes = Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.shape]));
    const { spec, numClasses } = detectArchitecture(shapes, choice);
    // The layers' PyTorch defaults: every parameter is overwritten right away.
    const model = spec.build(numClasses, false);
    try {
      loadPyTorchStateDict(model, tensors);
    } catch (error) {
      model.dispose();
      throw shortened(error as Error);
    }
    model.eval();
    return { spec, model, numClasses, keys: Object.keys(tensors).length, format };
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  } finally {
    tf.dispose(Object.values(tensors));
  }
}
