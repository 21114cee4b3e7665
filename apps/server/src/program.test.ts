import { describe, expect, it } from 'vitest';
import { type CliIo, EXIT, runCli, VERSION } from './program';

/** Run the CLI in-process; return the exit code and what it wrote. */
async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: {
      write: (s: string) => {
        out += s;
      },
    },
    err: {
      write: (s: string) => {
        err += s;
      },
    },
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

describe('convkit command line', () => {
  it('--help lists every command; each command has its own --help; --version prints it', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(EXIT.ok);
    for (const command of [
      'main',
      'train',
      'evaluate',
      'predict',
      'summary',
      'export',
      'serve',
      'tune',
      'tune-worker',
    ]) {
      expect(help.out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
    const train = await cli('train', '--help');
    expect(train.code).toBe(EXIT.ok);
    expect(train.out).toContain('--optimizer');
    expect(train.out).toContain('--resume');
    expect(train.out).toContain('cifarResnet20');
    const version = await cli('--version');
    expect(version.code).toBe(EXIT.ok);
    expect(version.out.trim()).toBe(VERSION);
  });

  it.each([
    [
      ['main', '--lr', 'Infinity'],
      /--lr <x>' argument 'Infinity' is invalid\. expected a finite decimal number/,
    ],
    [['main', '--lr', 'NaN'], /expected a finite decimal number, received 'NaN'/],
    [['main', '--lr', '0'], /expected a number in \(0, 10\], received 0/],
    [
      ['main', '--epochs', '-1'],
      /--epochs <n>' argument '-1' is invalid\. expected an integer in \[1, 100000\], received -1/,
    ],
    [['main', '--epochs', '0x10'], /expected a decimal integer, received '0x10'/],
    [['main', '--batch-size', '1e9'], /expected a decimal integer, received '1e9'/],
    [['main', '--epochs', '1.5'], /expected a decimal integer, received '1.5'/],
    [['main', '--epochs', '99999999999'], /expected an integer in \[1, 100000\]/],
    [
      ['main', '--seed', ''],
      /--seed <n>' argument '' is invalid\. expected a decimal integer, received ''/,
    ],
    [
      ['main', '--run-dir', ''],
      /--run-dir <dir>' argument '' is invalid\. expected a non-empty value/,
    ],
    [['main', 'train'], /too many arguments for 'main'\. Expected 0 arguments but got 1/],
    [['main', '--backend', 'gpu'], /argument 'gpu' is invalid\. Allowed choices are auto, /],
    [['train', '--model', 'resnet9000'], /Allowed choices are lenet5, /],
    [['train', '--dataset', 'cifar'], /--dataset cifar needs --data <path>/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['main', '--bogus'], /unknown option '--bogus'/],
  ])('refuses %j with a usage error naming the problem (exit 2, stderr)', async (argv, message) => {
    const { code, out, err } = await cli(...argv);
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(message);
    expect(out).toBe('');
  });

  it('a failure while running is one line on stderr and exit 1', async () => {
    const { code, err } = await cli('evaluate', '/nonexistent/run', '--backend', 'cpu');
    expect(code).toBe(EXIT.failure);
    expect(err).toMatch(/^convkit: '\/nonexistent\/run' holds no checkpoint/m);
  });
});
