/**
 * A strict reader of the zip container `torch.save` writes: the central directory (zip64 too)
 * is parsed and checked against the archive's length before anything is used, and every entry
 * is returned as a view into the archive (no copy, no allocation from declared sizes).
 *
 * PyTorch stores every entry uncompressed (method 0, 64-byte aligned); the caller refuses a
 * compressed entry it needs. Encrypted and multi-disk archives are refused. A general
 * zip library does not fit here: its readers trust the declared entry count (a zip64 record
 * can claim 2^32 entries) and sizes, which the fuzz tests feed them.
 */

export interface ZipEntry {
  name: string;
  /** The stored bytes (a view into the archive; compressed unless `method` is 0). */
  data: Uint8Array;
  /** The compression method (0: stored). */
  method: number;
  /** The CRC-32 the central directory declares. */
  crc32: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;

function fail(where: string, message: string): never {
  throw new Error(`${where}: ${message}`);
}

/** A little-endian reader that refuses to read past the end. */
class View {
  private readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    private readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  private check(offset: number, size: number, what: string): void {
    if (!(offset >= 0 && offset + size <= this.bytes.byteLength)) {
      fail(
        this.where,
        `truncated: the ${what} at byte ${offset} needs ${size} bytes, the archive has ${this.bytes.byteLength}`,
      );
    }
  }
  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.view.getUint16(offset, true);
  }
  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.view.getUint32(offset, true);
  }
  /** A 64-bit size or offset; refused above 2^53. */
  u64(offset: number, what: string): number {
    this.check(offset, 8, what);
    const value = this.view.getBigUint64(offset, true);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(this.where, `${what} ${value} is too large`);
    return Number(value);
  }
}

function findEndRecord(view: View, where: string): number {
  const n = view.bytes.byteLength;
  const lowest = Math.max(0, n - 22 - MAX_COMMENT);
  for (let at = n - 22; at >= lowest; at--) {
    if (view.u32(at, 'end record') === EOCD && at + 22 + view.u16(at + 20, 'comment') === n) {
      return at;
    }
  }
  return fail(
    where,
    n < 22
      ? `not a zip archive: ${n} bytes is shorter than a zip end record (22)`
      : 'not a zip archive: no end-of-central-directory record',
  );
}

/** CRC-32 (IEEE 802.3, as zip), table-driven. */
let table: Uint32Array | undefined;
export function crc32(bytes: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * Every entry of a zip archive held in memory, by name. `where` names the archive in errors.
 * Checks: the end record (and the zip64 one it points to) lies inside the archive; the
 * declared entry count fits the central directory's size; every header has its signature and
 * lies inside the directory; no two entries share a name; entries are not encrypted, stored ones
 * declare equal sizes, and their data lies inside the archive.
 */
export function readZip(bytes: Uint8Array, where: string): Map<string, ZipEntry> {
  const view = new View(bytes, where);
  const end = findEndRecord(view, where);
  let count = view.u16(end + 10, 'entry count');
  let size = view.u32(end + 12, 'central directory size');
  let offset = view.u32(end + 16, 'central directory offset');
  if (view.u16(end + 4, 'disk number') !== 0 || view.u16(end + 6, 'disk number') !== 0) {
    fail(where, 'multi-disk zip archives are not supported');
  }
  let directoryEnd = end;
  if (end >= 20 && view.u32(end - 20, 'zip64 locator') === ZIP64_LOCATOR) {
    const at = view.u64(end - 12, 'zip64 end record offset');
    if (at + 56 > end - 20) fail(where, `the zip64 end record offset ${at} is outside the archive`);
    if (view.u32(at, 'zip64 end record') !== ZIP64_EOCD) {
      fail(where, `no zip64 end record at byte ${at}`);
    }
    count = view.u64(at + 32, 'zip64 entry count');
    size = view.u64(at + 40, 'zip64 central directory size');
    offset = view.u64(at + 48, 'zip64 central directory offset');
    directoryEnd = at;
  }
  if (offset + size > directoryEnd) {
    fail(
      where,
      `the central directory [${offset}, ${offset + size}) runs past its end record at byte ${directoryEnd}`,
    );
  }
  if (count * 46 > size) {
    fail(where, `${count} entries cannot fit a central directory of ${size} bytes`);
  }
  const entries = new Map<string, ZipEntry>();
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let at = offset;
  for (let i = 0; i < count; i++) {
    if (at + 46 > offset + size)
      fail(where, `central directory entry ${i} runs past the directory`);
    if (view.u32(at, 'central directory entry') !== CENTRAL) {
      fail(where, `central directory entry ${i} at byte ${at} has no signature`);
    }
    const flags = view.u16(at + 8, 'flags');
    const method = view.u16(at + 10, 'compression method');
    const crc = view.u32(at + 16, 'crc');
    let compressed = view.u32(at + 20, 'compressed size');
    let uncompressed = view.u32(at + 24, 'size');
    const nameLength = view.u16(at + 28, 'name length');
    const extraLength = view.u16(at + 30, 'extra length');
    const commentLength = view.u16(at + 32, 'comment length');
    let local = view.u32(at + 42, 'local header offset');
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > offset + size) fail(where, `central directory entry ${i} runs past the directory`);
    const name = decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength));
    // zip64 extra field: the 64-bit values of the fields stored as 0xffffffff, in this order.
    let extra = at + 46 + nameLength;
    const extraEnd = extra + extraLength;
    while (extra + 4 <= extraEnd) {
      const id = view.u16(extra, 'extra field');
      const length = view.u16(extra + 2, 'extra field');
      if (extra + 4 + length > extraEnd) fail(where, `${name}: extra field runs past its entry`);
      if (id === 1) {
        let field = extra + 4;
        const take = () => {
          if (field + 8 > extra + 4 + length) fail(where, `${name}: zip64 extra field too short`);
          const value = view.u64(field, `${name}: zip64 size`);
          field += 8;
          return value;
        };
        if (uncompressed === 0xffffffff) uncompressed = take();
        if (compressed === 0xffffffff) compressed = take();
        if (local === 0xffffffff) local = take();
      }
      extra += 4 + length;
    }
    if (flags & 1) fail(where, `${name}: encrypted entries are not supported`);
    if (method === 0 && compressed !== uncompressed) {
      fail(
        where,
        `${name}: a stored entry declares ${compressed} bytes stored, ${uncompressed} bytes of data`,
      );
    }
    if (view.u32(local, `${name}: local header`) !== LOCAL) {
      fail(where, `${name}: no local header at byte ${local}`);
    }
    const dataStart =
      local +
      30 +
      view.u16(local + 26, `${name}: local header`) +
      view.u16(local + 28, `${name}: local header`);
    if (dataStart + compressed > offset) {
      fail(
        where,
        `${name}: data [${dataStart}, ${dataStart + compressed}) runs past the entries' area (the central directory starts at byte ${offset})`,
      );
    }
    if (entries.has(name)) fail(where, `two entries are named ${JSON.stringify(name)}`);
    entries.set(name, {
      name,
      data: bytes.subarray(dataStart, dataStart + compressed),
      crc32: crc,
      method,
    });
    at = next;
  }
  return entries;
}
