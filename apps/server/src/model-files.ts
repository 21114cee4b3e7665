import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Module } from '@convkit/layers';
import { CHECKPOINT_MANIFEST, loadCheckpoint } from '@convkit/train';
import { ZOO_MODULE_TYPES, type ZooModel } from '@convkit/zoo';

/** A trained model and what inference needs to feed it. */
export interface LoadedModel {
  /** The name it is served under (the run directory's name unless given). */
  name: string;
  /** The checkpoint directory it came from. */
  dir: string;
  model: Module;
  /** The zoo factory (`lenet5`) when known. */
  architecture: string;
  classNames: string[];
  /** `[H, W, C]` the model takes. */
  inputSize: [number, number, number];
  mean: number[];
  std: number[];
  epoch: number;
  parameters: number;
}

/**
 * The checkpoint directory for `dir`: `dir` itself when it holds `checkpoint.json`, else a run
 * directory's `checkpoint/best`, then `checkpoint/last`, then `best` / `last`.
 */
export function resolveCheckpointDir(dir: string): string {
  const candidates = [
    dir,
    join(dir, 'checkpoint', 'best'),
    join(dir, 'checkpoint', 'last'),
    join(dir, 'best'),
    join(dir, 'last'),
  ];
  const found = candidates.find((d) => existsSync(join(d, CHECKPOINT_MANIFEST)));
  if (!found) {
    throw new Error(
      `'${dir}' holds no checkpoint: expected ${CHECKPOINT_MANIFEST} in it or in checkpoint/best, checkpoint/last, best or last`,
    );
  }
  return resolve(found);
}

/**
 * Rebuild a model from a checkpoint (any zoo model or layer stack, through the zoo's module
 * registry), with its class names and preprocessing from the manifest (written by `convkit
 * train`), else from the zoo model's `info`.
 */
export async function loadModelDir(dir: string, name?: string): Promise<LoadedModel> {
  const checkpointDir = resolveCheckpointDir(dir);
  const loaded = await loadCheckpoint(checkpointDir, {
    moduleTypes: ZOO_MODULE_TYPES,
    restoreRandom: false,
  });
  const model = loaded.model as Module;
  model.eval();
  const extra = (loaded.manifest.extra ?? {}) as Record<string, unknown>;
  const info = (model as unknown as Partial<ZooModel>).info;
  const inputSize =
    (extra.inputSize as [number, number, number] | undefined) ??
    (info ? ([...info.inputSize] as [number, number, number]) : undefined);
  if (!inputSize) {
    model.dispose();
    throw new Error(
      `${join(checkpointDir, CHECKPOINT_MANIFEST)}: no input size (extra.inputSize) and the model is not a zoo model`,
    );
  }
  const outputs = model.outputShape([1, ...inputSize]).at(-1) ?? 0;
  const classNames =
    (extra.classNames as string[] | undefined) ??
    Array.from({ length: outputs }, (_, i) => String(i));
  const channels = inputSize[2];
  const stats = (value: unknown, fallback: readonly number[] | undefined, neutral: number) => {
    const v = (value as number[] | undefined) ?? fallback ?? [neutral];
    return v.length === 1 ? new Array(channels).fill(v[0]) : [...v];
  };
  const runName =
    basename(resolve(dir)) === 'best' || basename(resolve(dir)) === 'last'
      ? basename(resolve(dir, '..', '..'))
      : basename(resolve(dir));
  return {
    name: name ?? runName,
    dir: checkpointDir,
    model,
    architecture: (extra.model as string | undefined) ?? info?.name ?? model.constructor.name,
    classNames,
    inputSize,
    mean: stats(extra.mean, info?.mean, 0),
    std: stats(extra.std, info?.std, 1),
    epoch: loaded.epoch,
    parameters: Object.values(model.stateDict()).reduce((n, t) => n + t.size, 0),
  };
}
