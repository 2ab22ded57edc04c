/** Validators as consensus sees them. */
import { P2P_ADDRESS_BYTES_MAX } from '../limits.js';

const PEER_ADDRESS_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/;

/**
 * True for a dialable P2P address `host:port`: a DNS name or IPv4 (letters, digits, dots, hyphens) or a bracketed
 * IPv6, and a port 1..65535; at most P2P_ADDRESS_BYTES_MAX bytes. One rule for configs, bond transactions and peers.
 */
export function isPeerAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > P2P_ADDRESS_BYTES_MAX) return false;
  const m = PEER_ADDRESS_RE.exec(value);
  if (!m) return false;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535;
}

/**
 * Why a bond's published address may not be dialled by every validator, or null when it may. Every validator
 * dials the addresses bonds publish, so an address pointing into private space would make the network probe it
 * (issue 10, attack 8). Refused unless `allowPrivate` (the genesis' `allow_private_addresses`, for local and test
 * networks): loopback, private, link-local, CGNAT, unspecified, multicast and reserved IPv4 and IPv6 ranges,
 * IPv4-mapped IPv6 forms of them, `localhost` and `*.localhost`, and numeric names that are not a plain dotted quad
 * (`127.1`, `2130706433`, `0x7f.1`: resolvers read them as IPv4). A DNS name is allowed: the ledger cannot resolve
 * it deterministically, so the dialer checks the resolved address too (src/adapters/p2p) and backs off.
 * Pure and total: the same answer on every validator.
 * @example addressRefusal('10.0.0.7:26656', false) === 'private, loopback or reserved address 10.0.0.7'
 */
export function addressRefusal(address: string, allowPrivate: boolean): string | null {
  if (!isPeerAddress(address)) return `address must be host:port (at most ${P2P_ADDRESS_BYTES_MAX} bytes)`;
  if (allowPrivate) return null;
  const host = address.slice(0, address.lastIndexOf(':')).replace(/^\[|\]$/g, '').toLowerCase();
  return hostRefusal(host);
}

/** Why a host (no port, no brackets) is not public, or null. Shared by the ledger rule and the dialer. */
export function hostRefusal(host: string): string | null {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return `loopback name ${host}`;
  if (h.includes(':')) {
    const v6 = parseIpv6(h);
    if (v6 === null) return `not an IPv6 address: ${host}`;
    return isPublicIpv6(v6) ? null : `private, loopback or reserved address ${host}`;
  }
  const labels = h.split('.');
  if (/^(0x[0-9a-f]*|[0-9]+)$/.test(labels[labels.length - 1] ?? '')) {
    const v4 = parseDottedQuad(h);
    if (v4 === null) return `numeric host ${host} is not a dotted-quad IPv4 address`;
    return isPublicIpv4(v4) ? null : `private, loopback or reserved address ${host}`;
  }
  return null;
}

function parseDottedQuad(h: string): number[] | null {
  const parts = h.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    out.push(n);
  }
  return out;
}

/** Ranges no validator should be asked to dial (RFC 6890 special-purpose space, roughly). */
function isPublicIpv4([a = 0, b = 0, c = 0]: number[]): boolean {
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this-network, private, loopback, multicast + reserved
  if (a === 100 && b >= 64 && b <= 127) return false; // CGNAT
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b <= 31) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && (c === 0 || c === 2)) return false; // IETF protocol assignments, TEST-NET-1
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  if (a === 198 && b === 51 && c === 100) return false; // TEST-NET-2
  if (a === 203 && b === 0 && c === 113) return false; // TEST-NET-3
  return true;
}

/** Eight 16-bit groups, or null. Accepts `::` and a trailing dotted quad (`::ffff:10.0.0.1`). */
function parseIpv6(h: string): number[] | null {
  let text = h;
  const lastColon = text.lastIndexOf(':');
  const last = text.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseDottedQuad(last);
    if (v4 === null) return null;
    text = `${text.slice(0, lastColon + 1)}${((v4[0]! << 8) | v4[1]!).toString(16)}:${((v4[2]! << 8) | v4[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const known = head.length + tail.length;
  if (halves.length === 1 ? known !== 8 : known > 7) return null;
  return [...head, ...new Array<number>(8 - known).fill(0), ...tail];
}

function isPublicIpv6(g: number[]): boolean {
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0 || g[5] === 0xffff)) {
    if (g[5] === 0 && g[6] === 0) return false; // :: and ::1 (and the deprecated IPv4-compatible ::a.b.c.d with a=0)
    return isPublicIpv4([g[6]! >> 8, g[6]! & 0xff, g[7]! >> 8, g[7]! & 0xff]); // ::ffff:a.b.c.d and ::a.b.c.d
  }
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((first & 0xff00) === 0xff00) return false; // multicast
  if (first === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (first === 0x64 && g[1] === 0xff9b) return false; // NAT64 can reach IPv4 private space
  if (first === 0x2002) return isPublicIpv4([g[1]! >> 8, g[1]! & 0xff, g[2]! >> 8, g[2]! & 0xff]); // 6to4
  return first !== 0;
}

/** One validator of the set at some height. `stake` is a safe integer in base units. */
export interface Validator {
  /** Operator-chosen id, e.g. `node_1`. Unique in the set. */
  id: string;
  /** Ed25519 public key, 32 bytes hex. */
  publicKey: string;
  /** Voting power. > 0 for every member of the set. */
  stake: number;
}

/** The validator set at one height, ordered by id (the canonical order). */
export interface ValidatorSet {
  validators: readonly Validator[];
}

/** Sum of stake. */
export function totalStake(set: ValidatorSet): number {
  let total = 0;
  for (const v of set.validators) total += v.stake;
  return total;
}

/** True when `stake` is more than 2/3 of `total`: 3 * stake > 2 * total, in integers. */
export function isQuorum(stake: number, total: number): boolean {
  return 3 * stake > 2 * total;
}
