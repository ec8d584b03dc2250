// An HTTP pass-through in front of a test registry, so that a test sees what kiln asked the registry (which blobs it
// downloaded) and can act at an exact moment of a push (stop the real registry before a given upload reaches it).
import http from 'node:http';
import type net from 'node:net';

export interface RegistryRequest {
  method: string;
  path: string;
}

export interface RegistryProxy {
  /** host:port of the proxy, for oci:// references. */
  host: string;
  /** Every request forwarded (or attempted), in order. */
  requests: RegistryRequest[];
  /** Blob digests downloaded (GET /v2/<repo>/blobs/<digest>) since the last `reset`. */
  blobsFetched(): string[];
  reset(): void;
  /** Where requests go from now on (a registry restarted on another port). */
  retarget(host: string): void;
  /** Called before each request is forwarded; may stop the registry first. */
  before: ((r: RegistryRequest) => Promise<void>) | null;
  close(): Promise<void>;
}

export async function startRegistryProxy(target: string): Promise<RegistryProxy> {
  let upstream = target;
  const requests: RegistryRequest[] = [];
  let since = 0;
  const proxy: RegistryProxy = {
    host: '',
    requests,
    blobsFetched: () =>
      requests
        .slice(since)
        .filter((r) => r.method === 'GET')
        .map((r) => /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(r.path)?.[1])
        .filter((d): d is string => d !== undefined),
    reset: () => {
      since = requests.length;
    },
    retarget: (host) => {
      upstream = host;
    },
    before: null,
    close: () => new Promise((r) => server.close(() => r())),
  };
  const server = http.createServer((req, res) => {
    const r = { method: req.method ?? 'GET', path: (req.url ?? '/').split('?')[0] };
    requests.push(r);
    void (proxy.before?.(r) ?? Promise.resolve()).then(() => {
      const [hostname, port] = upstream.split(':');
      const out = http.request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      // A registry that is down: the client sees the connection drop, as it would without the proxy.
      out.on('error', () => res.destroy());
      req.pipe(out);
    });
  });
  server.keepAliveTimeout = 1;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return proxy;
}
