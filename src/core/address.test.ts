import { describe, expect, it } from 'vitest';
import { parseHost } from './address.js';

describe('parseHost', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0.0.0.0', '0.0.0.0'],
    ['localhost', '127.0.0.1'],
    ['LOCALHOST', '127.0.0.1'],
    ['fe80::1%eth0', 'fe80::1%eth0'],
  ])('accepts %s as %s', (text, host) => expect(parseHost(text, '--host')).toBe(host));

  it.each(['', ' ', '999.1.1.1', 'example.com', '1.2.3', 'local host', '[127.0.0.1'])('rejects %j with exit 2', (text) => {
    expect(() => parseHost(text, '--host')).toThrow(expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/--host/) }));
  });
});
