/**
 * Constructor arguments as PyTorch and Keras users write them: either one options object
 * (`new Conv2d({ inChannels: 1, outChannels: 6, kernelSize: 5 })`) or PyTorch's positional form
 * with an optional options object last (`new Conv2d(1, 6, 5, { stride: 2 })`). Unknown option
 * names are refused with the nearest valid one, so a Keras spelling (`strides`) never builds a
 * layer that silently ignores it.
 */

/** The values of `O` at the keys `K`, as a tuple. */
type ValuesAt<O, K extends readonly (keyof O)[]> = { -readonly [I in keyof K]: O[K[I]] };

/** `T` and every shorter prefix of it, down to the empty tuple. */
type Prefixes<T extends unknown[]> = T extends [...infer Init, unknown] ? T | Prefixes<Init> : [];

/**
 * The accepted argument lists of a layer with options `O`, whose positional order is `Required`
 * (always given positionally or in the options) followed by `Optional`: one options object, or the
 * required values, some leading optional values, and the rest as a trailing options object.
 */
export type LayerArguments<
  O,
  Required extends readonly (keyof O)[],
  Optional extends readonly (keyof O)[],
> =
  | [options: O]
  | [...ValuesAt<O, Required>, ...Prefixes<ValuesAt<O, Optional>>]
  | [...ValuesAt<O, Required>, ...Prefixes<ValuesAt<O, Optional>>, options: Partial<O>];

/** Option names that other libraries use for the same thing (Keras, snake_case PyTorch). */
const SYNONYMS: Record<string, readonly string[]> = {
  strides: ['stride'],
  filters: ['outChannels'],
  units: ['outFeatures'],
  useBias: ['bias'],
  rate: ['p'],
  poolSize: ['kernelSize'],
  epsilon: ['eps'],
  axis: ['dim'],
  alpha: ['negativeSlope'],
  // Keras 1's metric names, still common in tutorials.
  acc: ['accuracy'],
  val_acc: ['val_accuracy'],
};

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length];
}

/** Lower case without separators: `kernel_size`, `KernelSize` and `kernelSize` compare equal. */
function fold(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/**
 * The valid name closest to `name` (a known synonym, the same name in another case or
 * snake_case, or within a third of its length in edits), or undefined when none is close.
 */
export function nearestName(name: string, valid: readonly string[]): string | undefined {
  const synonym = SYNONYMS[name]?.find((s) => valid.includes(s));
  if (synonym) return synonym;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of valid) {
    const distance = editDistance(fold(name), fold(candidate));
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** "unknown option 'strides'; did you mean 'stride'? Valid options: ..." */
export function unknownNameMessage(kind: string, name: string, valid: readonly string[]): string {
  const nearest = nearestName(name, valid);
  const hint = nearest ? `; did you mean '${nearest}'?` : '.';
  return `unknown ${kind} '${name}'${hint} Valid: ${valid.join(', ') || '(none)'}`;
}

/**
 * Throws when `options` has a key outside `valid`, naming the nearest valid one: for option bags
 * that are not constructor arguments (`fit`'s options, a factory's keywords).
 */
export function refuseUnknownOptions(
  where: string,
  options: object,
  valid: readonly string[],
): void {
  for (const key of Object.keys(options)) {
    if (!valid.includes(key))
      throw new Error(`${where}: ${unknownNameMessage('option', key, valid)}`);
  }
}

function isOptionsObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  return String(value);
}

/**
 * A layer's constructor signature: its name, and every option in PyTorch's positional order (the
 * first `requiredCount` are the required ones). `parse` turns either argument form into one
 * options object and refuses unknown names, extra positional values and values given twice.
 */
export class LayerSignature<
  O extends object,
  Required extends readonly (keyof O & string)[],
  Optional extends readonly (keyof O & string)[],
> {
  readonly names: readonly string[];

  constructor(
    readonly layer: string,
    readonly required: Required,
    readonly optional: Optional,
  ) {
    this.names = [...required, ...optional];
  }

  parse(args: readonly unknown[]): O {
    const last = args.at(-1);
    const hasOptions = args.length > 0 && isOptionsObject(last);
    const positional = hasOptions ? args.slice(0, -1) : args;
    if (positional.length > this.names.length) {
      throw new Error(
        `${this.layer}: expected at most ${this.names.length} positional argument(s) (${this.names.join(', ')}) and an options object, received ${args.length} arguments: ${args.map(describe).join(', ')}`,
      );
    }
    const out: Record<string, unknown> = {};
    positional.forEach((value, i) => {
      if (value !== undefined) out[this.names[i]] = value;
    });
    for (const [key, value] of Object.entries(hasOptions ? last : {})) {
      if (!this.names.includes(key)) {
        throw new Error(`${this.layer}: ${unknownNameMessage('option', key, this.names)}`);
      }
      if (positional.length > this.names.indexOf(key)) {
        throw new Error(
          `${this.layer}: ${key} is given twice, as positional argument ${this.names.indexOf(key) + 1} (${describe(positional[this.names.indexOf(key)])}) and in the options (${describe(value)})`,
        );
      }
      if (value !== undefined) out[key] = value;
    }
    return out as O;
  }
}

/** The names of `O` missing from the tuple `K`; `never` when `K` lists them all. */
type MissingKeys<O, K extends readonly PropertyKey[]> = Exclude<keyof O, K[number]>;

/**
 * Declares a layer's signature with options `O`: `required` and then `optional` option names in
 * PyTorch's positional order. The compiler checks that together they list every option of `O`.
 */
export function layerSignature<O extends object>() {
  return <
    const Required extends readonly (keyof O & string)[],
    const Optional extends readonly (keyof O & string)[],
  >(
    layer: string,
    required: Required,
    optional: Optional &
      ([MissingKeys<O, [...Required, ...Optional]>] extends [never]
        ? unknown
        : { missingOptions: MissingKeys<O, [...Required, ...Optional]> }),
  ) => new LayerSignature<O, Required, Optional>(layer, required, optional);
}

/** The constructor arguments a signature accepts. */
export type ArgumentsOf<S> =
  S extends LayerSignature<infer O, infer Required, infer Optional>
    ? LayerArguments<O, Required, Optional>
    : never;
