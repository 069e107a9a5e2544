import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(__dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : files(path);
    return /\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Feature folder -> the feature folders it imports from. */
function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of files(SRC)) {
    const folder = relative(SRC, file).split('/')[0] ?? '';
    const deps = graph.get(folder) ?? new Set<string>();
    graph.set(folder, deps);
    for (const m of readFileSync(file, 'utf8').matchAll(/from '\.\.\/([a-z]+)\//g)) {
      if (m[1] && m[1] !== folder) deps.add(m[1]);
    }
  }
  return graph;
}

describe('source layout', () => {
  it('has no import cycle between feature folders', () => {
    const graph = folderGraph();
    const cycles: string[] = [];
    const visit = (node: string, path: string[]) => {
      for (const next of graph.get(node) ?? []) {
        if (next === path[0]) cycles.push([...path, next].join(' -> '));
        else if (!path.includes(next) && path.length < graph.size) visit(next, [...path, next]);
      }
    };
    for (const node of graph.keys()) visit(node, [node]);
    expect(cycles).toEqual([]);
  });
});
