import { describe, expect, it } from 'vitest';
import { diffTables, tcpTable } from './tcp-state.js';

describe('TCP state polling', () => {
  it('reports new states and CLOSED for sockets gone, not listeners', () => {
    const a = tcpTable('LISTEN 0 511 0.0.0.0:53 0.0.0.0:*\nSYN-SENT 0 1 10.0.6.54:40000 10.0.6.53:53\n');
    const b = tcpTable('ESTAB 0 0 10.0.6.54:40000 10.0.6.53:53\n');
    const c = tcpTable('');
    expect(diffTables('ns2', new Map(), a)).toEqual([{ host: 'ns2', local: '10.0.6.54:40000', remote: '10.0.6.53:53', state: 'SYN-SENT' }]);
    expect(diffTables('ns2', a, b).map((x) => x.state)).toEqual(['ESTABLISHED']);
    expect(diffTables('ns2', b, b)).toEqual([]);
    expect(diffTables('ns2', b, c).map((x) => x.state)).toEqual(['CLOSED']);
  });
});
