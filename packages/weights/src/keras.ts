/**
 * Keras / tfjs-layers weight names to PyTorch-style state-dict keys. Keras kernels are already in
 * convkit's layouts (Conv2D `[kh, kw, in, out]` = HWIO, DepthwiseConv2D `[kh, kw, C, M]` = HWCM,
 * Conv2DTranspose `[kh, kw, out, in]` = HWOI, Dense `[in, out]` = IO, and a Dense after Flatten
 * already reads NHWC order), so only the names change.
 */

/** Keras variable name -> PyTorch parameter / buffer name. Extend or override per call. */
export const KERAS_SUFFIXES: Readonly<Record<string, string>> = {
  kernel: 'weight',
  depthwise_kernel: 'weight',
  bias: 'bias',
  gamma: 'weight',
  beta: 'bias',
  moving_mean: 'running_mean',
  moving_variance: 'running_var',
  embeddings: 'weight',
};

export interface KerasNameOptions {
  /**
   * Keras layer name (or full `outer/inner` path) -> PyTorch module path (`conv2d_1` ->
   * `features.3`), or a function. Unmapped layers keep their name, `/` becoming `.`.
   */
  layers?: Record<string, string> | ((layerPath: string) => string | undefined);
  /** Extra or overriding variable-name mappings (merged over `KERAS_SUFFIXES`). */
  suffixes?: Record<string, string>;
  /** Final say: receives the mapped key and the original name; return null to drop the weight. */
  rename?: (key: string, kerasName: string) => string | null;
}

/**
 * Map one Keras weight name (`block1_conv1/kernel:0`, `sequential/dense/bias`,
 * `batch_normalization/moving_variance:0`) to a state-dict key (`block1_conv1.weight`, ...),
 * or null when `rename` drops it. Throws when the variable name has no mapping.
 */
export function kerasNameToKey(name: string, options: KerasNameOptions = {}): string | null {
  const clean = name.replace(/:\d+$/, '');
  const parts = clean.split('/');
  const variable = parts.pop() as string;
  const suffixes = { ...KERAS_SUFFIXES, ...options.suffixes };
  if (!Object.hasOwn(suffixes, variable)) {
    throw new Error(
      `Keras weight ${JSON.stringify(name)}: no mapping for variable ${JSON.stringify(variable)} (known: ${Object.keys(suffixes).join(', ')}); pass options.suffixes`,
    );
  }
  const layerPath = parts.join('/');
  let module: string | undefined;
  const { layers } = options;
  if (typeof layers === 'function') module = layers(layerPath);
  else if (layers) {
    module = Object.hasOwn(layers, layerPath)
      ? layers[layerPath]
      : parts.length > 0 && Object.hasOwn(layers, parts[parts.length - 1])
        ? layers[parts[parts.length - 1]]
        : undefined;
  }
  module ??= parts.join('.');
  const key = module ? `${module}.${suffixes[variable]}` : suffixes[variable];
  return options.rename ? options.rename(key, name) : key;
}

/**
 * Rename a whole set of Keras weights (`model.getWeights()` names, or a tfjs model.json's
 * manifest names) to state-dict keys. Two weights mapping to one key is an error.
 */
export function mapKerasNames<T>(
  weights: Record<string, T>,
  options: KerasNameOptions = {},
): { mapped: Record<string, T>; dropped: string[] } {
  const mapped: Record<string, T> = {};
  const from = new Map<string, string>();
  const dropped: string[] = [];
  for (const [name, value] of Object.entries(weights)) {
    const key = kerasNameToKey(name, options);
    if (key === null) {
      dropped.push(name);
      continue;
    }
    if (from.has(key)) {
      throw new Error(
        `Keras weights ${JSON.stringify(from.get(key))} and ${JSON.stringify(name)} both map to ${JSON.stringify(key)}`,
      );
    }
    from.set(key, name);
    Object.defineProperty(mapped, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return { mapped, dropped };
}
