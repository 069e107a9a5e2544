/** Watches a <video> for its first decoded frame and for stalls, whatever the transport. */

export interface FrameWatch {
  stop(): void;
}

export interface FrameWatchOptions {
  /** No first frame after this long: the attempt failed. */
  firstFrameTimeoutMs: number;
  /** No new frame for this long once playing: a stall. */
  stallMs: number;
  onFirstFrame(): void;
  onTimeout(): void;
  onStall(): void;
}

/** Frames the element has decoded so far (0 when the browser cannot tell). */
export function decodedFrames(video: HTMLVideoElement): number {
  const quality = video.getVideoPlaybackQuality?.();
  if (quality) return quality.totalVideoFrames;
  const legacy = (video as unknown as { webkitDecodedFrameCount?: number }).webkitDecodedFrameCount;
  return legacy ?? 0;
}

export function watchFrames(video: HTMLVideoElement, o: FrameWatchOptions): FrameWatch {
  let stopped = false;
  let playing = false;
  let lastCount = -1;
  let lastChange = performance.now();
  const first = () => {
    if (stopped || playing) return;
    playing = true;
    lastChange = performance.now();
    o.onFirstFrame();
  };
  let rvfc: number | null = null;
  if ('requestVideoFrameCallback' in video) {
    rvfc = video.requestVideoFrameCallback(() => first());
  } else {
    (video as HTMLVideoElement).addEventListener('loadeddata', first, { once: true });
  }
  const timeout = setTimeout(() => {
    if (!stopped && !playing) o.onTimeout();
  }, o.firstFrameTimeoutMs);
  const poll = setInterval(() => {
    if (stopped || !playing) return;
    const count = decodedFrames(video);
    const now = performance.now();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = now;
    } else if (now - lastChange > o.stallMs && !document.hidden) {
      stopped = true;
      o.onStall();
    }
  }, 1000);
  return {
    stop() {
      stopped = true;
      clearTimeout(timeout);
      clearInterval(poll);
      if (rvfc !== null && 'cancelVideoFrameCallback' in video) video.cancelVideoFrameCallback(rvfc);
      video.removeEventListener('loadeddata', first);
    },
  };
}
