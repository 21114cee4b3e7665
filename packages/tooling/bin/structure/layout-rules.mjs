// Where a file lives says who may use it: `src/internal/` holds private helpers of the package's
// own code, `src/__fixtures__/` holds what only tests use, and the barrel `src/index.ts`
// re-exports public files only (ARCHITECTURE.md, "Files and names").
import { join, sep } from 'node:path';

const INTERNAL = `src${sep}internal${sep}`;
const FIXTURES = `${sep}__fixtures__${sep}`;

function checkBarrel(sources, dir, report) {
  const barrel = sources.find((s) => s.path === join(dir, 'src', 'index.ts'));
  for (const file of barrel?.localImports ?? []) {
    if (file.startsWith(join(dir, INTERNAL))) {
      report(
        barrel,
        `re-exports ${file.slice(dir.length + 1)}: src/internal/ is private, so a public contract lives in a named file under src/`,
      );
    }
  }
}

function checkInternalUsers(sources, report) {
  for (const file of sources.filter((s) => s.rel.startsWith(INTERNAL))) {
    const users = sources.filter((s) => s.localImports.includes(file.path));
    if (users.length > 0 && users.every((s) => s.testSide)) {
      report(
        file,
        'is under src/internal/ but only tests import it: a test harness belongs in src/__fixtures__/',
      );
    }
  }
}

function checkFixtureUsers(sources, report) {
  for (const file of sources.filter((s) => !s.testSide)) {
    for (const target of file.localImports.filter((path) => path.includes(FIXTURES))) {
      report(
        file,
        `imports the test fixture ${target.slice(target.lastIndexOf(FIXTURES) + 1)}: only tests may use src/__fixtures__/`,
      );
    }
  }
}

/** Report (file, message) for every file in the wrong place or used from the wrong place. */
export function checkLayout(sources, dir, report) {
  checkBarrel(sources, dir, report);
  checkInternalUsers(sources, report);
  checkFixtureUsers(sources, report);
}
