import type { BatchLogs, Callback, EpochLogs, TrainingContext } from './callback';

/** What a `ProgressBar` reports, for UIs (`onUpdate`); `line` is the text a terminal shows. */
export interface ProgressEvent {
  type: 'batch' | 'epoch';
  /** Zero-based epoch, and the total epoch count. */
  epoch: number;
  epochs: number;
  /** Batches done this epoch, and per epoch when known. */
  batch: number;
  batches: number | undefined;
  /** Running mean loss and metrics this epoch (epoch events: the epoch's values). */
  loss: number;
  metrics: Record<string, number>;
  valLoss?: number;
  valMetrics?: Record<string, number>;
  samplesPerSecond: number;
  /** Seconds left in this epoch (batch events with a known batch count). */
  etaSeconds: number | undefined;
  seconds: number;
  lr: number;
  line: string;
}

/** A writable text stream (`process.stdout`, or anything with `write`). */
export interface TextStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressBarOptions {
  /** Where to draw. Default: `process.stdout` in Node; none in a browser. */
  stream?: TextStream;
  /** Receives every update (a browser UI). Without a stream, nothing is written. */
  onUpdate?: (event: ProgressEvent) => void;
  /** Bar width in characters. Default 24. */
  width?: number;
  /** Least time between two redraws of a terminal line. Default 100 ms. */
  minIntervalMs?: number;
}

/**
 * A training progress bar. On a TTY it redraws one line per epoch in place (carriage return):
 * bar, batches, running loss and metrics, samples/s and ETA, then leaves the epoch's summary.
 * On a non-TTY stream (a log file, CI) it writes one line per epoch. With `onUpdate` it emits
 * `ProgressEvent`s (throttled like the terminal) for a browser UI.
 */
export class ProgressBar implements Callback {
  readonly callbackName = 'ProgressBar';
  private readonly stream: TextStream | undefined;
  private readonly width: number;
  private readonly minIntervalMs: number;
  private lastDraw = 0;
  private lastLength = 0;

  constructor(private readonly options: ProgressBarOptions = {}) {
    const nodeStdout = (globalThis as { process?: { stdout?: TextStream } }).process?.stdout;
    this.stream = options.stream ?? (options.onUpdate ? undefined : nodeStdout);
    this.width = options.width ?? 24;
    this.minIntervalMs = options.minIntervalMs ?? 100;
  }

  onEpochBegin(): void {
    this.lastDraw = 0;
    this.lastLength = 0;
  }

  onBatchEnd(logs: BatchLogs, context: TrainingContext): void {
    const now = performance.now();
    const batches = context.params.batchesPerEpoch;
    const last = batches !== undefined && logs.batch + 1 >= batches;
    if (now - this.lastDraw < this.minIntervalMs && !last) return;
    this.lastDraw = now;
    const done = logs.batch + 1;
    const speed = logs.samples / Math.max(logs.seconds, 1e-9);
    const eta = batches !== undefined ? ((batches - done) * logs.seconds) / done : undefined;
    const event: ProgressEvent = {
      type: 'batch',
      epoch: logs.epoch,
      epochs: context.params.epochs,
      batch: done,
      batches,
      loss: logs.running.loss,
      metrics: logs.running.metrics,
      samplesPerSecond: speed,
      etaSeconds: eta,
      seconds: logs.seconds,
      lr: logs.lr,
      line: '',
    };
    event.line = [
      `epoch ${logs.epoch + 1}/${context.params.epochs}`,
      this.bar(done, batches),
      formatValues(event.loss, event.metrics),
      `${formatSpeed(speed)} samples/s`,
      eta !== undefined ? `ETA ${formatDuration(eta)}` : `${formatDuration(logs.seconds)}`,
    ].join('  ');
    this.options.onUpdate?.(event);
    if (this.stream?.isTTY) this.redraw(event.line);
  }

  onEpochEnd(logs: EpochLogs, context: TrainingContext): void {
    const speed = logs.samples / Math.max(logs.seconds, 1e-9);
    const parts = [
      `epoch ${logs.epoch + 1}/${context.params.epochs}`,
      `${logs.batches} batches ${formatDuration(logs.seconds)}`,
      formatValues(logs.loss, logs.metrics),
    ];
    if (logs.valLoss !== undefined)
      parts.push(formatValues(logs.valLoss, logs.valMetrics ?? {}, 'val_'));
    parts.push(`${formatSpeed(speed)} samples/s`, `lr ${formatNumber(logs.lr)}`);
    const line = parts.join('  ');
    this.options.onUpdate?.({
      type: 'epoch',
      epoch: logs.epoch,
      epochs: context.params.epochs,
      batch: logs.batches,
      batches: logs.batches,
      loss: logs.loss,
      metrics: logs.metrics,
      valLoss: logs.valLoss,
      valMetrics: logs.valMetrics,
      samplesPerSecond: speed,
      etaSeconds: 0,
      seconds: logs.seconds,
      lr: logs.lr,
      line,
    });
    if (!this.stream) return;
    if (this.stream.isTTY) {
      this.redraw(line);
      this.stream.write('\n');
    } else {
      this.stream.write(`${line}\n`);
    }
    this.lastLength = 0;
  }

  onTrainEnd(context: TrainingContext): void {
    // An interrupted epoch leaves a half-drawn line: end it.
    if (this.stream?.isTTY && this.lastLength > 0) this.stream.write('\n');
    if (this.stream && context.stopReason && context.stopReason !== 'completed') {
      this.stream.write(`stopped: ${context.stopReason}\n`);
    }
  }

  private bar(done: number, total: number | undefined): string {
    if (total === undefined) return `${done} batches`;
    const filled = Math.min(this.width, Math.round((done / total) * this.width));
    const head = filled < this.width ? '>' : '';
    const body = '='.repeat(Math.max(0, filled - head.length)) + head;
    return `[${body.padEnd(this.width)}] ${String(done).padStart(String(total).length)}/${total}`;
  }

  private redraw(line: string): void {
    const columns = this.stream?.columns;
    const text = columns && line.length >= columns ? line.slice(0, columns - 1) : line;
    // Carriage return, the new text, and spaces over whatever the previous draw left.
    this.stream!.write(`\r${text}${' '.repeat(Math.max(0, this.lastLength - text.length))}`);
    this.lastLength = text.length;
  }
}

function formatValues(loss: number, metrics: Record<string, number>, prefix = ''): string {
  return [
    `${prefix}loss ${formatNumber(loss)}`,
    ...Object.entries(metrics).map(([k, v]) => `${prefix}${k} ${formatNumber(v)}`),
  ].join(' ');
}

function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e4)) return v.toExponential(2);
  return v.toFixed(4);
}

function formatSpeed(v: number): string {
  return v >= 100 ? Math.round(v).toString() : v.toFixed(1);
}

/** `m:ss` (or `h:mm:ss`). */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
