/** Evidence bundles for tests, made the way management makes them: a stored zip with the
 * files, manifest.json listing their SHA-256, manifest.sig (Ed25519, node:crypto). */

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zip of `files` (stored, no compression). */
export function zip(files: [string, Uint8Array][]): Uint8Array<ArrayBuffer> {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const [name, data] of files) {
    const n = new TextEncoder().encode(name);
    const local = new DataView(new ArrayBuffer(30));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, 20, true);
    local.setUint32(14, crc32(data), true);
    local.setUint32(18, data.length, true);
    local.setUint32(22, data.length, true);
    local.setUint16(26, n.length, true);
    const dir = new DataView(new ArrayBuffer(46));
    dir.setUint32(0, 0x02014b50, true);
    dir.setUint16(4, 20, true);
    dir.setUint16(6, 20, true);
    dir.setUint32(16, crc32(data), true);
    dir.setUint32(20, data.length, true);
    dir.setUint32(24, data.length, true);
    dir.setUint16(28, n.length, true);
    dir.setUint32(42, offset, true);
    parts.push(new Uint8Array(local.buffer), n, data);
    central.push(new Uint8Array(dir.buffer), n);
    offset += 30 + n.length + data.length;
  }
  const size = central.reduce((s, p) => s + p.length, 0);
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, files.length, true);
  end.setUint16(10, files.length, true);
  end.setUint32(12, size, true);
  end.setUint32(16, offset, true);
  const all = [...parts, ...central, new Uint8Array(end.buffer)];
  const out = new Uint8Array(all.reduce((s, p) => s + p.length, 0));
  let p = 0;
  for (const part of all) { out.set(part, p); p += part.length; }
  return out;
}

export interface TestKey { privateKey: KeyObject; pem: string }

export function newKey(): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** A signed bundle of `files` (name -> bytes); `tamper` changes bytes after signing. */
export function bundle(key: TestKey, files: Record<string, Uint8Array>,
  tamper: (name: string, data: Uint8Array) => Uint8Array = (_n, d) => d): Uint8Array<ArrayBuffer> {
  const manifest = new TextEncoder().encode(JSON.stringify({
    format: 'argus-evidence-bundle/1', export_id: 7, name: 'gate', reason: 'police request',
    exported_by: { username: 'op' },
    files: Object.entries(files).map(([name, data]) => ({ name, bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex') })),
  }));
  const sig = new Uint8Array(sign(null, manifest, key.privateKey));
  const entries: [string, Uint8Array][] = [
    ...Object.entries(files), ['manifest.json', manifest], ['manifest.sig', sig],
    ['public_key.pem', new TextEncoder().encode(key.pem)]];
  return zip(entries.map(([n, d]) => [n, tamper(n, d)]));
}
