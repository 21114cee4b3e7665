import { measureLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import { expect, it } from 'vitest';
import { trainSegmentation } from './segmentation';

it('U-Net on synthetic shapes: per-pixel cross entropy learns, mean IoU well above chance, no leaks', async () => {
  await useBackend('wasm');
  let result: Awaited<ReturnType<typeof trainSegmentation>> | undefined;
  const report = await measureLeaks(async () => {
    result = await trainSegmentation({ seed: 0 });
  });
  const r = result!;
  expect(report.leakedTensors).toBe(0);
  expect(r.losses[1]).toBeLessThan(r.losses[0] * 0.5);
  // Background everywhere scores ~0.21 (background IoU ~0.8 over 4 present classes).
  expect(r.meanIoU).toBeGreaterThan(0.5);
  expect(r.meanIoU).toBeGreaterThan(r.backgroundOnlyIoU + 0.3);
  expect(r.perClassIoU[0]).toBeGreaterThan(0.9);
  // Every shape class is found at least in part.
  for (const v of r.perClassIoU.slice(1)) expect(v).toBeGreaterThan(0.1);
});
