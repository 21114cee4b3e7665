import { importOptional, isMissingPackage } from '@convkit/backend';
import * as tf from '@tensorflow/tfjs-core';
import { importPeer } from './internal/import-peer';
import { type OnnxModelInfo, readOnnxModel } from './read-onnx-model';

/** The part of onnxruntime's API (onnxruntime-node or onnxruntime-web) the engine uses. */
export interface OnnxRuntime {
  InferenceSession: {
    create(model: Uint8Array, options?: Record<string, unknown>): Promise<OnnxRuntimeSession>;
  };
  Tensor: new (type: 'float32', data: Float32Array, dims: readonly number[]) => unknown;
}

export interface OnnxRuntimeSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(
    feeds: Record<string, unknown>,
  ): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release(): Promise<void>;
}

export interface OnnxSessionOptions {
  /** The runtime module; default: `onnxruntime-node` in Node, `onnxruntime-web` in a browser. */
  runtime?: OnnxRuntime;
  /** Threads for one operator (onnxruntime's intraOpNumThreads). Default: onnxruntime's choice (all cores). */
  threads?: number;
  /** onnxruntime execution providers, e.g. `['cpu']` or `['wasm']`. Default: the runtime's. */
  executionProviders?: string[];
}

/** Which onnxruntime package serves this platform. */
export function onnxRuntimePackage(): 'onnxruntime-node' | 'onnxruntime-web' {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  return isNode ? 'onnxruntime-node' : 'onnxruntime-web';
}

/**
 * Load onnxruntime for this platform (`onnxruntime-node` in Node, `onnxruntime-web` in a
 * browser), an optional peer dependency; fails naming the package when it is not installed.
 */
export async function loadOnnxRuntime(
  packageName: 'onnxruntime-node' | 'onnxruntime-web' = onnxRuntimePackage(),
): Promise<OnnxRuntime> {
  let module: OnnxRuntime & { default?: OnnxRuntime };
  try {
    module = await importPeer(packageName);
  } catch (error) {
    if (isMissingPackage(error, packageName)) {
      throw new Error(
        `@convkit/onnx: the ONNX engine needs the optional peer dependency ${packageName}, which is not installed; run \`npm install ${packageName}\`${packageName === 'onnxruntime-node' ? ' (its CPU binary ships inside the package; the install script only fetches optional CUDA parts and may be skipped)' : ''}`,
      );
    }
    throw new Error(`@convkit/onnx: loading ${packageName} failed: ${(error as Error).message}`);
  }
  const runtime = module.InferenceSession ? module : module.default;
  if (!runtime?.InferenceSession || !runtime.Tensor) {
    throw new Error(`@convkit/onnx: ${packageName} has no InferenceSession / Tensor exports`);
  }
  return runtime;
}

/**
 * An ONNX model loaded into onnxruntime, for inference on convkit tensors: `predict` takes and
 * returns tensors in convkit's layout (NHWC maps), converting to and from the file's NCHW;
 * `run` works on the file's own layout.
 */
export class OnnxEngine {
  private released = false;

  private constructor(
    private readonly runtime: OnnxRuntime,
    private readonly session: OnnxRuntimeSession,
    /** The file's structure and layouts. */
    readonly info: OnnxModelInfo,
  ) {}

  /** Load `model` (the file's bytes, or in Node a path to it) into onnxruntime. */
  static async create(
    model: Uint8Array | string,
    options: OnnxSessionOptions = {},
  ): Promise<OnnxEngine> {
    let bytes: Uint8Array;
    if (typeof model === 'string') {
      const { readFile } =
        await importOptional<typeof import('node:fs/promises')>('node:fs/promises');
      bytes = new Uint8Array(await readFile(model));
    } else if (model instanceof Uint8Array) {
      bytes = model;
    } else {
      throw new Error(
        `createOnnxSession: expected the model's bytes (Uint8Array) or a file path, received ${typeof model}`,
      );
    }
    const info = readOnnxModel(bytes);
    if (info.inputs.length !== 1 || info.outputs.length !== 1) {
      throw new Error(
        `createOnnxSession: expected a model with one input and one output, received ${info.inputs.length} inputs and ${info.outputs.length} outputs`,
      );
    }
    const { threads, executionProviders } = options;
    if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) {
      throw new Error(
        `createOnnxSession: expected threads to be a positive integer, received ${threads}`,
      );
    }
    const runtime = options.runtime ?? (await loadOnnxRuntime());
    const session = await runtime.InferenceSession.create(bytes, {
      graphOptimizationLevel: 'all',
      ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
      ...(executionProviders ? { executionProviders } : {}),
    });
    return new OnnxEngine(runtime, session, info);
  }

  /** Run on the file's layout: `data` with `dims` (NCHW for an image input). */
  async run(
    data: Float32Array,
    dims: readonly number[],
  ): Promise<{ data: Float32Array; dims: number[] }> {
    if (this.released) throw new Error('OnnxEngine.run: the session was disposed');
    const expected = this.info.inputs[0].shape;
    const bad =
      dims.length !== expected.length ||
      dims.some((d, i) => typeof expected[i] === 'number' && expected[i] !== d);
    if (bad || data.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(
        `OnnxEngine.run: expected input ${this.info.inputs[0].name} of shape [${expected}], received ${data.length} values of shape [${dims}]`,
      );
    }
    const feeds = { [this.session.inputNames[0]]: new this.runtime.Tensor('float32', data, dims) };
    const results = await this.session.run(feeds);
    const out = results[this.session.outputNames[0]];
    return { data: out.data as Float32Array, dims: [...out.dims] };
  }

  /**
   * The model's output for a convkit input (`[N, H, W, C]` for images), as a new tensor in
   * convkit's layout; the caller disposes it.
   */
  async predict(x: tf.Tensor): Promise<tf.Tensor> {
    const nchw = this.info.inputLayout === 'NCHW' && x.rank === 4;
    const moved = nchw ? tf.transpose(x, [0, 3, 1, 2]) : x;
    const data = (await moved.data()) as Float32Array;
    const dims = moved.shape;
    if (moved !== x) moved.dispose();
    const out = await this.run(data, dims);
    if (this.info.outputLayout === 'NCHW' && out.dims.length === 4) {
      return tf.tidy(() => tf.transpose(tf.tensor(out.data, out.dims, 'float32'), [0, 2, 3, 1]));
    }
    return tf.tensor(out.data, out.dims, 'float32');
  }

  /** Release onnxruntime's session. */
  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/** `OnnxEngine.create`: load an ONNX model into onnxruntime. */
export function createOnnxSession(
  model: Uint8Array | string,
  options?: OnnxSessionOptions,
): Promise<OnnxEngine> {
  return OnnxEngine.create(model, options);
}
