import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { en } from '../src/i18n/en';
import { ja } from '../src/i18n/ja';

type Tree = { [k: string]: string | Tree };

function flatten(tree: Tree, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else for (const [kk, vv] of flatten(v, key)) out.set(kk, vv);
  }
  return out;
}

const EN = flatten(en as unknown as Tree);
const JA = flatten(ja as unknown as Tree);
const PLURAL = /_(zero|one|two|few|many|other)$/;
const base = (k: string) => k.replace(PLURAL, '');
const vars = (s: string) => [...s.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|tsx)$/.test(name) && !path.includes('/i18n/') ? [path] : [];
  });
}

describe('i18n', () => {
  it('has every key in both languages', () => {
    expect([...JA.keys()].filter((k) => !EN.has(k))).toEqual([]);
    expect([...EN.keys()].filter((k) => !JA.has(k))).toEqual([]);
  });

  it('has no empty translation', () => {
    for (const [k, v] of [...EN, ...JA]) expect(v.trim(), k).not.toBe('');
  });

  it('uses the same placeholders in both languages', () => {
    for (const [k, v] of EN) expect(vars(JA.get(k) ?? ''), k).toEqual(vars(v));
  });

  it('translates for real: Japanese text differs from English', () => {
    const same = [...EN].filter(([k, v]) => JA.get(k) === v && /[a-z]{3}/i.test(v));
    // Product names and codes may stay as they are.
    expect(same.map(([k]) => k)).toEqual([]);
  });

  it('defines every key the source code uses', () => {
    const known = new Set([...EN.keys()].map(base));
    const missing: string[] = [];
    const prefixes = new Set<string>();
    for (const file of sources(join(__dirname, '..', 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.]+)'/g)) {
        if (!known.has(m[1] ?? '')) missing.push(`${file}: ${m[1]}`);
      }
      for (const m of text.matchAll(/\bt\(\s*`([a-zA-Z0-9_.]+)\.\$\{/g)) prefixes.add(m[1] ?? '');
      for (const m of text.matchAll(/label: '([a-z]+\.[a-zA-Z]+)'/g)) {
        if (!known.has(m[1] ?? '')) missing.push(`${file}: ${m[1]}`);
      }
    }
    expect(missing).toEqual([]);
    // Keys built at run time (badge.${badge}, severity.${s} ...): their group must exist.
    for (const p of prefixes) {
      expect([...known].some((k) => k.startsWith(`${p}.`) || k.startsWith(`${p}_`)), p).toBe(true);
    }
  });

  it('covers every value of the run-time key groups', () => {
    const groups: Record<string, string[]> = {
      badge: ['live', 'playback', 'connecting', 'reconnecting', 'offline', 'error', 'ended'],
      cameraStatus: ['online', 'offline', 'unknown'],
      severity: ['info', 'warning', 'critical'],
      alertState: ['open', 'acked', 'resolved'],
      recordingMode: ['continuous', 'events', 'off'],
      roles: ['admin', 'operator', 'viewer'],
      'audit.results': ['success', 'failure', 'denied'],
      alertKinds: ['camera_offline', 'camera_online', 'recorder_down', 'disk_low',
        'rtmp_received', 'motion'],
      zones: ['zones', 'masks'],
      playback: ['zoom_hour', 'zoom_day'],
    };
    for (const [group, values] of Object.entries(groups)) {
      for (const v of values) expect(EN.has(`${group}.${v}`), `${group}.${v}`).toBe(true);
    }
  });
});
