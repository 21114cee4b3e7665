// One decoder for uploaded images, used by the page (inspect) and the worker (transfer):
// OffscreenCanvas exists in both.
import type { Pixels } from './protocol';

const SIDE = 28;

/** An uploaded image, decoded and scaled by the browser, as 28x28 grey values in [0, 1]. */
export async function imagePixels(file: Blob): Promise<Pixels> {
  if (!(file instanceof Blob)) throw new Error('expected an image file');
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, {
      resizeWidth: SIDE,
      resizeHeight: SIDE,
      resizeQuality: 'high',
    });
  } catch {
    throw new Error(
      `could not decode ${(file as File).name ?? 'the file'} (${file.type || 'unknown type'}) as an image`,
    );
  }
  const canvas = new OffscreenCanvas(SIDE, SIDE);
  const context = canvas.getContext('2d', {
    willReadFrequently: true,
  }) as OffscreenCanvasRenderingContext2D;
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data: rgba } = context.getImageData(0, 0, SIDE, SIDE);
  const out = new Float32Array(SIDE * SIDE);
  for (let p = 0; p < out.length; p++) {
    out[p] = (0.299 * rgba[4 * p] + 0.587 * rgba[4 * p + 1] + 0.114 * rgba[4 * p + 2]) / 255;
  }
  return out;
}
