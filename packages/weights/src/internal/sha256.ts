/**
 * Lower-case hex SHA-256 of `bytes` with Web Crypto (Node >= 19 and browsers), or null where it
 * is unavailable (pages served over plain HTTP have no `crypto.subtle`).
 */
export async function sha256Hex(bytes: Uint8Array): Promise<string | null> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return null;
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
