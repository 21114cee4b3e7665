import { writeFileAtomic } from '@convkit/backend';
import { type Callback, type EpochLogs, logValues, type TrainingContext } from './callback';
import { nodeModules } from './internal/node-files';

export interface CSVLoggerOptions {
  /** Keep the rows already in the file (a resumed run), dropping rows of epochs it will redo.
   * Default false: the file starts afresh. */
  append?: boolean;
  /** Column separator. Default `,`. */
  separator?: string;
}

/**
 * Writes one row per epoch (epoch, loss, metrics, val_loss, val_metrics, lr, seconds) to a CSV
 * file (Node). The whole file is rewritten atomically after each epoch (temp file, fsync,
 * rename), so a reader or a crash never sees a half-written row.
 */
export class CSVLogger implements Callback {
  readonly callbackName = 'CSVLogger';
  private rows: Record<string, string>[] = [];
  private columns: string[] = [];

  constructor(
    readonly file: string,
    private readonly options: CSVLoggerOptions = {},
  ) {
    if (typeof file !== 'string' || file === '') {
      throw new Error(`CSVLogger: expected a file path, received ${String(file)}`);
    }
  }

  async onTrainBegin(context: TrainingContext): Promise<void> {
    this.rows = [];
    this.columns = [];
    if (!this.options.append) return;
    const { fs } = await nodeModules();
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch {
      return;
    }
    const sep = this.options.separator ?? ',';
    const [header, ...lines] = text.split('\n').filter((l) => l.length > 0);
    if (!header) return;
    this.columns = header.split(sep);
    for (const line of lines) {
      const cells = line.split(sep);
      const row = Object.fromEntries(this.columns.map((c, i) => [c, cells[i] ?? '']));
      if (Number(row.epoch) <= context.params.initialEpoch) this.rows.push(row);
    }
  }

  async onEpochEnd(logs: EpochLogs): Promise<void> {
    const row: Record<string, string> = { epoch: String(logs.epoch + 1) };
    for (const [k, v] of logValues(logs)) row[k] = String(v);
    row.seconds = logs.seconds.toFixed(3);
    for (const key of Object.keys(row)) if (!this.columns.includes(key)) this.columns.push(key);
    this.rows.push(row);
    const sep = this.options.separator ?? ',';
    const lines = [
      this.columns.join(sep),
      ...this.rows.map((r) => this.columns.map((c) => r[c] ?? '').join(sep)),
    ];
    const { fs, path } = await nodeModules();
    await fs.mkdir(path.dirname(this.file), { recursive: true });
    await writeFileAtomic(this.file, `${lines.join('\n')}\n`);
  }
}
