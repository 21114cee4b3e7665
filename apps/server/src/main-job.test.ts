import { measureLeaks } from '@convkit/backend';
import { describe, expect, it } from 'vitest';
import { runMainJob } from './main-job';

describe('main job', () => {
  it('reports the backend, trains (the loss falls) and leaks no tensors', async () => {
    const lines: string[] = [];
    // Warm up once so the backend's own one-time tensors are not counted as leaks.
    await runMainJob({ backend: 'cpu', steps: 1, batchSize: 4, seed: 1, log: () => {} });
    const { result, leakedTensors } = await measureLeaks(() =>
      runMainJob({ backend: 'cpu', steps: 12, batchSize: 16, seed: 0, log: (l) => lines.push(l) }),
    );
    expect(leakedTensors).toBe(0);
    expect(lines[0]).toContain('backend: cpu');
    expect(lines.join('\n')).toContain('trains conv nets: yes');
    const first = result.losses.slice(0, 3).reduce((a, b) => a + b) / 3;
    const last = result.losses.slice(-3).reduce((a, b) => a + b) / 3;
    expect(last).toBeLessThan(first * 0.5);
  });
});
