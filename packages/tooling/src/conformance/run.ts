import { findMismatch } from '../testing';
import {
  CaseInputs,
  CONFORMANCE_CASES,
  type ConformanceCase,
  type Tf,
  type Tolerance,
} from './cases';

/** One output of one case, as plain numbers (safe to send through JSON or postMessage). */
export interface OutputValues {
  shape: number[];
  values: number[];
}

export interface CaseResult {
  name: string;
  /** Named outputs; empty when the case threw. */
  outputs: Record<string, OutputValues>;
  /** The error message when the case threw (a missing kernel, a tfjs assertion). */
  error?: string;
  /** Why the outputs break the case's own `check` (an identity), when they do. */
  checkFailure?: string;
  /** Wall time of the case, including reading every output back. */
  ms: number;
}

export interface ConformanceRun {
  /** The backend the cases ran on (tfjs's name for it). */
  backend: string;
  results: CaseResult[];
  ms: number;
}

export interface RunConformanceOptions {
  /** The cases to run; all of CONFORMANCE_CASES by default. */
  cases?: readonly ConformanceCase[];
  /** Only run cases whose name passes this test. */
  filter?: (name: string) => boolean;
  /** Mixed with a hash of each case name to seed its inputs; the same on every backend. */
  seed?: number;
}

/**
 * Run every case on `backend`, which must already be tfjs's active backend (bring it up with
 * `selectBackend` first). A case that throws is recorded with its error, not rethrown.
 */
export async function runConformance(
  tf: Tf,
  backend: string,
  options: RunConformanceOptions = {},
): Promise<ConformanceRun> {
  const active = tf.getBackend();
  if (active !== backend) {
    throw new Error(
      `runConformance: asked to run on '${backend}' but tfjs's active backend is '${active}'; call selectBackend({ backend: '${backend}' }) first`,
    );
  }
  const cases = (options.cases ?? CONFORMANCE_CASES).filter(
    (c) => options.filter?.(c.name) ?? true,
  );
  const start = now();
  const results: CaseResult[] = [];
  for (const c of cases) results.push(await runCase(tf, c, options.seed ?? 0));
  return { backend, results, ms: now() - start };
}

/** Run one case on the active backend and read its outputs back. */
export async function runCase(tf: Tf, c: ConformanceCase, seed = 0): Promise<CaseResult> {
  const start = now();
  let outputs: Record<string, import('@tensorflow/tfjs-core').Tensor> | undefined;
  try {
    outputs = tf.tidy(() => c.run(tf, new CaseInputs(tf, seed ^ hashName(c.name))));
    const values: Record<string, OutputValues> = {};
    for (const [key, t] of Object.entries(outputs)) {
      values[key] = { shape: t.shape.slice(), values: Array.from(await t.data()) };
    }
    const checkFailure = c.check?.(values) ?? undefined;
    return {
      name: c.name,
      outputs: values,
      ...(checkFailure ? { checkFailure } : {}),
      ms: now() - start,
    };
  } catch (error) {
    return {
      name: c.name,
      outputs: {},
      error: error instanceof Error ? error.message : String(error),
      ms: now() - start,
    };
  } finally {
    if (outputs) tf.dispose(Object.values(outputs));
  }
}

export interface OutputComparison {
  output: string;
  /** The worst element, as findMismatch describes it; null when within tolerance. */
  mismatch: string | null;
  maxAbsError: number;
}

export interface CaseComparison {
  name: string;
  pass: boolean;
  tolerance: Tolerance;
  /** Why the case failed, worst output first; absent when it passed. */
  failure?: string;
  outputs: OutputComparison[];
  /** Milliseconds on the reference and the candidate backend. */
  ms: { reference: number; candidate: number };
}

export interface ConformanceComparison {
  reference: string;
  candidate: string;
  cases: CaseComparison[];
  passed: number;
  failed: number;
}

