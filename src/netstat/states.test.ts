import { describe, expect, it } from 'vitest';
import { SOCKET_STATES, STATE_EXPLANATIONS, isListeningState, normalizeState, parseStateArg, stateFooter } from './states.js';
import { isLabError } from '../errors.js';

describe('states', () => {
  it('normalises every tool spelling to one vocabulary', () => {
    expect(normalizeState('ESTAB')).toBe('ESTABLISHED');
    expect(normalizeState('TIME_WAIT')).toBe('TIME-WAIT');
    expect(normalizeState('FIN_WAIT2')).toBe('FIN-WAIT-2');
    expect(normalizeState('FIN-WAIT-1')).toBe('FIN-WAIT-1');
    expect(normalizeState('CLOSE')).toBe('CLOSED');
    expect(normalizeState('', 'udp')).toBe('UNCONN');
    expect(normalizeState('UNCONN', 'udp')).toBe('UNCONN');
    expect(normalizeState('UNCONN', 'tcp')).toBe('CLOSED');
    expect(normalizeState('LISTENING')).toBe('LISTEN');
    expect(normalizeState('weird')).toBe('WEIRD');
  });
  it('parses --state in any spelling and rejects unknown words with the list', () => {
    expect(parseStateArg('estab')).toBe('ESTABLISHED');
    expect(parseStateArg('time_wait')).toBe('TIME-WAIT');
    expect(parseStateArg('Close-Wait')).toBe('CLOSE-WAIT');
    let err: unknown;
    try {
      parseStateArg('NOPE');
    } catch (e) {
      err = e;
    }
    expect(isLabError(err) && err.exitCode === 2 && /NOPE.*LISTEN, SYN-SENT/.test(err.message)).toBe(true);
  });
  it('explains every state once, TIME-WAIT with 2*MSL and Linux\'s 60 s, UNCONN as UDP', () => {
    expect(STATE_EXPLANATIONS.map((e) => e.state).sort()).toEqual([...SOCKET_STATES].sort());
    const tw = STATE_EXPLANATIONS.find((e) => e.state === 'TIME-WAIT')!;
    expect(tw.text).toMatch(/2\*MSL/);
    expect(tw.text).toMatch(/60 s/);
    expect(tw.text).toMatch(/2\*MSL is 4 minutes/);
    expect(STATE_EXPLANATIONS.find((e) => e.state === 'UNCONN')!.text).toMatch(/UDP has no connection/);
  });
  it('footer lists only the states seen, in lifecycle order', () => {
    const lines = stateFooter(['TIME-WAIT', 'ESTABLISHED', 'ESTABLISHED']);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ {2}ESTABLISHED/);
    expect(lines[1]).toMatch(/TIME-WAIT .*2\*MSL/);
  });
  it('listening = LISTEN or UNCONN', () => {
    expect(['LISTEN', 'UNCONN', 'ESTABLISHED', 'CLOSED'].map(isListeningState)).toEqual([true, true, false, false]);
  });
});
