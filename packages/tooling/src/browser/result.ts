import type { BackendReport } from '@convkit/backend';
import type { ConformanceComparison } from '../conformance/index';

/** The global the conformance page sets when it is done (or has failed). */
export const RESULT_GLOBAL = '__convkitConformance';

/** One backend as the page brought it up and ran it. */
export interface BrowserBackendRun {
  /** The report of `selectBackend({ backend })`, absent when it threw. */
  report?: BackendReport;
  /** Why `selectBackend` threw, when it did. */
  selectError?: string;
  /** Milliseconds to run every case on this backend (0 when it could not be selected). */
  ms: number;
  /** Cases that threw on this backend, by name. */
  errors: Record<string, string>;
}

/** What the page leaves on `window[RESULT_GLOBAL]`. */
export interface BrowserConformanceResult {
  done: true;
  /** An error outside the per-backend runs (the page itself broke). */
  fatal?: string;
  userAgent: string;
  /** cpu (the reference), wasm and webgpu. */
  backends: Record<'cpu' | 'wasm' | 'webgpu', BrowserBackendRun>;
  /** wasm and webgpu against cpu; absent for a backend that could not be selected. */
  comparisons: Partial<Record<'wasm' | 'webgpu', ConformanceComparison>>;
  /** `selectBackend()` with no arguments. */
  auto?: { report?: BackendReport; error?: string };
}