/**
 * Compare `candidate` with `reference` case by case under each case's tolerance for the
 * candidate backend. A case passes when both ran, produced the same outputs with the same
 * shapes, and every value is close.
 */
export function compareConformance(
  reference: ConformanceRun,
  candidate: ConformanceRun,
  cases: readonly ConformanceCase[] = CONFORMANCE_CASES,
): ConformanceComparison {
  const byName = new Map(cases.map((c) => [c.name, c]));
  const refByName = new Map(reference.results.map((r) => [r.name, r]));
  const compared: CaseComparison[] = candidate.results.map((cand) => {
    const c = byName.get(cand.name);
    const tolerance: Tolerance = c
      ? (c.tolerance[candidate.backend as 'wasm' | 'webgpu'] ?? c.tolerance.default)
      : { rtol: 0, atol: 0, reason: 'unknown case' };
    const ref = refByName.get(cand.name);
    const ms = { reference: ref?.ms ?? Number.NaN, candidate: cand.ms };
    const fail = (failure: string, outputs: OutputComparison[] = []): CaseComparison => ({
      name: cand.name,
      pass: false,
      tolerance,
      failure,
      outputs,
      ms,
    });
    if (!c) return fail(`no case named '${cand.name}'`);
    if (!ref) return fail(`the ${reference.backend} reference has no result for this case`);
    if (ref.error) return fail(`the ${reference.backend} reference threw: ${ref.error}`);
    if (cand.error) return fail(`${candidate.backend} threw: ${cand.error}`);
    if (cand.checkFailure) return fail(`on ${candidate.backend}, ${cand.checkFailure}`);
    if (ref.checkFailure) return fail(`on the ${reference.backend} reference, ${ref.checkFailure}`);

    const outputs: OutputComparison[] = [];
    const problems: string[] = [];
    const names = new Set([...Object.keys(ref.outputs), ...Object.keys(cand.outputs)]);
    for (const output of names) {
      const r = ref.outputs[output];
      const x = cand.outputs[output];
      if (!r || !x) {
        problems.push(`${output}: missing on ${r ? candidate.backend : reference.backend}`);
        continue;
      }
      if (r.shape.join(',') !== x.shape.join(',')) {
        problems.push(`${output}: shape [${x.shape}] differs from the reference [${r.shape}]`);
        continue;
      }
      const mismatch = findMismatch(x.values, r.values, tolerance);
      let maxAbsError = 0;
      for (let i = 0; i < r.values.length; i++) {
        const d = Math.abs(x.values[i] - r.values[i]);
        if (d > maxAbsError || Number.isNaN(d)) maxAbsError = d;
      }
      outputs.push({ output, mismatch, maxAbsError });
      if (mismatch) problems.push(`${output}: ${mismatch}`);
    }
    if (problems.length > 0) return fail(problems.join('; '), outputs);
    return { name: cand.name, pass: true, tolerance, outputs, ms };
  });
  const passed = compared.filter((c) => c.pass).length;
  return {
    reference: reference.backend,
    candidate: candidate.backend,
    cases: compared,
    passed,
    failed: compared.length - passed,
  };
}

/** One line per case: `PASS name (12 ms)` or `FAIL name: why`. */
export function formatComparison(comparison: ConformanceComparison): string {
  const lines = comparison.cases.map((c) =>
    c.pass
      ? `PASS ${c.name} (${c.ms.candidate.toFixed(0)} ms; max |err| ${Math.max(0, ...c.outputs.map((o) => o.maxAbsError)).toExponential(1)})`
      : `FAIL ${c.name}: ${c.failure}`,
  );
  lines.unshift(
    `${comparison.candidate} vs ${comparison.reference}: ${comparison.passed} passed, ${comparison.failed} failed`,
  );
  return lines.join('\n');
}

/** FNV-1a of the case name: each case gets its own input stream, whatever the case order. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function now(): number {
  return globalThis.performance?.now() ?? Date.now();
}
