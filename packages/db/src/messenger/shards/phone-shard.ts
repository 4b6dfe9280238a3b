/**
 * The logical shard of a phone number, which registration and the seeder both use to
 * choose an account's database (the shard map's range of it).
 */
/** FNV-1a over the E.164 digits, mod `shardCount`. */
export function shardOfPhone(e164: string, shardCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < e164.length; i++) {
    hash ^= e164.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shardCount;
}
