import {
  MAX_HEADER_BYTES,
  SAFETENSORS_DTYPES,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from '../safetensors-format';
import { isSafetensorsDtype } from './dtypes';

/** `safetensors` or `safetensors <file>`: every message starts with it. */
export function prefix(file?: string): string {
  return file ? `safetensors ${file}` : 'safetensors';
}

/** A name for messages, shortened when a hostile header makes it huge. */
export function quote(name: string): string {
  const text = JSON.stringify(name.length > 120 ? `${name.slice(0, 120)}...` : name);
  return `tensor ${text}`;
}

/**
 * A value for messages, shortened. Never throws: a value nested too deeply for JSON.stringify
 * (a hostile header can nest thousands of levels) is described, not shown.
 */
export function show(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'number' ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = `${Array.isArray(value) ? 'an array' : `a ${typeof value}`} nested too deeply to show`;
  }
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}

/**
 * Read the 8-byte little-endian header length and check it before anything is allocated from
 * it: at most MAX_HEADER_BYTES and, when the total size is known, within the file.
 */
export function readHeaderLength(
  first8: Uint8Array,
  totalBytes: number | undefined,
  file?: string,
): number {
  if (first8.byteLength < 8) {
    throw new Error(
      `${prefix(file)}: truncated: expected at least 8 bytes (the header length), received ${first8.byteLength}`,
    );
  }
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(
      `${prefix(file)}: header length ${length} exceeds the limit of ${MAX_HEADER_BYTES} bytes (not a safetensors file, or corrupt)`,
    );
  }
  const n = Number(length);
  if (n < 2) {
    throw new Error(`${prefix(file)}: header length ${n} is too small for a JSON object`);
  }
  if (totalBytes !== undefined && 8 + n > totalBytes) {
    throw new Error(
      `${prefix(file)}: header length ${n} runs past the end of the file (${totalBytes} bytes, so at most ${Math.max(0, totalBytes - 8)})`,
    );
  }
  return n;
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parse and check a header (the N bytes after the length). `dataLength` is the size of the data
 * buffer when known (file size - 8 - N); otherwise the caller checks the returned `dataLength`.
 * Checks: UTF-8 JSON object starting with `{`; `__metadata__` a string-to-string map; each
 * entry's dtype known, shape non-negative integers, data_offsets two integers begin <= end
 * inside the buffer, end - begin == product(shape) * dtype size; the entries tile the buffer
 * from 0 to its end without overlaps or gaps (the spec's "entirely indexed" rule).
 */
export function parseHeader(
  headerBytes: Uint8Array,
  dataLength: number | undefined,
  file?: string,
): SafetensorsHeader {
  const where = prefix(file);
  if (headerBytes[0] !== 0x7b) {
    throw new Error(
      `${where}: the header must start with "{" (0x7b), received byte 0x${(headerBytes[0] ?? 0).toString(16)}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new Error(`${where}: the header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${where}: the header is not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(
      `${where}: the header must be a JSON object, received ${Array.isArray(json) ? 'an array' : typeof json}`,
    );
  }
  const metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) {
        throw new Error(
          `${where}: __metadata__ must be an object of strings, received ${show(info)}`,
        );
      }
      for (const [key, value] of Object.entries(info as Record<string, unknown>)) {
        if (typeof value !== 'string') {
          throw new Error(
            `${where}: __metadata__[${JSON.stringify(key)}] must be a string, received ${show(value)}`,
          );
        }
        Object.defineProperty(metadata, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      continue;
    }
    entries.push(parseEntry(name, info, dataLength, where));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const entry of entries) {
    if (entry.begin < cursor) {
      const previous = entries.find((e) => e.end === cursor && e !== entry);
      throw new Error(
        `${where}: ${quote(entry.name)} data_offsets [${entry.begin}, ${entry.end}] overlap ${previous ? quote(previous.name) : 'the previous tensor'} (which ends at ${cursor})`,
      );
    }
    if (entry.begin > cursor) {
      throw new Error(
        `${where}: gap in the data buffer: bytes [${cursor}, ${entry.begin}) belong to no tensor (next: ${quote(entry.name)}); the spec requires the tensors to cover the buffer contiguously`,
      );
    }
    cursor = entry.end;
  }
  if (dataLength !== undefined && cursor !== dataLength) {
    throw new Error(
      `${where}: the data buffer has ${dataLength} bytes but the tensors cover only [0, ${cursor}): ${dataLength - cursor} trailing bytes belong to no tensor`,
    );
  }
  return { entries, metadata, dataStart: 8 + headerBytes.byteLength, dataLength: cursor };
}

function parseEntry(
  name: string,
  info: unknown,
  dataLength: number | undefined,
  where: string,
): SafetensorsEntry {
  const at = `${where}: ${quote(name)}`;
  if (info === null || typeof info !== 'object' || Array.isArray(info)) {
    throw new Error(
      `${at}: expected an object {dtype, shape, data_offsets}, received ${show(info)}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype)) {
    throw new Error(
      `${at}: unknown dtype ${show(dtype)} (expected one of ${Object.keys(SAFETENSORS_DTYPES).join(', ')})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isNonNegativeInteger)) {
    throw new Error(
      `${at}: shape must be an array of non-negative integers, received ${show(shape)}`,
    );
  }
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !isNonNegativeInteger(offsets[0]) ||
    !isNonNegativeInteger(offsets[1])
  ) {
    throw new Error(
      `${at}: data_offsets must be two non-negative integers [begin, end], received ${show(offsets)}`,
    );
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end) {
    throw new Error(`${at}: data_offsets [${begin}, ${end}] end before they begin`);
  }
  if (dataLength !== undefined && end > dataLength) {
    throw new Error(
      `${at}: data_offsets [${begin}, ${end}] run past the end of the data buffer (${dataLength} bytes)`,
    );
  }
  const itemSize = SAFETENSORS_DTYPES[dtype];
  // The element count, without overflow: any 0 dimension makes it 0; otherwise stop as soon
  // as the byte count exceeds what the offsets describe.
  let bytes = shape.includes(0) ? 0 : itemSize;
  for (const dim of shape as number[]) {
    if (bytes === 0) break;
    bytes *= dim;
    if (bytes > end - begin) break;
  }
  if (bytes !== end - begin) {
    const needed =
      bytes < end - begin
        ? `${bytes} bytes`
        : productText(shape as number[], itemSize, end - begin);
    throw new Error(
      `${at}: data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ${dtype} shape [${shortList(shape as number[])}] needs ${needed}`,
    );
  }
  return { name, dtype, shape: [...(shape as number[])], begin, end };
}

function productText(shape: number[], itemSize: number, span: number): string {
  if (shape.length > 32) return `more than ${span} bytes`;
  let product = BigInt(itemSize);
  for (const dim of shape) product *= BigInt(dim);
  return `${product} bytes`;
}

function shortList(values: number[]): string {
  return values.length > 16
    ? `${values.slice(0, 16).join(', ')}, ... (${values.length} dims)`
    : values.join(', ');
}
