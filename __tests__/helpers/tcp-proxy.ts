/**
 * A TCP proxy in front of the local PostgreSQL server that a test controls:
 * it forwards, drops every connection (a server restart seen from the
 * client), refuses new ones (a server that is down), or stops forwarding
 * without closing anything (a network partition: packets go nowhere).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `url` with its host and port pointed at the proxy. */
  via(url: string): string;
  /** Ends every open connection. */
  drop(): void;
  /** While true, new connections are closed at once (each counted in `refused`). */
  refuse(on: boolean): void;
  refused(): number;
  /** Stops forwarding in both directions, closing nothing; new connections hang too. */
  partition(): void;
  /** The local ports of the proxy's connections to the server: `client_port` in pg_stat_activity. */
  upstreamPorts(): number[];
  close(): Promise<void>;
}

export async function startProxy(targetHost = '127.0.0.1', targetPort = 5432): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let refused = 0;
  let partitioned = false;
  const held: Socket[] = [];
  const server: Server = createServer((client) => {
    client.on('error', () => undefined);
    if (partitioned) { held.push(client); client.pause(); return; }
    if (refusing) { refused++; client.destroy(); return; }
    const upstream = connect(targetPort, targetHost);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const forget = () => { pairs.delete(pair); };
    client.on('close', () => { upstream.destroy(); forget(); });
    upstream.on('close', () => { if (!partitioned) client.destroy(); forget(); });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    via: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    drop: () => { for (const [c, u] of pairs) { c.destroy(); u.destroy(); } },
    refuse: (on) => { refusing = on; },
    refused: () => refused,
    partition: () => {
      partitioned = true;
      for (const [c, u] of pairs) {
        c.unpipe(u);
        u.unpipe(c);
        c.pause();
        u.pause();
      }
    },
    upstreamPorts: () => [...pairs].map(([, u]) => u.localPort).filter((p): p is number => p !== undefined),
    close: async () => {
      for (const [c, u] of pairs) { c.destroy(); u.destroy(); }
      for (const s of held) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
