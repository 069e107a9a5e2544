/** One cell of the live grid with a camera: video, name, status badge and tile actions. */

import { useMemo, useRef, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Camera } from '../api/types';
import { IconClose, IconEnlarge, IconFullscreen, IconShrink } from '../components/icons';
import { badgeOf } from '../video/playerMachine';
import { usePlayer } from '../video/usePlayer';
import { StatusBadge } from './StatusBadge';
import { CAMERA_MIME, CELL_MIME } from './dnd';

/** How far back the instant-replay buttons start (from the recorder's open segment). */
export const REPLAY_BACK_MS = [10_000, 30_000] as const;

interface TileProps {
  camera: Camera;
  cell: number;
  stream: 'main' | 'sub';
  enlarged: boolean;
  selected: boolean;
  onSelect(): void;
  onToggleEnlarge(): void;
  /** Absent on a wall (kiosk), where tiles are not moved or removed. */
  onRemove?(): void;
  onDrop?(e: DragEvent): void;
}

export function CameraTile(p: TileProps) {
  const { t } = useTranslation();
  const video = useRef<HTMLVideoElement>(null);
  const tile = useRef<HTMLDivElement>(null);
  // Instant replay: the tile plays recordings from this instant until "Live" is pressed.
  const [replayFrom, setReplayFrom] = useState<Date | null>(null);
  const source = useMemo(() => (replayFrom
    ? { cameraId: p.camera.id, stream: 'main' as const, start: replayFrom }
    : { cameraId: p.camera.id, stream: p.stream }), [p.camera.id, p.stream, replayFrom]);
  const player = usePlayer(video, source);
  const badge = badgeOf(player.state, p.camera.status === 'offline');

  const dragStart = (e: DragEvent) => {
    e.dataTransfer.setData(CELL_MIME, String(p.cell));
    e.dataTransfer.setData(CAMERA_MIME, String(p.camera.id));
    e.dataTransfer.effectAllowed = 'move';
  };
  const fullscreen = () => {
    const el = tile.current;
    if (!el) return;
    if (document.fullscreenElement) void document.exitFullscreen();
    else void el.requestFullscreen?.();
  };

  return (
    <div ref={tile} role="group" tabIndex={0}
      className={`tile${p.selected ? ' selected' : ''}${p.enlarged ? ' enlarged' : ''}`}
      aria-label={t('live.tileLabel', { camera: p.camera.name, status: t(`badge.${badge}`) })}
      data-camera-id={p.camera.id} data-phase={player.state.phase}
      data-transport={player.state.transport} data-stream={p.stream}
      data-replay={replayFrom ? replayFrom.toISOString() : undefined}
      draggable={Boolean(p.onDrop)} onDragStart={p.onDrop ? dragStart : undefined}
      onDragOver={(e) => e.preventDefault()} onDrop={p.onDrop}
      onClick={p.onSelect} onDoubleClick={p.onToggleEnlarge}
      // Only the tile's own focus selects it (keyboard). A button's focus (on mouse down)
      // must not: selecting opens the PTZ panel, the grid narrows and the button moves away
      // before the mouse comes up, and the click is lost (the first "-10 s" did nothing).
      onFocus={(e) => { if (e.target === e.currentTarget) p.onSelect(); }}
      onKeyDown={(e) => {
        if (e.target !== e.currentTarget) return;
        if (e.key === 'Enter') p.onToggleEnlarge();
        if (e.key === 'Delete') p.onRemove?.();
      }}>
      <video ref={video} muted autoPlay playsInline disablePictureInPicture
        aria-label={t('live.videoOf', { camera: p.camera.name })} />
      <div className="tile-top">
        <span className="tile-name" title={p.camera.name}>{p.camera.name}</span>
        <StatusBadge badge={badge} />
        {replayFrom && <span className="replay-badge">{t('live.replaying')}</span>}
        {player.state.phase === 'playing' && (
          <span className="transport" title={t('live.transport')}>
            {player.state.transport === 'webrtc' ? 'WebRTC' : 'HLS'}
            {p.stream === 'sub' ? ` · ${t('live.sub')}` : ''}
          </span>
        )}
      </div>
      {player.state.phase !== 'playing' && player.state.message && (
        <div className="tile-message" role="status">{player.state.message}</div>
      )}
      <div className="tile-actions">
        {replayFrom
          ? <button type="button" className="icon-btn replay-btn" onClick={(e) => {
            e.stopPropagation(); setReplayFrom(null); }} title={t('live.backToLive')}>
            {t('live.live')}</button>
          : REPLAY_BACK_MS.map((ms) => (
            <button key={ms} type="button" className="icon-btn replay-btn" onClick={(e) => {
              e.stopPropagation(); setReplayFrom(new Date(Date.now() - ms)); }}
              aria-label={t('live.instantReplay', { s: ms / 1000 })}
              title={t('live.instantReplay', { s: ms / 1000 })}>
              {t('live.back', { s: ms / 1000 })}</button>))}
        <button type="button" className="icon-btn" onClick={(e) => { e.stopPropagation();
          p.onToggleEnlarge(); }} aria-pressed={p.enlarged}
          aria-label={p.enlarged ? t('live.shrink') : t('live.enlarge')}
          title={p.enlarged ? t('live.shrink') : t('live.enlarge')}>
          {p.enlarged ? <IconShrink size={16} /> : <IconEnlarge size={16} />}</button>
        <button type="button" className="icon-btn" onClick={(e) => { e.stopPropagation();
          fullscreen(); }} aria-label={t('live.fullscreen')} title={t('live.fullscreen')}>
          <IconFullscreen size={16} /></button>
        {p.onRemove && <button type="button" className="icon-btn" onClick={(e) => {
          e.stopPropagation();
          p.onRemove?.(); }} aria-label={t('live.remove')} title={t('live.remove')}>
          <IconClose size={16} /></button>}
      </div>
    </div>
  );
}
