/**
 * Text measured once, the same way everywhere: admission, the mempool and the ledger count a string's bytes with
 * this function, so no two layers can disagree about whether a proof fits (a lone UTF-16 surrogate once counted 3
 * bytes at the door and 4 in the ledger, so a proof could be accepted and then never fit in a block).
 */

/** True when `text` is well-formed UTF-16: every surrogate is half of a pair, so it encodes to UTF-8 losslessly. */
export function isWellFormedText(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c >= 0xdc00) return false;
    const next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
    if (next < 0xdc00 || next > 0xdfff) return false;
    i += 1;
  }
  return true;
}

/**
 * UTF-8 length of `text` as `TextEncoder` encodes it (a lone surrogate becomes U+FFFD, 3 bytes; a pair, 4 bytes),
 * computed without allocating. Stops counting once past `stopAbove`.
 * @example utf8ByteLength('a\u00e9\u{1F600}') === 1 + 2 + 4
 */
export function utf8ByteLength(text: string, stopAbove = Number.MAX_SAFE_INTEGER): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
    if (bytes > stopAbove) return bytes;
  }
  return bytes;
}
