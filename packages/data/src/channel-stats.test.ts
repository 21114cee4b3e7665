import { describe, expect, it } from 'vitest';
import { channelStats, type Dataset, InMemoryDataset, type LabeledImage } from './index';

describe('channelStats', () => {
  it('matches a direct two-pass computation, per channel, uint8 scaled by 1/255', async () => {
    const n = 7;
    const images = Uint8Array.from({ length: n * 5 * 3 * 2 }, (_, i) => (i * 37) % 256);
    const ds = new InMemoryDataset({ images, shape: [n, 5, 3, 2], labels: new Array(n).fill(0) });
    const stats = await channelStats(ds);
    for (let c = 0; c < 2; c++) {
      const values = Array.from(
        images.filter((_, i) => i % 2 === c),
        (v) => v / 255,
      );
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      expect(stats.mean[c]).toBeCloseTo(mean, 12);
      expect(stats.std[c]).toBeCloseTo(std, 12);
    }
    expect(stats.count).toBe(n * 15);
  });

  it('streams async datasets and keeps precision for large offsets (float64, merged moments)', async () => {
    const ds: Dataset<LabeledImage> = {
      length: 1000,
      get: async (i) => ({
        image: {
          data: Float32Array.from([1000 + (i % 2), 1000 - (i % 2)]),
          height: 1,
          width: 2,
          channels: 1,
        },
        label: 0,
      }),
    };
    const stats = await channelStats(ds);
    expect(stats.mean[0]).toBeCloseTo(1000, 10);
    expect(stats.std[0]).toBeCloseTo(Math.SQRT1_2, 10); // values 1000, 1000, 1001, 999
    await expect(
      channelStats({
        length: 0,
        get: () => {
          throw new Error();
        },
      }),
    ).rejects.toThrow(/empty/);
  });
});
