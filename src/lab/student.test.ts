import { describe, expect, it } from 'vitest';
import { listLabFiles, loadLabFile } from './loader.js';
import { normaliseAnswer, sameAnswer, expectedAnswer } from './questions.js';
import { variantVars, seedOfStudent, variantOf, parseSeed } from './variants.js';
import { gradeCsv, gradeReports } from './grade.js';
import { sockets } from './checks/sockets.js';
import type { CheckContext } from './checks/kind.js';
import type { LabReport } from './output.js';
import type { SocketRecord } from '../netstat/types.js';

describe('answers are compared in one spelling', () => {
  it('trims, ignores case, prefix lengths, brackets, trailing dots and leading zeros', () => {
    expect(sameAnswer(' 10.0.7.100/24 ', '10.0.7.100')).toBe(true);
    expect(sameAnswer('WWW.Example.COM.', 'www.example.com')).toBe(true);
    expect(sameAnswer('"08920"', '8920')).toBe(true);
    expect(sameAnswer('[2001:db8::1]', '2001:db8::1')).toBe(true);
    expect(sameAnswer('10.0.7.101', '10.0.7.100')).toBe(false);
    expect(sameAnswer('0.0.0.0:68', '0.0.0.0:67')).toBe(false);
    expect(normaliseAnswer('Registered')).toBe('registered');
  });
});

describe('variants', () => {
  const spec = { port: { range: [9000, 9999] as [number, number] }, zone: { choose: ['alpha.test', 'beta.test', 'gamma.test'] }, mac: { mac: '02:42' } };
  it('are deterministic per seed, inside their ranges, and differ between seeds', () => {
    const a = variantVars(spec, 1);
    expect(variantVars(spec, 1)).toEqual(a);
    const b = variantVars(spec, 2);
    expect(b.port).not.toBe(a.port);
    for (const v of [a, b]) {
      expect(Number(v.port)).toBeGreaterThanOrEqual(9000);
      expect(Number(v.port)).toBeLessThanOrEqual(9999);
      expect(spec.zone.choose).toContain(v.zone);
      expect(v.mac).toMatch(/^02:42(:[0-9a-f]{2}){4}$/);
    }
  });
  it('a student id hashes to a stable seed; no flag means no variant', () => {
    expect(seedOfStudent('alice')).toBe(seedOfStudent(' alice '));
    expect(seedOfStudent('alice')).not.toBe(seedOfStudent('bob'));
    expect(variantOf({})).toBeUndefined();
    expect(variantOf({ student: 'alice' })).toEqual({ seed: seedOfStudent('alice'), student: 'alice' });
    expect(() => parseSeed('-1')).toThrow(/--seed -1/);
    expect(() => parseSeed('x')).toThrow(/--seed x/);
    expect(() => variantOf({ student: '  ' })).toThrow(/--student/);
  });
});

describe('the shipped labs', () => {
  it('every lab has at least two questions; two labs have a break/fix task', () => {
    const specs = listLabFiles().map((l) => loadLabFile(l.file));
    for (const s of specs) expect(s.questions.length, s.name).toBeGreaterThanOrEqual(2);
    const faults = specs.flatMap((s) => s.tasks.filter((t) => t.fault).map((t) => `${s.name}/${t.id}`));
    expect(faults).toEqual(expect.arrayContaining(['06-dns/fix-acl', '08-dhcp-relay/fix-route']));
  });
});

const row = (local: [string, number], remote: [string, number], state: string): SocketRecord =>
  ({ proto: 'tcp', state, local: { address: local[0], port: local[1] }, remote: { address: remote[0], port: remote[1] } }) as SocketRecord;

function ctx(rows: SocketRecord[], logs: Record<string, Record<string, unknown>[]>): CheckContext {
  return {
    scope: { 'echo.port': '8920' },
    sockets: async () => rows,
    logRecords: (s) => logs[s],
    serviceOutput: () => undefined,
    ephemeralRange: async () => undefined,
    exec: async () => ({ code: 0, stdout: '', stderr: '', timedOut: false }),
  } as CheckContext;
}

