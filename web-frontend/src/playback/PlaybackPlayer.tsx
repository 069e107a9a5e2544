/** A recorded-video player: WHEP from an instant, HLS VOD when WebRTC cannot play. */

import { useEffect, useMemo, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { badgeOf } from '../video/playerMachine';
import { usePlayer } from '../video/usePlayer';
import { StatusBadge } from '../live/StatusBadge';

interface Props {
  cameraId: number;
  name: string;
  start: number;
  speed: number;
  onPlaying(): void;
}

export function PlaybackPlayer({ cameraId, name, start, speed, onPlaying }: Props) {
  const { t } = useTranslation();
  const video = useRef<HTMLVideoElement>(null);
  const source = useMemo(() => ({ cameraId, stream: 'main' as const, start: new Date(start),
    speed }), [cameraId, start, speed]);
  const player = usePlayer(video, source);
  const playing = player.state.phase === 'playing';
  const cb = useRef(onPlaying);
  cb.current = onPlaying;
  useEffect(() => {
    if (playing) cb.current();
  }, [playing]);

  return (
    <div className="tile playback-tile" data-camera-id={cameraId} data-phase={player.state.phase}
      data-transport={player.state.transport}>
      <video ref={video} muted autoPlay playsInline
        aria-label={t('playback.videoOf', { camera: name })} />
      <div className="tile-top">
        <span className="tile-name">{name}</span>
        <StatusBadge badge={playing ? 'playback' : badgeOf(player.state)} />
        {playing && <span className="transport">
          {player.state.transport === 'webrtc' ? 'WebRTC' : 'HLS VOD'}</span>}
      </div>
      {!playing && player.state.message && (
        <div className="tile-message" role="status">
          {player.state.phase === 'ended' ? t('playback.ended') : player.state.message}
        </div>
      )}
    </div>
  );
}
