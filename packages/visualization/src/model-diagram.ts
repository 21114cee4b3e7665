import { type Module, type Shape, summary } from '@convkit/layers';

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
const shapeText = (s: Shape) => `[${s.join(', ')}]`;

export interface ModelDiagramOptions {
  /** Box width in pixels. Default 300. */
  width?: number;
  /** A title above the diagram. Default the model's class name. */
  title?: string;
}

/**
 * The model as an SVG diagram: the input, then one box per leaf module in the order they run
 * (state-dict path, type, output shape, parameters), joined by arrows, and the totals. The
 * rows come from `summary` (@convkit/layers), which runs one forward pass on zeros and leaves
 * no tensors; a branching model is drawn in execution order.
 */
export function modelDiagramSvg(
  model: Module,
  inputShape: Shape,
  options: ModelDiagramOptions = {},
): string {
  const info = summary(model, inputShape);
  const boxW = options.width ?? 300;
  const boxH = 40;
  const gap = 18;
  const margin = 16;
  const title = options.title ?? model.constructor.name;
  const boxes = [
    { head: 'input', sub: shapeText(inputShape), params: 0, fill: '#e8eef7' },
    ...info.rows.map((r) => ({
      head: `${r.path}  ${r.type}`,
      sub: shapeText(r.outputShape),
      params: r.trainableParams + r.nonTrainableParams,
      fill: r.trainableParams + r.nonTrainableParams > 0 ? '#fde9c9' : '#eeeeee',
    })),
  ];
  const top = margin + 28;
  const height = top + boxes.length * (boxH + gap) + 24;
  const width = boxW + 2 * margin;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`,
    '<rect width="100%" height="100%" fill="white"/>',
    `<text x="${width / 2}" y="${margin + 10}" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  boxes.forEach((b, i) => {
    const y = top + i * (boxH + gap);
    parts.push(
      `<rect x="${margin}" y="${y}" width="${boxW}" height="${boxH}" rx="5" fill="${b.fill}" stroke="#555"/>`,
      `<text x="${margin + 8}" y="${y + 16}" font-weight="bold">${escapeXml(b.head)}</text>`,
      `<text x="${margin + 8}" y="${y + 32}">${escapeXml(b.sub)}</text>`,
    );
    if (b.params > 0) {
      parts.push(
        `<text x="${margin + boxW - 8}" y="${y + 32}" text-anchor="end">${b.params.toLocaleString('en-US')} params</text>`,
      );
    }
    if (i > 0) {
      const x = margin + boxW / 2;
      parts.push(
        `<line x1="${x}" y1="${y - gap}" x2="${x}" y2="${y - 4}" stroke="#555"/>`,
        `<path d="M ${x - 4} ${y - 8} L ${x} ${y - 2} L ${x + 4} ${y - 8} Z" fill="#555"/>`,
      );
    }
  });
  const total = info.trainableParams + info.nonTrainableParams;
  parts.push(
    `<text x="${width / 2}" y="${height - 12}" text-anchor="middle">${total.toLocaleString('en-US')} parameters, ${info.multiplyAdds.toLocaleString('en-US')} multiply-adds</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
