import type { SafetensorsDtype } from './safetensors-format';

/**
 * The storage dtypes a `.pth` file can hold that tfjs can represent (named as safetensors
 * dtypes): `torch.FloatStorage` F32, `DoubleStorage` F64, `HalfStorage` F16,
 * `BFloat16Storage` BF16, `LongStorage` I64, `IntStorage` I32, `ShortStorage` I16,
 * `CharStorage` I8, `ByteStorage` U8, `BoolStorage` BOOL.
 */
export type PthDtype = Extract<
  SafetensorsDtype,
  'F32' | 'F64' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL'
>;

/**
 * A tensor found in a `.pth` pickle, not yet read: its storage (the archive entry
 * `data/<storage>`), dtype, shape, strides and storage offset in elements, as
 * `torch._utils._rebuild_tensor_v2` receives them.
 */
export class PthTensor {
  constructor(
    readonly dtype: PthDtype,
    readonly shape: readonly number[],
    readonly stride: readonly number[],
    readonly storageOffset: number,
    /** The storage's key (`data/<key>` in the archive). */
    readonly storage: string,
    /** Elements of the storage (as the pickle declares; checked against the archive). */
    readonly storageSize: number,
    readonly requiresGrad: boolean,
  ) {}

  /** Elements of the tensor. */
  get size(): number {
    return this.shape.reduce((p, d) => p * d, 1);
  }
}

/** A dict key of a pickle (Python's str, int, bool or None keys). */
export type PthKey = string | number | bigint | boolean | null;

/**
 * A value of an unpickled `.pth` file: Python's None, bool, int (a `bigint` beyond 2^53),
 * float, str, bytes (`Uint8Array`), list and tuple (arrays; tuples are frozen), dict and
 * OrderedDict (`Map`, in insertion order), and tensors (`PthTensor`).
 */
export type PthValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PthValue[]
  | readonly PthValue[]
  | Map<PthKey, PthValue>
  | PthTensor;
