/**
 * Line charts on a plain 2d canvas: a few series of numbers, redrawn as points arrive. A chart
 * library would add a dependency (and, for @convkit/visualization's Vega-Lite specs, the vega
 * runtime, about a megabyte) for two axes and a few polylines.
 */
export interface Series {
  label: string;
  color: string;
  points: { x: number; y: number }[];
}

export function drawChart(
  canvas: HTMLCanvasElement,
  series: Series[],
  options: { yMin?: number; yMax?: number; xLabel: string },
): void {
  const context = canvas.getContext('2d');
  if (!context) return;
  const { width, height } = canvas;
  const pad = { left: 48, right: 12, top: 24, bottom: 30 };
  context.fillStyle = '#ffffff';
  context.fillRect(0, 0, width, height);
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  const xMax = Math.max(1, ...all.map((p) => p.x));
  let yMin = options.yMin ?? Math.min(...all.map((p) => p.y));
  let yMax = options.yMax ?? Math.max(...all.map((p) => p.y));
  if (!Number.isFinite(yMin) || !Number.isFinite(yMax)) [yMin, yMax] = [0, 1];
  if (yMax === yMin) yMax = yMin + 1;
  const px = (x: number) => pad.left + (x / xMax) * (width - pad.left - pad.right);
  const py = (y: number) =>
    height - pad.bottom - ((y - yMin) / (yMax - yMin)) * (height - pad.top - pad.bottom);

  context.strokeStyle = '#555';
  context.fillStyle = '#222';
  context.font = '11px system-ui, sans-serif';
  context.beginPath();
  context.moveTo(pad.left, pad.top);
  context.lineTo(pad.left, height - pad.bottom);
  context.lineTo(width - pad.right, height - pad.bottom);
  context.stroke();
  for (let i = 0; i <= 4; i++) {
    const y = yMin + ((yMax - yMin) * i) / 4;
    context.fillText(y.toPrecision(3), 4, py(y) + 4);
    context.strokeStyle = '#e4e4e4';
    context.beginPath();
    context.moveTo(pad.left + 1, py(y));
    context.lineTo(width - pad.right, py(y));
    context.stroke();
  }
  context.fillText(`0`, pad.left - 3, height - pad.bottom + 14);
  context.fillText(`${xMax} ${options.xLabel}`, width - pad.right - 90, height - pad.bottom + 14);

  let legendX = pad.left;
  for (const s of series) {
    context.strokeStyle = s.color;
    context.lineWidth = 1.5;
    context.beginPath();
    for (const [i, p] of s.points.entries()) {
      if (i === 0) context.moveTo(px(p.x), py(p.y));
      else context.lineTo(px(p.x), py(p.y));
    }
    context.stroke();
    if (s.points.length === 1) context.fillRect(px(s.points[0].x) - 2, py(s.points[0].y) - 2, 4, 4);
    context.lineWidth = 1;
    context.fillStyle = s.color;
    context.fillRect(legendX, 8, 10, 10);
    context.fillStyle = '#222';
    context.fillText(s.label, legendX + 14, 17);
    legendX += context.measureText(s.label).width + 34;
  }
}
