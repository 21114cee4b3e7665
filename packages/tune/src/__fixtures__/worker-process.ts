// A tune worker process for the tests: `node worker-process.mjs <redis url> <lock ms>`.
import { startWorker } from '../start-worker';
import { objective } from './synthetic-objective';

const [url, lockMs] = process.argv.slice(2);
const worker = await startWorker({
  url,
  objective,
  lockDurationMs: Number(lockMs),
  stalledIntervalMs: Number(lockMs),
  onTrial: (record, recorded) =>
    process.stdout.write(`done ${record.number} ${record.state} ${recorded}\n`),
});
process.stdout.write(`ready ${worker.id}\n`);
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
