import { runCli } from './program';

runCli(process.argv.slice(2), { out: process.stdout, err: process.stderr }).then(
  (code) => {
    // `serve` keeps the process alive with its listening socket; everything else ends here.
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`convkit: ${error.message}\n`);
    process.exitCode = 1;
  },
);
