import { interpolateInferno, interpolateViridis } from 'd3-scale-chromatic';

/** Perceptually uniform colormaps (matplotlib's viridis and inferno), or plain grey. */
export type ColormapName = 'viridis' | 'inferno' | 'gray';

const tables = new Map<ColormapName, Uint8Array>();

/**
 * The 256-entry RGB table of a colormap (`[r0, g0, b0, r1, ...]`). viridis and inferno come
 * from d3-scale-chromatic, which carries matplotlib's published colormap data (van der Walt and
 * Smith, CC0), sampled at i / 255.
 */
export function colormapTable(name: ColormapName): Uint8Array {
  const cached = tables.get(name);
  if (cached) return cached;
  if (name !== 'viridis' && name !== 'inferno' && name !== 'gray') {
    throw new Error(
      `colormap: expected 'viridis', 'inferno' or 'gray'; received ${JSON.stringify(name)}`,
    );
  }
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    if (name === 'gray') {
      table.fill(i, 3 * i, 3 * i + 3);
      continue;
    }
    const hex = (name === 'viridis' ? interpolateViridis : interpolateInferno)(i / 255);
    table[3 * i] = Number.parseInt(hex.slice(1, 3), 16);
    table[3 * i + 1] = Number.parseInt(hex.slice(3, 5), 16);
    table[3 * i + 2] = Number.parseInt(hex.slice(5, 7), 16);
  }
  tables.set(name, table);
  return table;
}
