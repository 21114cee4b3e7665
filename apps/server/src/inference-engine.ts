import { availableParallelism } from 'node:os';
import { isMissingPackage } from '@convkit/backend';
import { createOnnxSession, exportOnnx, type OnnxEngine, type OnnxRuntime } from '@convkit/onnx';
import { batchTensor, predictProbabilities, softmaxRows } from './inference';
import type { LoadedModel } from './model-files';

/** `--engine`: what runs the forward pass of `predict` and `serve`. */
export const ENGINES = ['tfjs', 'onnxruntime'] as const;
export type EngineName = (typeof ENGINES)[number];

/**
 * One model's inference, whatever runs it: `predict` and the server's batcher call only this,
 * so neither branches on the engine. Inputs are preprocessed `[H, W, C]` images (NHWC,
 * normalized with the model's mean / std), outputs the softmax of the logits, one row each.
 */
export interface InferenceEngine {
  readonly engine: EngineName;
  /** A short description for logs (`onnxruntime (2 threads)`). */
  readonly description: string;
  predictProbabilities(inputs: readonly Float32Array[]): Promise<Float32Array[]>;
  /** Release what the engine holds beyond the model (the tfjs model stays its owner's). */
  dispose(): Promise<void>;
}

/** Builds the engine of one loaded model. */
export type EngineFactory = (model: LoadedModel) => Promise<InferenceEngine>;

export interface EngineOptions {
  engine: EngineName;
  /** onnxruntime's threads per operator; default: every core (`os.availableParallelism()`). */
  threads?: number;
  /** Imports onnxruntime-node (tests replace it to simulate a missing package). */
  importRuntime?: () => Promise<unknown>;
}

const RUNTIME_PACKAGE = 'onnxruntime-node';

/** The message for a missing onnxruntime-node: what is missing and how to install it. */
export const MISSING_RUNTIME_MESSAGE = `--engine onnxruntime needs the package ${RUNTIME_PACKAGE}, which is not installed; install it beside the convkit server with \`pnpm add ${RUNTIME_PACKAGE}\` (its CPU binary ships inside the package; pnpm skips its install script, which only fetches optional CUDA parts), or run with --engine tfjs`;

/** The tfjs engine: the model's own forward pass on the selected tfjs backend. */
export function tfjsEngine(model: LoadedModel): InferenceEngine {
  return {
    engine: 'tfjs',
    description: 'tfjs',
    predictProbabilities: (inputs) => predictProbabilities(model, inputs),
    // The model belongs to the LoadedModel (explain uses it too); nothing else is held.
    dispose: async () => {},
  };
}

/**
 * Choose the engine once, before any model loads: for onnxruntime, load onnxruntime-node now
 * so that a missing package stops the command at start. Returns the factory of each model's
 * engine.
 */
export async function prepareEngine(options: EngineOptions): Promise<EngineFactory> {
  if (options.engine === 'tfjs') return async (model) => tfjsEngine(model);
  const runtime = await loadRuntime(options.importRuntime ?? (() => import(RUNTIME_PACKAGE)));
  const threads = options.threads ?? availableParallelism();
  return (model) => onnxruntimeEngine(model, runtime, threads);
}

/** onnxruntime-node's module, or an error that says what is missing and how to install it. */
async function loadRuntime(importRuntime: () => Promise<unknown>): Promise<OnnxRuntime> {
  let module: Partial<OnnxRuntime> & { default?: OnnxRuntime };
  try {
    module = (await importRuntime()) as typeof module;
  } catch (error) {
    if (isMissingPackage(error, RUNTIME_PACKAGE)) throw new Error(MISSING_RUNTIME_MESSAGE);
    throw new Error(
      `--engine onnxruntime: loading ${RUNTIME_PACKAGE} failed: ${(error as Error).message}`,
    );
  }
  // onnxruntime-node is CommonJS: its exports are named, or only on `default`.
  const runtime = module.InferenceSession ? (module as OnnxRuntime) : module.default;
  if (!runtime?.InferenceSession || !runtime.Tensor) {
    throw new Error(
      `--engine onnxruntime: ${RUNTIME_PACKAGE} has no InferenceSession / Tensor exports; expected onnxruntime-node 1.20 or later`,
    );
  }
  return runtime;
}

/**
 * The onnxruntime engine: the model exported to ONNX in memory (`exportOnnx`, BatchNorm with
 * its running statistics, a symbolic batch axis), run by an onnxruntime-node session. The
 * session's `predict` moves convkit's NHWC batch to the graph's NCHW input; softmax and the
 * read-back are the tfjs engine's.
 */
async function onnxruntimeEngine(
  model: LoadedModel,
  runtime: OnnxRuntime,
  threads: number,
): Promise<InferenceEngine> {
  const what = `model '${model.name}' (${model.architecture})`;
  let bytes: Uint8Array;
  try {
    bytes = await exportOnnx(model.model, { inputShape: [1, ...model.inputSize] });
  } catch (error) {
    throw new Error(
      `--engine onnxruntime: ${what} cannot be exported to ONNX: ${(error as Error).message}; run it with --engine tfjs`,
    );
  }
  let session: OnnxEngine;
  try {
    session = await createOnnxSession(bytes, { runtime, threads });
  } catch (error) {
    throw new Error(
      `--engine onnxruntime: onnxruntime-node could not load the ONNX export of ${what}: ${(error as Error).message}`,
    );
  }
  return {
    engine: 'onnxruntime',
    description: `onnxruntime (${threads} thread${threads === 1 ? '' : 's'})`,
    async predictProbabilities(inputs) {
      const x = batchTensor(model, inputs);
      try {
        return await softmaxRows(await session.predict(x));
      } finally {
        x.dispose();
      }
    },
    dispose: () => session.dispose(),
  };
}
