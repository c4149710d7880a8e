import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EventLog } from '../../observe/events.js';
import { renderPage } from './page.js';

export interface LiveServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the live page on 127.0.0.1: GET / the page, GET /events every event so far and then each
 * new one (server-sent events), POST /control pause | next | resume (the step buttons).
 */
export async function startLiveServer(opts: { log: EventLog; title: string; port?: number; onControl?: (action: string) => void }): Promise<LiveServer> {
  const clients = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.method === 'GET' && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(renderPage({ title: opts.title }));
    } else if (req.method === 'GET' && req.url === '/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      clients.add(res);
      const unsub = opts.log.subscribe((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
      req.on('close', () => {
        unsub();
        clients.delete(res);
      });
    } else if (req.method === 'POST' && req.url === '/control') {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d.slice(0, 64)));
      req.on('end', () => {
        const action = body.trim();
        if (['pause', 'next', 'resume'].includes(action)) opts.onControl?.(action);
        res.writeHead(204).end();
      });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', onError);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
