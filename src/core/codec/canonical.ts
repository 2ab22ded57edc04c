/**
 * Canonical encoding: the one byte representation of a value that is hashed and signed.
 *
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, fields whose value is `undefined`
 * omitted, numbers only as safe integers, strings as JSON.stringify writes them. Byte strings travel as
 * lowercase hex. Every validator produces the same bytes for the same value, in any language.
 */
import { utf8ByteLength } from './utf8.js';

export type CanonicalValue =
  | string
  | number
  | boolean
  | null
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

export class CanonicalEncodeError extends Error {
  readonly code = 'CANONICAL_ENCODE' as const;
}

/**
 * Encode a value as canonical JSON text.
 * @throws CanonicalEncodeError on a non-integer or unsafe number, or a value JSON cannot carry.
 * @example canonicalJson({ b: 1, a: 'x' }) === '{"a":"x","b":1}'
 */
export function canonicalJson(value: CanonicalValue): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) throw new CanonicalEncodeError(`number ${value} is not a safe integer`);
      return Object.is(value, -0) ? '0' : String(value);
    case 'object': {
      if (value === null) return 'null';
      // Built by concatenation, without the intermediate arrays of map/filter/join: every signature and hash
      // encodes here. A hole in an array is written as nothing, as join writes it.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          if (i in value) out += canonicalJson(value[i] as CanonicalValue);
        }
        return out + ']';
      }
      const record = value as { readonly [key: string]: CanonicalValue | undefined };
      const keys = Object.keys(record).sort();
      let out = '{';
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        if (out.length > 1) out += ',';
        out += JSON.stringify(key) + ':' + canonicalJson(item);
      }
      return out + '}';
    }
    default:
      throw new CanonicalEncodeError(`cannot encode a ${typeof value}`);
  }
}

/**
 * The size of a value as the network counts it: the UTF-8 bytes of its canonical JSON. The block byte limit, the
 * door's "fits in a block" check and the size of a block in a peer message all call this one function, so no two
 * layers can disagree on whether something fits (the ledger once counted UTF-16 units: a proof of non-ASCII text
 * measured up to 3x smaller there than at the door). O(bytes), no allocation beyond the JSON text.
 * @throws CanonicalEncodeError as canonicalJson.
 * @example canonicalByteLength({ s: '\u00e9' }) === 10 // {"s":"é"}: 9 characters, 10 bytes
 */
export function canonicalByteLength(value: CanonicalValue): number {
  return utf8ByteLength(canonicalJson(value));
}

const encoder = new TextEncoder();

/** Canonical bytes with a domain tag: utf8(domain) || 0x00 || utf8(canonicalJson(value)). */
export function canonicalBytes(domain: string, value: CanonicalValue): Uint8Array {
  return encoder.encode(domain + '\u0000' + canonicalJson(value));
}
