// The kiln ui HTTP server: read-only (GET and HEAD), on 127.0.0.1 by default, serving the built front end and the
// JSON API. Every answer forbids inline scripts (Content-Security-Policy), so a string from pull-request YAML that
// reaches the page as markup still cannot run.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { diag, toJson } from '../diagnostics/index.ts';
import { answer, type UiSource } from './api.ts';
import type { UiAsset } from './assets.ts';

export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** For files a run logged (an SVG may carry script): shown as documents with no power at all. */
const FILE_POLICY = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox";

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export interface UiServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, head: boolean, status: number, body: Buffer, headers: Record<string, string>): void {
  res.writeHead(status, { 'Content-Length': String(body.length), 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store', ...headers });
  res.end(head ? undefined : body);
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v));

export function startUiServer(src: UiSource, assets: Map<string, UiAsset>, opts: { host: string; port: number }): Promise<UiServer> {
  const loopbackOnly = LOOPBACK.has(opts.host);
  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    const base = { 'Content-Security-Policy': CONTENT_SECURITY_POLICY };
    if (req.method !== 'GET' && !head) {
      send(res, false, 405, json({ diagnostics: [toJson(diag('KILN8009', { method: req.method ?? '?' }))] }), { ...base, 'Content-Type': 'application/json', Allow: 'GET, HEAD' });
      return;
    }
    // A page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host: refused.
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (loopbackOnly && !LOOPBACK.has(hostName)) {
      send(res, head, 421, Buffer.from('kiln ui answers requests to 127.0.0.1 or localhost only\n'), { ...base, 'Content-Type': 'text/plain; charset=utf-8' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      void answer(src, url.pathname, url.searchParams).then((a) => {
        if ('json' in a) send(res, head, a.status, json(a.json), { ...base, 'Content-Type': 'application/json' });
        else send(res, head, a.status, a.bytes, { 'Content-Security-Policy': FILE_POLICY, 'Content-Type': a.contentType });
      });
      return;
    }
    const name = url.pathname === '/' ? 'index.html' : url.pathname.slice(1);
    const asset = assets.get(name);
    if (!asset) {
      send(res, head, 404, Buffer.from('not found\n'), { ...base, 'Content-Type': 'text/plain; charset=utf-8' });
      return;
    }
    send(res, head, 200, asset.bytes, { ...base, 'Content-Type': asset.contentType });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      resolve({
        url: `http://${shown}:${port}/`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
