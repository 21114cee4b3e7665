import { exportStateDict, saveModelDirectory, saveSafetensorsFile } from '@convkit/weights';
import { layoutsOf, type ZooModel } from '@convkit/zoo';
import * as tf from '@tensorflow/tfjs-core';
import type { LoadedModel } from './model-files';

export const EXPORT_FORMATS = ['safetensors', 'pytorch', 'tfjs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Write a loaded model's weights:
 * - `safetensors`: convkit's keys and layouts (conv HWIO, linear `[in, out]`), one file;
 * - `pytorch`: the same keys in PyTorch's layouts (OIHW, `(out, in)`, CHW flatten order), a
 *   safetensors file `torch`'s `load_state_dict` takes after `safetensors.torch.load_file`;
 * - `tfjs`: a `model.json` with weight shards, in directory `out`.
 * Metadata (architecture, classes, mean / std, input size) goes into the file's metadata or
 * `model.json`'s `convkit` field. Returns the paths written.
 */
export async function exportModel(
  loaded: LoadedModel,
  out: string,
  format: ExportFormat,
): Promise<string[]> {
  const state = loaded.model.stateDict();
  // Read everything back asynchronously first (no synchronous GPU read-back in the writers).
  await Promise.all(Object.values(state).map((t) => t.data()));
  const meta = {
    architecture: loaded.architecture,
    classNames: loaded.classNames,
    inputSize: loaded.inputSize,
    mean: loaded.mean,
    std: loaded.std,
    modelJson: loaded.model.toJSON(),
  };
  const metadata = {
    convkit: JSON.stringify(meta),
  };
  switch (format) {
    case 'safetensors':
      await saveSafetensorsFile(out, state, { ...metadata, layout: 'convkit' });
      return [out];
    case 'pytorch': {
      const info = (loaded.model as unknown as Partial<ZooModel>).info;
      const { tensors } = exportStateDict(state, layoutsOf(loaded.model), {
        flattenedFrom: info ? { ...info.flattenedFrom } : undefined,
        strict: true,
      });
      try {
        await Promise.all(Object.values(tensors).map((t) => t.data()));
        await saveSafetensorsFile(out, tensors, { ...metadata, format: 'pt', layout: 'pytorch' });
      } finally {
        tf.dispose(Object.values(tensors));
      }
      return [out];
    }
    case 'tfjs': {
      const modelJson = await saveModelDirectory(out, state, { convkit: meta });
      const shards = modelJson.weightsManifest.flatMap((g) => g.paths);
      return ['model.json', ...shards].map((p) => `${out}/${p}`);
    }
  }
}
