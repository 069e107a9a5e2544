/** What a player plays: a camera live (main or sub-stream) or its recordings from an instant. */

export interface VideoSource {
  cameraId: number;
  /** Live stream choice; ignored for playback. */
  stream: 'main' | 'sub';
  /** Play recordings from this instant instead of live. */
  start?: Date;
  /** Playback speed (0.5 to 8). */
  speed?: number;
}

/** Recordings HLS window after `start` (the VOD API accepts at most 7 days). */
export const VOD_WINDOW_MS = 6 * 3600 * 1000;

export function sourceKey(s: VideoSource | null): string {
  if (!s) return '';
  return s.start
    ? `${s.cameraId}@${s.start.toISOString()}x${s.speed ?? 1}`
    : `${s.cameraId}/${s.stream}`;
}

export function whepUrl(s: VideoSource): string {
  const params = new URLSearchParams();
  if (s.start) {
    params.set('start', s.start.toISOString());
    if (s.speed && s.speed !== 1) params.set('speed', String(s.speed));
  } else {
    params.set('stream', s.stream);
  }
  return `/whep/${s.cameraId}?${params.toString()}`;
}

export function vodUrl(s: VideoSource & { start: Date }): string {
  const end = new Date(s.start.getTime() + VOD_WINDOW_MS);
  const params = new URLSearchParams({ start: s.start.toISOString(), end: end.toISOString() });
  return `/vod/${s.cameraId}/index.m3u8?${params.toString()}`;
}
