/**
 * Read an HTTP answer's body with a size cap: a node's answer is outside input, and `res.text()` would buffer
 * whatever it sends. Used by the monitor and by join-network.
 */

/** The body as UTF-8 text, or null when it is (declared or found to be) larger than `maxBytes` (the read is aborted). */
export async function readBodyBounded(res: Response, maxBytes: number, abort: () => void): Promise<string | null> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await res.body?.cancel();
    return null;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body !== null) {
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        abort();
        return null;
      }
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
