import { describe, expect, it } from 'vitest';
import { checkStateKeys, StateDictError, stateProblem } from './stateful';

describe('the state protocol', () => {
  it('refuses missing and unknown keys, naming each, and a state that is not an object', () => {
    expect(() => checkStateKeys('Thing', { a: 1, b: 2 }, ['a', 'b'])).not.toThrow();
    let error: unknown;
    try {
      checkStateKeys('Thing', { a: 1, c: 3, d: 4 }, ['a', 'b']);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictError);
    expect((error as StateDictError).owner).toBe('Thing');
    expect((error as StateDictError).problems).toEqual([
      'missing key b',
      'unexpected key c',
      'unexpected key d',
    ]);
    expect((error as Error).message).toBe(
      'Thing.loadStateDict: 3 problem(s):\n  missing key b\n  unexpected key c\n  unexpected key d',
    );
    expect(() => checkStateKeys('Thing', null, ['a', 'b'])).toThrow(
      'Thing.loadStateDict: state: expected { a, b }, received null',
    );
    expect(() => checkStateKeys('Thing', [1], ['a'])).toThrow('received [1]');
  });

  it('describes a bad value with the expected and received value', () => {
    expect(stateProblem('epoch', 'an integer >= 0', -1)).toBe(
      'epoch: expected an integer >= 0, received -1',
    );
    expect(stateProblem('name', 'a string', undefined)).toBe(
      'name: expected a string, received undefined',
    );
  });
});
