import { measureLeaks } from '@convkit/backend';
import { useBackend } from '@convkit/tooling/testing';
import { expect, it } from 'vitest';
import { trainMultiLabel } from './multi-label';

it('multi-label shapes: BCE-with-logits learns, thresholds tuned on validation, no leaks', async () => {
  await useBackend('wasm');
  let result: Awaited<ReturnType<typeof trainMultiLabel>> | undefined;
  const report = await measureLeaks(async () => {
    result = await trainMultiLabel({ seed: 0 });
  });
  const r = result!;
  expect(report.leakedTensors).toBe(0);
  expect(r.losses[1]).toBeLessThan(r.losses[0] * 0.7);
  // Chance: each class is present in 1/2 of the images (2 of 4 shapes on average); always
  // answering "present" scores F1 = 2/3 and a coin flip 1/2. Every class must beat that.
  for (const f of r.perClassF1) expect(f).toBeGreaterThan(0.72);
  expect(r.macroF1).toBeGreaterThan(0.78);
  // Thresholds chosen on validation data beat one threshold of 0.5 on the test data.
  expect(r.macroF1).toBeGreaterThan(r.macroF1At05);
  expect(r.thresholds.every((t) => t > 0 && t < 1)).toBe(true);
});
