/**
 * The monitor's I/O: resolve what the operator typed into node URLs, and poll nodes over HTTP (src/client) with a
 * bound on time and size per request. Every failure becomes a typed observation (`ok: false` with a code); nothing throws
 * past `pollNetwork`.
 */
import { createClient, isApiError } from '../client/index.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ZodType } from 'zod';
import { MONITOR_NODES_MAX, MONITOR_REQUEST_TIMEOUT_MS, MONITOR_RESPONSE_BYTES_MAX } from '../core/limits.js';
import { statusSchema, validatorsSchema, type ValidatorsResponse } from './contract.js';
import type { Endpoint, MonitorErrorCode, NodeObservation, Poll } from './snapshot.js';

/** A bad `--nodes` value: the CLI prints the message and exits 2. */
export class MonitorInputError extends Error {
  constructor(readonly code: 'MONITOR_BAD_ENDPOINT' | 'MONITOR_TOO_MANY_NODES', message: string) {
    super(message);
    this.name = 'MonitorInputError';
  }
}

export interface ResolvedEndpoint extends Endpoint {
  /** Where the URL came from: a URL typed as is, a config file's http_port, or the 8100+N fallback. */
  source: 'url' | 'config' | 'fallback';
  note: string | null;
}

const NODE_ID_PATTERN = /^node_(\d{1,4})$/;
/** Base of the default HTTP ports: node_N listens on 8100+N when no config says otherwise. */
export const HTTP_PORT_BASE = 8100;

/**
 * Turn `node_1,node_2` or `http://host:port` items into endpoints. A node id is looked up in
 * `<configDir>/<id>.json` (field `http_port`, on localhost); if that file is absent, node_N falls back to port
 * 8100+N and the endpoint says so in `note`.
 * @throws MonitorInputError on an empty list, an unparsable item, or more than MONITOR_NODES_MAX nodes.
 */
export async function resolveEndpoints(items: readonly string[], configDir: string): Promise<ResolvedEndpoint[]> {
  const cleaned = items.map((s) => s.trim()).filter((s) => s.length > 0);
  if (cleaned.length === 0) throw new MonitorInputError('MONITOR_BAD_ENDPOINT', 'no nodes given: pass --nodes node_1,node_2 or URLs');
  if (cleaned.length > MONITOR_NODES_MAX) {
    throw new MonitorInputError('MONITOR_TOO_MANY_NODES', `${cleaned.length} nodes given; at most ${MONITOR_NODES_MAX} can be watched`);
  }
  const out: ResolvedEndpoint[] = [];
  for (const item of cleaned) {
    if (/^https?:\/\//i.test(item)) {
      let url: URL;
      try {
        url = new URL(item);
      } catch {
        throw new MonitorInputError('MONITOR_BAD_ENDPOINT', `"${item}" is not a valid URL`);
      }
      out.push({ label: item, url: url.origin + url.pathname.replace(/\/+$/, ''), source: 'url', note: null });
      continue;
    }
    const match = NODE_ID_PATTERN.exec(item);
    const file = path.join(configDir, `${item}.json`);
    let text: string | null = null;
    if (/^[A-Za-z0-9_.-]{1,64}$/.test(item)) {
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new MonitorInputError('MONITOR_BAD_ENDPOINT', `cannot read ${file}: ${(err as Error).message}`);
        }
      }
    } else {
      throw new MonitorInputError('MONITOR_BAD_ENDPOINT', `"${item}" is neither a node id (node_N) nor an http(s) URL`);
    }
    if (text !== null) {
      let port: unknown;
      let host: unknown;
      try {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        port = parsed.http_port;
        host = parsed.http_host;
      } catch (err) {
        throw new MonitorInputError('MONITOR_BAD_ENDPOINT', `${file} is not valid JSON: ${(err as Error).message}`);
      }
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
        throw new MonitorInputError('MONITOR_BAD_ENDPOINT', `${file} has no valid http_port (got ${JSON.stringify(port)})`);
      }
      const h = typeof host === 'string' && host !== '0.0.0.0' && host !== '::' && host.length > 0 ? host : '127.0.0.1';
      out.push({ label: item, url: `http://${h}:${port}`, source: 'config', note: null });
      continue;
    }
    if (match === null) {
      throw new MonitorInputError('MONITOR_BAD_ENDPOINT', `no config file ${file} for "${item}", and it is not of the form node_N`);
    }
    const port = HTTP_PORT_BASE + Number(match[1]);
    out.push({
      label: item, url: `http://127.0.0.1:${port}`, source: 'fallback',
      note: `${file} not found: using the default port ${port} for ${item}`,
    });
  }
  return out;
}

type Fetched<T> = { ok: true; value: T } | { ok: false; code: MonitorErrorCode; message: string };

/** The client's failure as the monitor's typed observation. */
function monitorCode(code: string): MonitorErrorCode {
  switch (code) {
    case 'CLIENT_TIMEOUT': return 'MONITOR_TIMEOUT';
    case 'CLIENT_UNREACHABLE': return 'MONITOR_UNREACHABLE';
    case 'CLIENT_RESPONSE_TOO_LARGE': return 'MONITOR_RESPONSE_TOO_LARGE';
    case 'CLIENT_BAD_RESPONSE': return 'MONITOR_BAD_RESPONSE';
    default: return 'MONITOR_HTTP_STATUS';
  }
}

/**
 * GET `path` of the node at `baseUrl` through the API client, bounded in time and size (MONITOR_*), parsed with
 * the monitor's own looser `schema` (contract.ts: it tolerates older nodes). Never throws.
 */
export async function fetchJson<T>(baseUrl: string, path: string, schema: ZodType<T>, timeoutMs: number = MONITOR_REQUEST_TIMEOUT_MS): Promise<Fetched<T>> {
  try {
    const client = createClient({ baseUrl, timeoutMs, responseBytesMax: MONITOR_RESPONSE_BYTES_MAX });
    return { ok: true, value: await client.get(path, schema) };
  } catch (err) {
    if (isApiError(err)) return { ok: false, code: monitorCode(err.code), message: err.message };
    return { ok: false, code: 'MONITOR_UNREACHABLE', message: `${baseUrl}${path}: ${(err as Error).message}` };
  }
}

/**
 * Poll every node's `/status` at once, then `/validators` from the most advanced node that answered
 * (falling back to the next ones if it fails). `now` stamps the poll.
 */
export async function pollNetwork(
  endpoints: readonly Endpoint[],
  options: { timeoutMs?: number; now?: () => number } = {},
): Promise<Poll> {
  const timeoutMs = options.timeoutMs ?? MONITOR_REQUEST_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const nodes: NodeObservation[] = await Promise.all(endpoints.map(async (endpoint): Promise<NodeObservation> => {
    const r = await fetchJson(endpoint.url, '/status', statusSchema, timeoutMs);
    return r.ok ? { endpoint, ok: true, status: r.value } : { endpoint, ok: false, code: r.code, message: r.message };
  }));
  const candidates = nodes
    .filter((n): n is Extract<NodeObservation, { ok: true }> => n.ok)
    .sort((a, b) => b.status.height - a.status.height);
  let validators: ValidatorsResponse | null = null;
  for (const c of candidates.slice(0, 3)) {
    const r = await fetchJson(c.endpoint.url, '/validators', validatorsSchema, timeoutMs);
    if (r.ok) { validators = r.value; break; }
  }
  return { atMs: now(), nodes, validators };
}
