/**
 * The sign domain: what every signature of this network is bound to. Every sign-bytes function (vote, proposal,
 * attest, bond, unbond) builds its bytes here, so a signature made for one network cannot verify on another.
 *
 * A network is its chain id AND its genesis hash. The chain id alone is a name anyone can reuse (two local
 * networks both called `pop-local-1`); the genesis hash commits to the chain id, the validators, the accounts and
 * the params, so two networks that share a name but not a genesis get different sign bytes. The chain id stays
 * in the domain next to it: messages carry it on the wire and are checked against it, and it keeps the bytes
 * readable (CometBFT signs the chain id; EIP-155 and Cosmos sign docs bind the chain).
 *
 * Layout: utf8(tag) || 0x00 || utf8(canonicalJson({ chainId, genesisHash })) || 0x00 || utf8(canonicalJson(body)).
 * JSON text never holds a raw 0x00, so the three parts cannot be confused.
 */
import { isHex } from '../../crypto/hash.js';
import { CHAIN_ID_BYTES_MAX } from '../limits.js';
import { canonicalBytes, canonicalJson, type CanonicalValue } from './canonical.js';

/** The network a signature is for. A GenesisDoc and a consensus config with a genesis hash are both one. */
export interface SignNetwork {
  readonly chainId: string;
  /** hashWithDomain('pop/genesis/v1', ...) of the network's genesis document: 32-byte lowercase hex. */
  readonly genesisHash: string;
}

/**
 * The domain prefix of a signed message: its tag and the network.
 * @throws Error when the network is malformed (a caller bug: the genesis file was checked when it was loaded).
 * @example signDomain('pop/vote/v2', { chainId: 'pop-local-1', genesisHash })
 */
export function signDomain(tag: string, network: SignNetwork): string {
  // Every signature and every check builds this prefix: built once per network object and tag (the network's fields
  // are compared on every use, so a changed object is built again).
  let memo = domains.get(network);
  if (memo === undefined || memo.chainId !== network.chainId || memo.genesisHash !== network.genesisHash) {
    memo = { chainId: network.chainId, genesisHash: network.genesisHash, byTag: new Map() };
    domains.set(network, memo);
  }
  let domain = memo.byTag.get(tag);
  if (domain === undefined) {
    domain = buildDomain(tag, network);
    memo.byTag.set(tag, domain);
  }
  return domain;
}

/** Domains already built, per network object (a network signs under a handful of tags). */
const domains = new WeakMap<SignNetwork, { chainId: string; genesisHash: string; byTag: Map<string, string> }>();

function buildDomain(tag: string, network: SignNetwork): string {
  if (tag.length === 0 || tag.includes('\u0000')) throw new Error(`signDomain: bad tag ${JSON.stringify(tag)}`);
  if (typeof network.chainId !== 'string' || network.chainId.length === 0) throw new Error('signDomain: empty chain id');
  if (network.chainId.length > CHAIN_ID_BYTES_MAX) throw new Error(`signDomain: chain id longer than ${CHAIN_ID_BYTES_MAX}`);
  if (!isHex(network.genesisHash, 32)) throw new Error(`signDomain: genesis hash ${String(network.genesisHash)} is not 32-byte hex`);
  return tag + '\u0000' + canonicalJson({ chainId: network.chainId, genesisHash: network.genesisHash });
}

/**
 * The bytes signed for `body` under `tag` on `network`.
 * @throws Error on a malformed network (see signDomain), CanonicalEncodeError on a body JSON cannot carry.
 * @example sign(secretKey, signBytes(BOND_DOMAIN, genesisDoc, body))
 */
export function signBytes(tag: string, network: SignNetwork, body: CanonicalValue): Uint8Array {
  return canonicalBytes(signDomain(tag, network), body);
}
