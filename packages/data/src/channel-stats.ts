import type { Dataset, LabeledImage } from './dataset';

export interface ChannelStats {
  /** Per-channel mean. */
  mean: number[];
  /** Per-channel standard deviation (population; over all pixels of all images). */
  std: number[];
  /** Pixels per channel that were counted. */
  count: number;
}

/**
 * Per-channel mean and standard deviation of a dataset, streaming over its samples: each
 * image's sums are accumulated in float64 and merged with Chan et al.'s parallel update, so
 * memory stays O(channels) and 47M pixels (Fashion-MNIST train) lose no precision. Uint8
 * images count as value / 255 (what the loader feeds the model); pass `scale: 1` for raw.
 * torchvision's numbers for Fashion-MNIST train are 0.2860 / 0.3530.
 */
export async function channelStats(
  dataset: Dataset<LabeledImage>,
  options: { scale?: number; limit?: number } = {},
): Promise<ChannelStats> {
  const n = Math.min(dataset.length, options.limit ?? dataset.length);
  let channels = 0;
  let mean: Float64Array | null = null;
  let m2: Float64Array | null = null;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const sample = dataset.get(i);
    const { image } = sample instanceof Promise ? await sample : sample;
    const c = image.channels;
    if (!mean || !m2) {
      channels = c;
      mean = new Float64Array(c);
      m2 = new Float64Array(c);
    } else if (c !== channels) {
      throw new Error(`channelStats: sample ${i} has ${c} channels, sample 0 has ${channels}`);
    }
    const scale = options.scale ?? (image.data instanceof Float32Array ? 1 : 1 / 255);
    const d = image.data;
    const pixels = d.length / c;
    const sum = new Float64Array(c);
    for (let p = 0; p < d.length; p += c) for (let ch = 0; ch < c; ch++) sum[ch] += d[p + ch];
    const localMean = new Float64Array(c);
    for (let ch = 0; ch < c; ch++) localMean[ch] = sum[ch] / pixels;
    const sq = new Float64Array(c);
    for (let p = 0; p < d.length; p += c) {
      for (let ch = 0; ch < c; ch++) {
        const dv = d[p + ch] - localMean[ch];
        sq[ch] += dv * dv;
      }
    }
    const total = count + pixels;
    for (let ch = 0; ch < c; ch++) {
      const mu = localMean[ch] * scale;
      const delta = mu - mean[ch];
      mean[ch] += (delta * pixels) / total;
      m2[ch] += sq[ch] * scale * scale + (delta * delta * count * pixels) / total;
    }
    count = total;
  }
  if (!mean || !m2 || count === 0) throw new Error('channelStats: the dataset is empty');
  return {
    mean: Array.from(mean),
    std: Array.from(m2, (v) => Math.sqrt(v / count)),
    count,
  };
}
