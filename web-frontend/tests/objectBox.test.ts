import { describe, expect, it } from 'vitest';
import { boxAt, boxOf, playbackLink, searchParams } from '../src/objects/api';

describe('object helpers', () => {
  const box = { x: 0.4, y: 0.5, w: 0.1, h: 0.3 };

  it('moves the snapshot box along the path, clamped to the picture', () => {
    const path = [[0, 0.2, 0.6], [2, 0.6, 0.6], [4, 0.96, 0.1]];
    expect(boxAt(box, path, 1)).toEqual({ x: expect.closeTo(0.35), y: expect.closeTo(0.45),
      w: 0.1, h: 0.3 });
    expect(boxAt(box, path, -5).x).toBeCloseTo(0.15); // before the path: its first point
    const end = boxAt(box, path, 99); // after it: the last, kept inside the picture
    expect(end.x).toBeCloseTo(0.9);
    expect(end.y).toBe(0);
    expect(boxAt(box, [], 3)).toEqual(box);
    expect(boxAt(box, [[1, 2]], 3)).toEqual(box);
  });

  it('reads boxes leniently and builds links and queries', () => {
    expect(boxOf({ box })).toEqual(box);
    expect(boxOf({ box: {} })).toBeNull();
    expect(boxOf({ box: { x: 1, y: 1, w: 1 } })).toBeNull();
    expect(playbackLink({ camera_id: 3, first_seen: '2026-12-08T09:00:02Z' }))
      .toBe('/playback?camera=3&t=2026-12-08T09%3A00%3A00.000Z');
    expect(searchParams({ labels: ['person', 'vehicle'], camera_ids: [1, 2], colors: ['red'],
      zone: 'door', line: null, min_score: 0.5, reviewed: false, sort: 'score', limit: 24,
      offset: 0 }))
      .toBe('label=person&label=vehicle&camera_id=1&camera_id=2&color=red&zone=door'
        + '&min_score=0.5&reviewed=false&sort=score&limit=24&offset=0');
  });
});
