/**
 * safetensors dtypes, their byte sizes, and the decoding of each into a tfjs dtype.
 * tfjs has float32, int32 and bool (plus complex64 and string, which never appear here), so:
 * floats become float32 (F16 / BF16 exactly, F64 rounded), integers become int32 (64-bit and
 * U32 values are range-checked), BOOL becomes bool.
 */

import { SAFETENSORS_DTYPES, type SafetensorsDtype } from '../safetensors-format';

/** The tfjs dtypes this package produces. */
export type TfDtype = 'float32' | 'int32' | 'bool';

export function isSafetensorsDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPES, value);
}

/** The tfjs dtype a safetensors dtype decodes to, or null for F8 (not supported). */
export function tfDtypeOf(dtype: SafetensorsDtype): TfDtype | null {
  switch (dtype) {
    case 'F16':
    case 'BF16':
    case 'F32':
    case 'F64':
      return 'float32';
    case 'BOOL':
      return 'bool';
    case 'F8_E4M3':
    case 'F8_E5M2':
      return null;
    default:
      return 'int32';
  }
}

export type DecodedValues = Float32Array | Int32Array | Uint8Array;

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** An IEEE half (as its 16 bits) to the float32 it represents exactly. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Decode `bytes` (little-endian, exactly `count` elements of `dtype`) into a fresh typed array
 * of the tfjs dtype. `describe` names the tensor in errors (the int32 range check).
 */
export function decodeValues(
  bytes: Uint8Array,
  dtype: SafetensorsDtype,
  count: number,
  describe: () => string,
): DecodedValues {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      if (HOST_LITTLE_ENDIAN) {
        // Copy into a fresh, aligned buffer (the source may sit at any offset).
        const out = new Float32Array(count);
        new Uint8Array(out.buffer).set(bytes);
        return out;
      }
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      if (HOST_LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes);
      else for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      // `<< 16` of a value >= 0x8000 is negative as an int32; Uint32Array stores it modulo 2^32.
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    }
    case 'U8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i];
      return out;
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'U16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(i * 2, true);
      return out;
    }
    case 'U32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) {
        const value = view.getUint32(i * 4, true);
        if (value > 0x7fffffff) throw int32RangeError(describe(), i, String(value));
        out[i] = value;
      }
      return out;
    }
    case 'I64':
    case 'U64': {
      const out = new Int32Array(count);
      const unsigned = dtype === 'U64';
      for (let i = 0; i < count; i++) {
        const low = view.getInt32(i * 8, true);
        const high = view.getInt32(i * 8 + 4, true);
        // In int32 range exactly when the high word is the sign extension of the low word
        // (for U64 additionally the value must be non-negative).
        if (high !== low >> 31 || (unsigned && low < 0)) {
          const value = unsigned ? view.getBigUint64(i * 8, true) : view.getBigInt64(i * 8, true);
          throw int32RangeError(describe(), i, value.toString());
        }
        out[i] = low;
      }
      return out;
    }
    default:
      throw new Error(`${describe()}: dtype ${dtype} is not supported (tfjs has no 8-bit floats)`);
  }
}

function int32RangeError(where: string, index: number, value: string): Error {
  return new Error(
    `${where}: element ${index} is ${value}, outside the int32 range [-2147483648, 2147483647] that tfjs can hold`,
  );
}
