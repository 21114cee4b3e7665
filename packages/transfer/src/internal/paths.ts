import { Module, Sequential } from '@convkit/layers';

/** Module paths of `model` (state-dict prefixes), the root excluded. */
export function modulePaths(model: Module): string[] {
  return model
    .namedModules()
    .map(([path]) => path)
    .filter((p) => p !== '');
}

/** A list of names for an error message: the first `max`, then a count. */
export function listNames(names: readonly string[], max = 24): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, ... (${names.length} in all)` : shown;
}

/** The module at `path` ('' is the model), or an error naming `what` and the valid paths. */
export function moduleAt(model: Module, path: string, what: string): Module {
  const found = model.namedModules().find(([p]) => p === path);
  if (!found) {
    throw new Error(
      `${what}: unknown module ${JSON.stringify(path)}; valid paths: ${listNames(modulePaths(model))}`,
    );
  }
  return found[1] as Module; // a path names a layer or block of one output
}

/** Replace the module at `path` (not the root) by `replacement`; returns the previous one. */
export function replaceModuleAt(
  model: Module,
  path: string,
  replacement: Module,
  what: string,
): Module {
  const previous = moduleAt(model, path, what);
  const dot = path.lastIndexOf('.');
  const parentPath = dot < 0 ? '' : path.slice(0, dot);
  const name = path.slice(dot + 1);
  const parent = moduleAt(model, parentPath, what) as unknown as Record<string, unknown>;
  if (parent instanceof Sequential) {
    parent.layers[Number(name)] = replacement;
    return previous;
  }
  if (parent[name] === previous) {
    parent[name] = replacement;
    return previous;
  }
  // An array field of modules: `blocks.2` is `parent.blocks[2]`.
  for (const value of Object.values(parent)) {
    if (Array.isArray(value)) {
      const index = value.indexOf(previous);
      if (index >= 0) {
        value[index] = replacement;
        return previous;
      }
    }
  }
  throw new Error(`${what}: cannot replace the module at ${JSON.stringify(path)}`);
}

/** Parameters (key, variable) whose key is under `prefix` ('' for all). */
export function paramsUnder(model: Module, prefix: string) {
  return model
    .namedParameters()
    .filter(([key]) => prefix === '' || key === prefix || key.startsWith(`${prefix}.`));
}

export const isUnder = (key: string, prefix: string) =>
  prefix === '' || key === prefix || key.startsWith(`${prefix}.`);

export { Module };
