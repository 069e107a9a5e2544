import { createHash, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fingerprintOf, verifyBundle, zipEntries } from '../src/exports/verifyBundle';
import { bundle, newKey } from './support/bundle';

const video = new Uint8Array(4096).map((_, i) => (i * 7) % 256);
const audit = new TextEncoder().encode('[{"action":"export.create"}]');
const flip = (d: Uint8Array, at: number) => { const c = d.slice(); c[at] = (c[at] ?? 0) ^ 1; return c; };

describe('verifyBundle (WebCrypto Ed25519 + SHA-256, as argus-verify)', () => {
  const key = newKey();
  const files = { '01_camera-3.mp4': video, 'audit.json': audit };

  it('accepts an intact bundle signed by the key and gives its fingerprint', async () => {
    const b = bundle(key, files);
    expect(zipEntries(b.buffer).map((e) => e.name)).toContain('manifest.json');
    const r = await verifyBundle(b.buffer, key.pem);
    expect(r.reasons).toEqual([]);
    expect(r.valid).toBe(true);
    expect(r.filesChecked).toBe(2);
    const raw = createPublicKey(key.pem).export({ format: 'der', type: 'spki' }).subarray(-32);
    expect(r.fingerprint).toBe(createHash('sha256').update(raw).digest('hex'));
    expect(await fingerprintOf(key.pem)).toBe(r.fingerprint);
  });

  it('names the file whose bytes changed', async () => {
    for (const name of Object.keys(files)) {
      const b = bundle(key, files, (n, d) => (n === name ? flip(d, 10) : d));
      const r = await verifyBundle(b.buffer, key.pem);
      expect(r.valid).toBe(false);
      expect(r.reasons.join('\n')).toContain(`${name}: SHA-256 mismatch`);
    }
  });

  it('refuses a changed manifest, another key, and extra files', async () => {
    const edited = bundle(key, files, (n, d) => (n === 'manifest.json' ? flip(d, 30) : d));
    expect((await verifyBundle(edited.buffer, key.pem)).reasons[0]).toMatch(/^bad signature/);
    const stranger = newKey();
    expect((await verifyBundle(bundle(key, files).buffer, stranger.pem)).valid).toBe(false);
    const junk = await verifyBundle(new Uint8Array(100).buffer, key.pem);
    expect(junk.valid).toBe(false);
    expect(junk.reasons[0]).toMatch(/damaged zip/);
  });
});
