/** A still picture of a camera, taken from its live sub-stream, as a drawing background. */

import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { usePlayer } from '../video/usePlayer';

/** Renders the video until a frame is captured, then that frame on a canvas. `key` anew for a new picture. */
export function CameraStill({ cameraId }: { cameraId: number }) {
  const { t } = useTranslation();
  const video = useRef<HTMLVideoElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [frozen, setFrozen] = useState(false);
  const player = usePlayer(video, frozen ? null : { cameraId, stream: 'sub' });

  // A frame shortly after playback starts becomes the picture.
  const playing = player.state.phase === 'playing';
  useEffect(() => {
    if (!playing || frozen) return undefined;
    const timer = setInterval(() => {
      const v = video.current;
      const c = canvas.current;
      if (!v || !c || !v.videoWidth) return;
      c.width = v.videoWidth;
      c.height = v.videoHeight;
      c.getContext('2d')?.drawImage(v, 0, 0);
      setFrozen(true);
    }, 300);
    return () => clearInterval(timer);
  }, [playing, frozen]);

  return (
    <>
      <video ref={video} muted autoPlay playsInline hidden={frozen} />
      <canvas ref={canvas} hidden={!frozen} aria-label={t('zones.snapshot')} />
      {!frozen && <p className="zone-wait">{t('zones.waiting')}</p>}
    </>
  );
}
