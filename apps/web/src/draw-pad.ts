/** A canvas to draw on with a pointer (white strokes on black, as Fashion-MNIST's images). */
export class DrawPad {
  private drawing = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onStroke?: () => void,
  ) {
    this.clear();
    canvas.addEventListener('pointerdown', (e) => {
      this.drawing = true;
      canvas.setPointerCapture(e.pointerId);
      this.dot(e);
    });
    canvas.addEventListener('pointermove', (e) => this.drawing && this.dot(e));
    const end = () => {
      if (!this.drawing) return;
      this.drawing = false;
      this.onStroke?.();
    };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
  }

  private dot(e: PointerEvent): void {
    const context = this.canvas.getContext('2d') as CanvasRenderingContext2D;
    const rect = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * this.canvas.width;
    const y = ((e.clientY - rect.top) / rect.height) * this.canvas.height;
    context.fillStyle = '#fff';
    context.beginPath();
    context.arc(x, y, this.canvas.width / 16, 0, 2 * Math.PI);
    context.fill();
  }

  clear(): void {
    const context = this.canvas.getContext('2d') as CanvasRenderingContext2D;
    context.fillStyle = '#000';
    context.fillRect(0, 0, this.canvas.width, this.canvas.height);
  }

  /** The drawing as 28x28 grey values in [0, 1] (area-averaged by the browser's scaler). */
  pixels(): Float32Array {
    const small = document.createElement('canvas');
    small.width = 28;
    small.height = 28;
    const context = small.getContext('2d', {
      willReadFrequently: true,
    }) as CanvasRenderingContext2D;
    context.imageSmoothingQuality = 'high';
    context.drawImage(this.canvas, 0, 0, 28, 28);
    const { data } = context.getImageData(0, 0, 28, 28);
    const out = new Float32Array(28 * 28);
    for (let p = 0; p < out.length; p++) out[p] = data[4 * p] / 255;
    return out;
  }
}
