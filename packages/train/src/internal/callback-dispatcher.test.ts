import { describe, expect, it } from 'vitest';
import type { Callback, TrainingContext } from '../callback';
import { CallbackDispatcher } from './callback-dispatcher';

class Named implements Callback {
  constructor(
    readonly log: string[],
    readonly tag: string,
    readonly order?: number,
  ) {}
  async onEpochBegin(epoch: number) {
    // An awaited pause: the next callback must not start before this one ends.
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.log.push(`${this.tag}:${epoch}`);
  }
}

describe('CallbackDispatcher', () => {
  it('runs lower order first, ties as given, each awaited before the next', async () => {
    const log: string[] = [];
    const dispatcher = new CallbackDispatcher([
      new Named(log, 'checkpoint', 100),
      new Named(log, 'a'),
      new Named(log, 'early', -10),
      new Named(log, 'b'),
      { onTrainBegin: () => void log.push('no epoch hook') },
    ]);
    await dispatcher.call('onEpochBegin', 3, {} as TrainingContext);
    expect(log).toEqual(['early:3', 'a:3', 'b:3', 'checkpoint:3']);
  });

  it('names callbacks by callbackName or class, numbering repeats', () => {
    const log: string[] = [];
    const dispatcher = new CallbackDispatcher([
      new Named(log, 'a'),
      new Named(log, 'b'),
      { callbackName: 'Mine' },
      {},
    ]);
    expect([...dispatcher.byName.keys()]).toEqual(['Named', 'Named2', 'Mine', 'Object']);
  });
});
