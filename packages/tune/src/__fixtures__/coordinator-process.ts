// A study coordinator for the tests: `node coordinator.mjs <redis url> <study name>`; prints
// `trial <n>` for every finished trial.
import { redisRunner } from '../redis-runner';
import { runStudy } from '../study';
import { faultSettings } from './fault-settings';

const [url, name] = process.argv.slice(2);
await runStudy({
  ...faultSettings,
  name,
  runner: redisRunner({ url }),
  onTrial: (t) => process.stdout.write(`trial ${t.number}\n`),
});
process.stdout.write('finished\n');
