// Standing adversarial suite for the data readers: IDX, CIFAR binary and PNG / JPEG bytes,
// crafted, byte-flipped and truncated. Fixed seed, bounded count. Each read either succeeds or
// throws an Error naming the input (never a TypeError / RangeError from inside), within a
// bounded time.
import { RandomSource } from '@convkit/backend';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodeIdx, parseCifarBinary, parseIdx } from './index';

const ITERATIONS = 150;

function mutations(seed: number, original: Uint8Array, count: number): Uint8Array[] {
  const random = new RandomSource(seed);
  const int = (n: number) => random.int(0, Math.max(1, n));
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const bytes = original.slice();
    switch (int(4)) {
      case 0:
        for (let k = 0; k < 1 + int(6); k++) bytes[int(bytes.length)] ^= 1 << int(8);
        out.push(bytes);
        break;
      case 1:
        out.push(bytes.subarray(0, int(bytes.length)));
        break;
      case 2: {
        // Header bytes (sizes, types, dimensions) set to extremes.
        for (let k = 0; k < 1 + int(3); k++)
          bytes[int(Math.min(bytes.length, 32))] = [0, 0xff, 0x7f, 0x80][int(4)];
        out.push(bytes);
        break;
      }
      default:
        out.push(Uint8Array.from([...bytes, ...new Uint8Array(int(64)).fill(int(256))]));
    }
  }
  return out;
}

function expectNamedError(error: unknown, name: string, context: string): void {
  expect(error, context).toBeInstanceOf(Error);
  expect((error as Error).constructor, `${context}: ${String(error)}`).toBe(Error);
  expect((error as Error).message, context).toContain(name);
}

describe('data readers adversarial suite', () => {
  it(`IDX: ${ITERATIONS} mutated files`, () => {
    const original = encodeIdx(
      [4, 5, 6],
      Uint8Array.from({ length: 120 }, (_, i) => i),
    );
    for (const [i, bytes] of mutations(1, original, ITERATIONS).entries()) {
      try {
        parseIdx(bytes, 'fuzz.idx');
      } catch (error) {
        expectNamedError(error, 'fuzz.idx', `IDX iteration ${i}`);
      }
    }
  });

  it(`CIFAR: ${ITERATIONS} mutated batches`, () => {
    const original = Uint8Array.from({ length: 3073 * 2 }, (_, i) =>
      i % 3073 === 0 ? i % 10 : i & 0xff,
    );
    for (const [i, bytes] of mutations(2, original, ITERATIONS).entries()) {
      try {
        parseCifarBinary([bytes], { names: ['fuzz.bin'] });
      } catch (error) {
        expectNamedError(error, 'fuzz.bin', `CIFAR iteration ${i}`);
      }
    }
  });

  it(`PNG and JPEG: ${ITERATIONS} mutated images each, each decode bounded in time`, async () => {
    const pixels = Buffer.alloc(16 * 12 * 4);
    for (let p = 0; p < pixels.length; p++) pixels[p] = (p * 37) & 0xff;
    const png = new Uint8Array(
      PNG.sync.write(Object.assign(new PNG({ width: 16, height: 12 }), { data: pixels })),
    );
    const jpg = new Uint8Array(jpeg.encode({ data: pixels, width: 16, height: 12 }, 80).data);
    let decoded = 0;
    const start = performance.now();
    for (const [kind, original, seed] of [
      ['png', png, 3],
      ['jpeg', jpg, 4],
    ] as const) {
      for (const [i, bytes] of mutations(seed, original, ITERATIONS).entries()) {
        const t0 = performance.now();
        try {
          const image = await decodeImage(bytes, { name: `fuzz.${kind}`, maxPixels: 1_000_000 });
          expect(image.data.length).toBe(image.width * image.height * image.channels);
          decoded += 1;
        } catch (error) {
          expectNamedError(error, `fuzz.${kind}`, `${kind} iteration ${i}`);
        }
        expect(performance.now() - t0, `${kind} iteration ${i}`).toBeLessThan(2000);
      }
    }
    console.log(
      `image adversarial: ${2 * ITERATIONS} inputs, ${decoded} decoded, ${((performance.now() - start) / 1000).toFixed(1)} s`,
    );
  }, 60_000);
});
