// The README promises only what the built CLI has: every `convkit <command>` it names is a
// command of `convkit --help`, and every `--flag` it names is in the `--help` of the command it
// is written with (on a `convkit <command>` line of a shell block, in that command's row of the
// commands table, or in the HTTP server section for `serve`), or else of some command.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { convkit, expectBuiltCli } from './__fixtures__/built-cli';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const FLAG = /--[a-z][a-z0-9-]*/g;
/** The README less the commands of other tools (`pnpm --filter ...`, `node bench/...`). */
const CONVKIT_TEXT = README.replace(/`(pnpm|npm|node) [^`]*`/g, '');

const commands: string[] = [];
const help = new Map<string, string>();
let topHelp = '';

/** The flags a help text lists (`-k, --top-k <n>` gives `--top-k`). */
function flagsOf(text: string): Set<string> {
  return new Set(text.match(FLAG) ?? []);
}

beforeAll(async () => {
  expectBuiltCli();
  const top = await convkit('--help');
  expect(top.code).toBe(0);
  topHelp = top.stdout;
  const section = topHelp.slice(topHelp.indexOf('Commands:'));
  for (const match of section.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)) {
    if (match[1] !== 'help') commands.push(match[1]);
  }
  await Promise.all(
    commands.map(async (command) => {
      const result = await convkit(command, '--help');
      expect(result.code, `convkit ${command} --help`).toBe(0);
      help.set(command, result.stdout);
    }),
  );
}, 300_000);

/** `convkit <command> ...` lines of the README's shell blocks, continuation lines joined. */
function shellLines(): { command: string; line: string }[] {
  const lines: { command: string; line: string }[] = [];
  for (const block of README.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1].replace(/\\\n/g, ' ');
    for (const raw of joined.split('\n')) {
      const match = /(?:^|\s)convkit ([a-z][a-z-]*)(.*)$/.exec(raw.replace(/#.*$/, ''));
      if (match) lines.push({ command: match[1], line: match[2] });
    }
  }
  return lines;
}

/** Rows of the commands table: `| \`name\` | text |`. */
function tableRows(): { command: string; text: string }[] {
  const table = README.slice(README.indexOf('## Commands'), README.indexOf('### Backends'));
  return [...table.matchAll(/^\| `([a-z][a-z-]*)` \| (.*) \|$/gm)].map((m) => ({
    command: m[1],
    text: m[2],
  }));
}

describe('apps/server/README.md against the built CLI', () => {
  it('finds the commands and their help', () => {
    expect(commands).toEqual(
      expect.arrayContaining(['main', 'train', 'evaluate', 'predict', 'serve', 'tune']),
    );
    expect(shellLines().length).toBeGreaterThan(10);
    expect(tableRows().length).toBeGreaterThan(10);
  });

  it('names only commands that exist', () => {
    const named = new Set<string>();
    // In code: `convkit X ...` spans and the shell blocks' lines (prose says "convkit keys").
    for (const m of README.matchAll(/`convkit ([a-z][a-z-]*)[^`]*`/g)) named.add(m[1]);
    for (const { command } of shellLines()) named.add(command);
    for (const { command } of tableRows()) named.add(command);
    const unknown = [...named].filter((c) => !commands.includes(c));
    expect(unknown, `commands the README names that convkit --help lacks`).toEqual([]);
  });

  it('uses each flag of a shell line with a command that has it', () => {
    const wrong = shellLines().flatMap(({ command, line }) =>
      (line.match(FLAG) ?? [])
        .filter((flag) => !flagsOf(help.get(command) ?? '').has(flag))
        .map((flag) => `convkit ${command} ${flag}`),
    );
    expect(wrong).toEqual([]);
  });

  it("names in each command's table row only that command's flags", () => {
    const wrong = tableRows().flatMap(({ command, text }) =>
      (text.match(FLAG) ?? [])
        .filter((flag) => !flagsOf(help.get(command) ?? '').has(flag))
        .map((flag) => `${command}: ${flag}`),
    );
    expect(wrong).toEqual([]);
  });

  it('names in the HTTP server section only flags of convkit serve', () => {
    const section = README.slice(README.indexOf('## HTTP server'), README.indexOf('## Tests'));
    const serveFlags = flagsOf(help.get('serve') ?? '');
    const wrong = [...new Set(section.match(FLAG) ?? [])].filter((f) => !serveFlags.has(f));
    expect(wrong).toEqual([]);
  });

  it('names anywhere else only flags some command has', () => {
    const all = new Set([
      ...flagsOf(topHelp),
      ...[...help.values()].flatMap((h) => [...flagsOf(h)]),
    ]);
    const wrong = [...new Set(CONVKIT_TEXT.match(FLAG) ?? [])].filter((f) => !all.has(f));
    expect(wrong).toEqual([]);
  });
});
