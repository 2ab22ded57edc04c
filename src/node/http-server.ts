/** The HTTP listener of the API: Node's http server with the bounds of src/core/limits.ts. */
import { createServer, type RequestListener, type Server } from 'node:http';
import { HTTP_CONNECTIONS_MAX, HTTP_HEADER_BYTES_MAX, HTTP_HEADERS_TIMEOUT_MS, HTTP_REQUEST_TIMEOUT_MS } from '../core/limits.js';
import { NodeError } from './errors.js';

export interface HttpListener {
  /** The port actually bound (the configured one, or the kernel's pick for 0). */
  readonly port: number;
  /** Drop open connections and stop listening. */
  close(): Promise<void>;
}

/**
 * Listen on host:port with the request, header and connection bounds.
 * @throws NodeError NODE_HTTP_PORT when the port is in use or cannot be bound.
 * @example const http = await listenHttp(createApp(deps), '127.0.0.1', 8101);
 */
export async function listenHttp(handler: RequestListener, host: string, port: number): Promise<HttpListener> {
  const server: Server = createServer({ maxHeaderSize: HTTP_HEADER_BYTES_MAX }, handler);
  server.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
  server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
  // Beyond this many open client connections the kernel-accepted socket is closed at once (CometBFT's
  // max_open_connections): a client flood cannot exhaust the node's file descriptors or memory.
  server.maxConnections = HTTP_CONNECTIONS_MAX;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(new NodeError('NODE_HTTP_PORT', err.code === 'EADDRINUSE' ? `HTTP port ${port} is in use` : `cannot listen on HTTP ${host}:${port}: ${err.message}`));
    });
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
