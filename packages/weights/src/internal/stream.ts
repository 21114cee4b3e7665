// Streaming reads of HTTP bodies with bounded memory.

/** Pulls bytes from a stream; never holds more than what actually arrived. */
export class ChunkReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  done = false;

  constructor(private readonly reader: ReadableStreamDefaultReader<Uint8Array>) {}

  /** Buffer at least `n` bytes (fewer only when the stream ends). */
  async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const { value, done } = await this.reader.read();
      if (done) this.done = true;
      else if (value && value.byteLength > 0) {
        this.chunks.push(value);
        this.buffered += value.byteLength;
      }
    }
  }

  /** Take up to `n` bytes from the front. */
  take(n: number): Uint8Array {
    const size = Math.min(n, this.buffered);
    const out = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0];
      const part = Math.min(chunk.byteLength, size - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.byteLength) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
    }
    this.buffered -= size;
    return out;
  }

  /** Drop `n` bytes from the front (without copying); returns how many were dropped. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) {
        await this.fill(1);
        if (this.buffered === 0) break;
      }
      const chunk = this.chunks[0];
      const part = Math.min(chunk.byteLength, left);
      if (part === chunk.byteLength) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(part);
      this.buffered -= part;
      left -= part;
    }
    return n - left;
  }

  get available(): number {
    return this.buffered;
  }

  cancel(): void {
    this.reader.cancel().catch(() => {});
  }
}

/**
 * Read a whole response body, but never more than `limit` bytes: the `Content-Length` (when the
 * body is not content-encoded) is checked before reading, and the stream is cancelled as soon as
 * what arrived passes the limit, so memory stays bounded by `limit` plus one chunk whatever the
 * server sends. `tooLarge(what)` makes the error; `what` is `Content-Length <n>` or `the body`, to be
 * followed by "is larger than ...".
 */
export async function readBodyAtMost(
  response: Response,
  limit: number,
  tooLarge: (what: string) => Error,
): Promise<Uint8Array> {
  const lengthHeader = response.headers.get('content-length');
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  if (lengthHeader !== null && !encoded && /^\d+$/.test(lengthHeader.trim())) {
    const declared = Number(lengthHeader);
    if (declared > limit) {
      response.body?.cancel().catch(() => {});
      throw tooLarge(`Content-Length ${declared}`);
    }
  }
  if (!response.body) {
    // No stream to cut short (some fetch polyfills): the best left is to check after reading.
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.byteLength > limit) throw tooLarge('the body');
    return bytes;
  }
  const reader = new ChunkReader(response.body.getReader());
  try {
    await reader.fill(limit + 1);
    if (reader.available > limit) throw tooLarge('the body');
    return reader.take(reader.available);
  } finally {
    reader.cancel();
  }
}
