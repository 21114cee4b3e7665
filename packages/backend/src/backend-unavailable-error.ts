import type { BackendName } from './backend-names';

/** Thrown when a backend cannot be brought up; `packageName` is set when one is missing. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: BackendName,
    message: string,
    readonly packageName?: string,
  ) {
    super(message);
    this.name = 'BackendUnavailableError';
  }
}
