// A manifest says what the code uses: a published package declares, in `dependencies` or
// `peerDependencies`, exactly the packages its own (non-test) source imports; what only its tests
// use is a devDependency. Private packages (tooling, apps) only have to declare what they import.

const keysOf = (record) => new Set(Object.keys(record ?? {}));

function importedBy(sources, self) {
  const names = new Set(sources.flatMap((s) => s.packageImports));
  names.delete(self);
  return names;
}

/** Imported, or named by a string literal (how lazy loaders such as `importOptional` name peers). */
const usesPackage = (sources, name) =>
  sources.some((s) => s.packageImports.includes(name) || s.strings.has(name));

/** Peers that `pkg`'s workspace dependencies declare: `pkg` must pass them on as its own peers. */
function inheritedPeers(pkg, workspace) {
  return new Set(
    Object.keys(pkg.dependencies ?? {}).flatMap((name) =>
      Object.keys(workspace.get(name)?.peerDependencies ?? {}),
    ),
  );
}

function checkDeclaredAreUsed(pkg, workspace, code, tests, report) {
  const inherited = inheritedPeers(pkg, workspace);
  for (const name of keysOf({ ...pkg.dependencies, ...pkg.peerDependencies })) {
    if (usesPackage(code, name)) continue;
    if (pkg.peerDependencies?.[name] && inherited.has(name)) continue;
    report(
      usesPackage(tests, name)
        ? `${name} is used only by tests: make it a devDependency`
        : `${name} is declared but no source under src/ imports it: remove it`,
    );
  }
}

function checkUsedAreDeclared(pkg, code, report) {
  const runtime = keysOf({ ...pkg.dependencies, ...pkg.peerDependencies });
  for (const name of importedBy(code, pkg.name)) {
    if (runtime.has(name)) continue;
    const where = code.find((s) => s.packageImports.includes(name)).rel;
    report(
      `${where} imports ${name}, which is not in dependencies or peerDependencies` +
        (keysOf(pkg.devDependencies).has(name) ? ' (it is only a devDependency)' : ''),
    );
  }
}

function checkImportsDeclared(pkg, rootPkg, sources, report) {
  const declared = keysOf({
    ...pkg.dependencies,
    ...pkg.peerDependencies,
    ...pkg.devDependencies,
    ...rootPkg.devDependencies,
  });
  for (const name of importedBy(sources, pkg.name)) {
    if (declared.has(name)) continue;
    const where = sources.find((s) => s.packageImports.includes(name)).rel;
    report(
      `${where} imports ${name}, which package.json does not declare (add it to devDependencies)`,
    );
  }
}

/**
 * Report every way `pkg`'s manifest disagrees with what `sources` import. `workspace` maps each
 * workspace package name to its manifest; `rootPkg` is the root manifest (its devDependencies,
 * such as vitest, serve every package's tests).
 */
export function checkManifest(pkg, { workspace, rootPkg }, sources, report) {
  const code = sources.filter((s) => !s.testSide);
  const tests = sources.filter((s) => s.testSide);
  if (pkg.private) return checkImportsDeclared(pkg, rootPkg, sources, report);
  checkDeclaredAreUsed(pkg, workspace, code, tests, report);
  checkUsedAreDeclared(pkg, code, report);
  checkImportsDeclared(pkg, rootPkg, tests, report);
}
