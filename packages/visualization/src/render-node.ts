import { writeFileAtomic } from '@convkit/backend';
import { encodePng, type RgbaImage } from './image';
import { importPeer } from './internal/node';

type Resvg = typeof import('@resvg/resvg-js');

export interface SvgToPngOptions {
  /** Output width in pixels (height keeps the aspect ratio). Default the SVG's own width. */
  width?: number;
  /** Default 'white'. */
  background?: string;
}

/**
 * Render SVG (charts, labelled grids, model diagrams) to PNG bytes in Node with resvg
 * (`@resvg/resvg-js`, an optional peer that ships its binary in the npm package); text uses
 * the system fonts (DejaVu Sans / Liberation on Debian).
 */
export async function svgToPng(svg: string, options: SvgToPngOptions = {}): Promise<Uint8Array> {
  let resvg: Resvg;
  try {
    resvg = await importPeer<Resvg>('@resvg/resvg-js');
  } catch {
    throw new Error(
      'svgToPng: the optional peer @resvg/resvg-js is not installed (npm install @resvg/resvg-js)',
    );
  }
  const renderer = new resvg.Resvg(svg, {
    background: options.background ?? 'white',
    fitTo: options.width ? { mode: 'width', value: options.width } : { mode: 'original' },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return new Uint8Array(renderer.render().asPng());
}

/** Write the image as a PNG file, atomically (Node). */
export async function writePng(file: string, image: RgbaImage): Promise<void> {
  await writeFileAtomic(file, encodePng(image));
}
