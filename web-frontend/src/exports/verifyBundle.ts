/**
 * Verifying an evidence bundle in the browser: the zip is read here (stored or deflated
 * members), every file the manifest lists is hashed with SHA-256 (WebCrypto) and the
 * manifest's Ed25519 signature is checked against the site's public key. The same checks
 * as `argus-verify` (management-service exports/verify.py). Browsers without Ed25519 in
 * WebCrypto (or bundles too large to hold in memory) fall back to the server
 * (`POST /api/v1/exports/verify`): `Unsupported` says so.
 */

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
export const PUBLIC_KEY = 'public_key.pem';
export const FORMAT = 'argus-evidence-bundle/1';
/** Larger bundles are verified by the server (the browser would hold them in memory). */
export const MAX_BROWSER_BYTES = 512 * 1024 * 1024;

export interface BundleCheck {
  valid: boolean;
  reasons: string[];
  fingerprint: string;
  filesChecked: number;
  manifest: Record<string, unknown> | null;
}

export class Unsupported extends Error {}

interface Entry { name: string; method: number; size: number; compressed: number;
  offset: number }

const u16 = (v: DataView, o: number) => v.getUint16(o, true);
const u32 = (v: DataView, o: number) => v.getUint32(o, true);
const u64 = (v: DataView, o: number) => Number(v.getBigUint64(o, true));

/** The central directory of a zip (ZIP64 sizes and offsets included). */
export function zipEntries(buf: ArrayBuffer): Entry[] {
  const v = new DataView(buf);
  let eocd = -1;
  for (let i = buf.byteLength - 22; i >= Math.max(0, buf.byteLength - 22 - 65_535); i--) {
    if (u32(v, i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Error('not a zip file');
  let count = u16(v, eocd + 10);
  let dir = u32(v, eocd + 16);
  if ((dir === 0xffffffff || count === 0xffff) && eocd >= 20 && u32(v, eocd - 20) === 0x07064b50) {
    const rec = u64(v, eocd - 12);
    count = u64(v, rec + 32);
    dir = u64(v, rec + 48);
  }
  const names = new TextDecoder();
  const out: Entry[] = [];
  let p = dir;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.byteLength || u32(v, p) !== 0x02014b50) throw new Error('damaged zip directory');
    const method = u16(v, p + 10);
    let compressed = u32(v, p + 20);
    let size = u32(v, p + 24);
    const nameLen = u16(v, p + 28);
    const extraLen = u16(v, p + 30);
    const commentLen = u16(v, p + 32);
    let offset = u32(v, p + 42);
    const name = names.decode(new Uint8Array(buf, p + 46, nameLen));
    // ZIP64 extra field: the 64-bit values of the fields that read 0xFFFFFFFF, in order.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = u16(v, e);
      const len = u16(v, e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) { size = u64(v, q); q += 8; }
        if (compressed === 0xffffffff) { compressed = u64(v, q); q += 8; }
        if (offset === 0xffffffff) { offset = u64(v, q); }
      }
      e += 4 + len;
    }
    out.push({ name, method, size, compressed, offset });
    p = end + commentLen;
  }
  return out;
}

async function memberBytes(buf: ArrayBuffer, e: Entry): Promise<Uint8Array> {
  const v = new DataView(buf);
  if (u32(v, e.offset) !== 0x04034b50) throw new Error(`${e.name}: damaged in the zip`);
  const start = e.offset + 30 + u16(v, e.offset + 26) + u16(v, e.offset + 28);
  const raw = new Uint8Array(buf, start, e.compressed);
  if (e.method === 0) return raw;
  if (e.method !== 8) throw new Error(`${e.name}: unsupported compression`);
  const stream = new Blob([raw]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)]
  .map((x) => x.toString(16).padStart(2, '0')).join('');

/** DER bytes of a PEM block. */
export function pemBody(pem: string): Uint8Array<ArrayBuffer> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

/** SHA-256 of the raw 32-byte key (the last 32 bytes of an Ed25519 SPKI), hex. */
export async function fingerprintOf(pem: string): Promise<string> {
  const der = pemBody(pem);
  return hex(await crypto.subtle.digest('SHA-256', der.slice(der.length - 32)));
}

async function importKey(pem: string): Promise<CryptoKey> {
  try {
    return await crypto.subtle.importKey('spki', pemBody(pem), { name: 'Ed25519' }, false,
      ['verify']);
  } catch (err) {
    if (err instanceof DOMException && err.name === 'NotSupportedError') {
      throw new Unsupported('this browser has no Ed25519');
    }
    throw err;
  }
}

/** Check a bundle against `publicKeyPem` (the site's key). */
export async function verifyBundle(buf: ArrayBuffer, publicKeyPem: string): Promise<BundleCheck> {
  const key = await importKey(publicKeyPem);
  const result: BundleCheck = { valid: false, reasons: [], fingerprint: await fingerprintOf(publicKeyPem),
    filesChecked: 0, manifest: null };
  const fail = (reason: string) => { result.reasons.push(reason); return result; };
  let entries: Entry[];
  try {
    entries = zipEntries(buf);
  } catch (err) {
    return fail(`damaged zip: ${(err as Error).message}`);
  }
  const byName = new Map(entries.map((e) => [e.name, e]));
  if (byName.size !== entries.length) return fail('the zip holds two members with the same name');
  const manifestEntry = byName.get(MANIFEST);
  const sigEntry = byName.get(SIGNATURE);
  if (!manifestEntry) return fail(`${MANIFEST} is missing`);
  if (!sigEntry) return fail(`${SIGNATURE} is missing`);
  const manifestBytes = await memberBytes(buf, manifestEntry);
  const signature = await memberBytes(buf, sigEntry);
  const ok = await crypto.subtle.verify({ name: 'Ed25519' }, key, signature.slice(),
    manifestBytes.slice());
  if (!ok) return fail('bad signature: manifest.sig does not sign manifest.json with this key');
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(new TextDecoder().decode(manifestBytes)) as Record<string, unknown>;
  } catch {
    return fail('manifest.json is not JSON');
  }
  if (manifest.format !== FORMAT) return fail(`manifest.json is not an ${FORMAT} manifest`);
  result.manifest = manifest;
  const files = Array.isArray(manifest.files) ? manifest.files as unknown[] : null;
  if (!files) return fail('manifest.json lists no files');
  const seen = new Set([MANIFEST, SIGNATURE, PUBLIC_KEY]);
  for (const f of files) {
    const { name, sha256 } = (f ?? {}) as { name?: unknown; sha256?: unknown };
    if (typeof name !== 'string' || typeof sha256 !== 'string') {
      result.reasons.push('manifest.json has a malformed file entry');
      continue;
    }
    seen.add(name);
    const entry = byName.get(name);
    if (!entry) { result.reasons.push(`${name}: listed in the manifest but missing`); continue; }
    try {
      const got = hex(await crypto.subtle.digest('SHA-256', (await memberBytes(buf, entry)).slice()));
      if (got !== sha256.toLowerCase()) {
        result.reasons.push(`${name}: SHA-256 mismatch (manifest ${sha256}, file ${got})`);
      }
      result.filesChecked += 1;
    } catch (err) {
      result.reasons.push((err as Error).message);
    }
  }
  for (const name of byName.keys()) {
    if (!seen.has(name)) result.reasons.push(`${name}: in the zip but not in the manifest`);
  }
  result.valid = result.reasons.length === 0;
  return result;
}
