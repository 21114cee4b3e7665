// Asks @convkit/backend for one backend by name and prints its report (backend, device) or the
// error, as one JSON line. threads.mjs runs it once per candidate GPU backend, each in its own
// process, since tfjs's backend registry is global.
//   node bench/backend-probe.mjs webgpu|cuda|...
import { selectBackend } from '@convkit/backend';

const name = process.argv[2];
try {
  const report = await selectBackend({ backend: name });
  console.log(JSON.stringify({ backend: report.backend, device: report.device }));
} catch (error) {
  console.log(JSON.stringify({ backend: name, error: error.message.split('\n')[0] }));
}
