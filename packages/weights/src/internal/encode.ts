import { SAFETENSORS_DTYPES, type SafetensorsDtype } from '../safetensors-format';

export interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

export interface PlannedTensor extends TensorSpec {
  begin: number;
  end: number;
}

export interface SafetensorsPlan {
  /** The 8-byte length followed by the JSON header, padded with spaces to a multiple of 8. */
  head: Uint8Array;
  /** Tensors in data order: larger element sizes first (so every tensor stays aligned), then by name. */
  order: PlannedTensor[];
  /** Total file size. */
  byteLength: number;
}

/** Code-point order, independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Lay out a safetensors file: data order and the header bytes. Deterministic: the same specs
 * and metadata give the same bytes. Header keys are written `__metadata__` first, then tensor
 * names in code-point order (built by hand so names such as "0" keep their place).
 */
export function planSafetensors(
  specs: TensorSpec[],
  metadata?: Record<string, string>,
): SafetensorsPlan {
  const seen = new Set<string>();
  for (const spec of specs) {
    if (spec.name === '__metadata__')
      throw new Error('safetensors: "__metadata__" cannot be a tensor name');
    if (seen.has(spec.name))
      throw new Error(`safetensors: duplicate tensor name ${JSON.stringify(spec.name)}`);
    seen.add(spec.name);
    if (!spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(
        `safetensors: tensor ${JSON.stringify(spec.name)} has an invalid shape [${spec.shape}]`,
      );
    }
  }
  const order = [...specs]
    .sort(
      (a, b) =>
        SAFETENSORS_DTYPES[b.dtype] - SAFETENSORS_DTYPES[a.dtype] || compareNames(a.name, b.name),
    )
    .map((spec) => ({ ...spec, shape: [...spec.shape], begin: 0, end: 0 }));
  let cursor = 0;
  for (const entry of order) {
    const size = entry.shape.reduce((p, d) => p * d, SAFETENSORS_DTYPES[entry.dtype]);
    entry.begin = cursor;
    entry.end = cursor + size;
    cursor = entry.end;
  }
  const parts: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) {
    const keys = Object.keys(metadata).sort(compareNames);
    const fields = keys.map((key) => {
      const value = metadata[key];
      if (typeof value !== 'string') {
        throw new Error(
          `safetensors: metadata ${JSON.stringify(key)} must be a string, received ${typeof value}`,
        );
      }
      return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
    });
    parts.push(`"__metadata__":{${fields.join(',')}}`);
  }
  for (const entry of [...order].sort((a, b) => compareNames(a.name, b.name))) {
    parts.push(
      `${JSON.stringify(entry.name)}:{"dtype":"${entry.dtype}","shape":[${entry.shape.join(',')}],"data_offsets":[${entry.begin},${entry.end}]}`,
    );
  }
  const json = new TextEncoder().encode(`{${parts.join(',')}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + padded);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  head.fill(0x20, 8 + json.byteLength);
  return { head, order, byteLength: head.byteLength + cursor };
}

/** Encode values of a tfjs tensor (float32, int32 or bool) as the bytes of `dtype`. */
export function encodeValues(
  values: Float32Array | Int32Array | Uint8Array,
  dtype: SafetensorsDtype,
  name: string,
): Uint8Array {
  const view = (array: ArrayBufferView) =>
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  switch (dtype) {
    case 'F32':
      return view(values instanceof Float32Array ? values : Float32Array.from(values));
    case 'I32':
      return view(values instanceof Int32Array ? values : Int32Array.from(values));
    case 'I64': {
      const out = new Uint8Array(values.length * 8);
      const dv = new DataView(out.buffer);
      for (let i = 0; i < values.length; i++) {
        const value = values[i];
        if (!Number.isInteger(value)) {
          throw new Error(
            `safetensors: tensor ${JSON.stringify(name)} element ${i} is ${value}, not an integer for I64`,
          );
        }
        dv.setBigInt64(i * 8, BigInt(value), true);
      }
      return out;
    }
    case 'BOOL': {
      const out = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = values[i] ? 1 : 0;
      return out;
    }
    default:
      throw new Error(
        `safetensors: writing ${dtype} is not supported (write F32, I32, I64 or BOOL)`,
      );
  }
}

/** Assemble a whole file from raw, already encoded tensors (tests and tools). */
export function encodeRawSafetensors(
  tensors: (TensorSpec & { data: Uint8Array })[],
  metadata?: Record<string, string>,
): Uint8Array {
  const plan = planSafetensors(tensors, metadata);
  const out = new Uint8Array(plan.byteLength);
  out.set(plan.head, 0);
  const byName = new Map(tensors.map((t) => [t.name, t.data]));
  for (const entry of plan.order) {
    const data = byName.get(entry.name) as Uint8Array;
    if (data.byteLength !== entry.end - entry.begin) {
      throw new Error(
        `safetensors: tensor ${JSON.stringify(entry.name)} has ${data.byteLength} bytes, ${entry.dtype} [${entry.shape}] needs ${entry.end - entry.begin}`,
      );
    }
    out.set(data, plan.head.byteLength + entry.begin);
  }
  return out;
}
