import { writeFileAtomic as writeAtomically } from './internal/node-files';

/**
 * Node: write `data` to `file` atomically, with the writer checkpoints and `CSVLogger` use: a
 * temporary file beside it, fsync, rename over the target, then fsync the directory. A crash at
 * any moment leaves either the old or the new file whole (run summaries such as `metrics.json`).
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  return writeAtomically(file, data);
}