describe('checks look only at this run', () => {
  const check = sockets.schema.parse({ kind: 'sockets', hint: 'h', proto: 'tcp', port: '${echo.port}', state: 'TIME-WAIT', min: 1, 'this-run': 'echo' });
  const stale = row(['127.0.0.1', 41000], ['127.0.0.1', 8920], 'TIME-WAIT');
  const ours = row(['127.0.0.1', 42000], ['127.0.0.1', 8920], 'TIME-WAIT');
  const log = { echo: [{ event: 'tcp.accept', pair: '127.0.0.1:42000 <-> 127.0.0.1:8920' }] };
  it('a TIME-WAIT row left by an earlier run no longer satisfies the check', async () => {
    const v = await sockets.evaluate(check, ctx([stale], log), 'local');
    expect(v.passed).toBe(false);
    expect(v.detail).toMatch(/1 more from other runs not counted/);
  });
  it("this run's own TIME-WAIT row does", async () => {
    expect((await sockets.evaluate(check, ctx([stale, ours], log), 'local')).passed).toBe(true);
  });
});

describe('question answers come from the run', () => {
  const logs = { echo: [{ event: 'tcp.accept', from: '127.0.0.1:50001', to: '127.0.0.1:8920' }, { event: 'tcp.accept', from: '127.0.0.1:50002', to: '127.0.0.1:8920' }] };
  it('event fields, counts, and what is missing', async () => {
    const c = ctx([row(['127.0.0.1', 50001], ['127.0.0.1', 8920], 'ESTAB')], logs);
    expect(await expectedAnswer({ event: { service: 'echo', event: 'tcp.accept', field: 'from', part: 'port' } }, c, 'local')).toEqual({ value: '50001' });
    expect(await expectedAnswer({ event: { service: 'echo', event: 'tcp.accept', field: 'from', pick: 'last', part: 'address' } }, c, 'local')).toEqual({ value: '127.0.0.1' });
    expect(await expectedAnswer({ 'count-events': { service: 'echo', event: 'tcp.accept' } }, c, 'local')).toEqual({ value: '2' });
    expect(await expectedAnswer({ 'count-sockets': { proto: 'tcp', port: '${echo.port}', state: 'ESTABLISHED' } }, c, 'local')).toEqual({ value: '1' });
    expect(await expectedAnswer({ value: '${echo.port}' }, c, 'local')).toEqual({ value: '8920' });
    expect((await expectedAnswer({ event: { service: 'echo', event: 'udp.datagram', field: 'from' } }, c, 'local')).missing).toMatch(/no udp.datagram/);
  });
});

describe('lab grade', () => {
  const base = (student: string, points: number, startedAt = '2026-01-01T00:00:00Z'): LabReport => ({
    lab: '02-socket-pairs', title: 't', topic: 't', exitCode: 0, passed: true, steps: [], startedAt, durationMs: 1, student, seed: seedOfStudent(student),
    checks: [{ kind: 'listening', name: 'n', passed: true, detail: '', hint: '', points: 1, maxPoints: 1 }],
    questions: [{ id: 'q', text: 'q?', answered: true, correct: points > 1, points: points - 1, maxPoints: 1 }],
    score: { points, maxPoints: 2 },
  });
  it('one row per student, the latest result per lab, spreadsheet-safe cells', () => {
    const { rows, labs } = gradeReports([
      { file: 'a1.json', report: base('alice', 1) },
      { file: 'a2.json', report: base('alice', 2, '2026-01-02T00:00:00Z') },
      { file: 'b.json', report: base('=bob', 1) },
    ]);
    expect(rows.map((r) => [r.student, r.points])).toEqual([['=bob', 1], ['alice', 2]]);
    const csv = gradeCsv(rows, labs).trim().split('\n');
    expect(csv[0]).toBe('student,seed,02-socket-pairs,checks_passed,checks_total,tasks_done,tasks_total,questions_right,questions_total,points,max_points,percent');
    expect(csv[1]).toMatch(/^"'=bob",/);
    expect(csv[2]).toBe(`alice,${seedOfStudent('alice')},2,1,1,0,0,1,1,2,2,100.0`);
  });
});
