// The same two helpers as @convkit/backend's internal optional-import (not exported there).

/**
 * Import an optional peer by a specifier that bundlers do not try to resolve, so a browser
 * bundle never chokes on Node-only packages it will not use.
 */
export function importOptional<T = any>(specifier: string): Promise<T> {
  return import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

/** True when `error` says that `packageName` itself (not one of its files) is missing. */
export function isMissingPackage(error: unknown, packageName: string): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  const message = e?.message ?? '';
  const notFound =
    e?.code === 'ERR_MODULE_NOT_FOUND' ||
    e?.code === 'MODULE_NOT_FOUND' ||
    /Cannot find (module|package)|Could not resolve|Failed to resolve module specifier|Failed to fetch dynamically imported module/i.test(
      message,
    );
  return notFound && message.includes(packageName);
}
