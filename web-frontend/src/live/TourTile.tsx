/**
 * A cell on a camera tour: shows each camera for the tour's dwell time. The next camera is
 * already playing underneath (a second, invisible tile), so a switch only changes which
 * layer is on top: the player that becomes visible is the same one, with frames decoded.
 * Hovering pauses the tour; a click holds it on the current camera until Resume.
 */

import { useEffect, useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { Camera, Tour } from '../api/types';
import { CameraTile } from './CameraTile';

interface TourProps {
  tour: Tour;
  /** The tour's cameras the user may see, in tour order (two or more). */
  cameras: Camera[];
  cell: number;
  stream(camera: Camera): 'main' | 'sub';
  enlarged: boolean;
  selected: boolean;
  onSelect(): void;
  onToggleEnlarge(): void;
  onRemove?(): void;
  onDrop?(e: DragEvent): void;
}

export function TourTile(p: TourProps) {
  const { t } = useTranslation();
  const [index, setIndex] = useState(0);
  const [hover, setHover] = useState(false);
  const [held, setHeld] = useState(false);
  const n = p.cameras.length;
  const at = index % n;
  const paused = hover || held;

  useEffect(() => {
    if (paused || n < 2) return undefined;
    const timer = window.setTimeout(() => setIndex((i) => (i + 1) % n), p.tour.dwell_s * 1000);
    return () => window.clearTimeout(timer);
  }, [paused, n, index, p.tour.dwell_s]);

  const next = (at + 1) % n;
  // Tour order, never "current first": React then never moves a kept <video> in the DOM
  // (a moved media element is paused by the browser).
  const layers = [at, next].filter((v, i, all) => all.indexOf(v) === i).sort((a, b) => a - b);

  return (
    <div className="tour" data-tour-cell={p.cell} data-tour-index={at}
      data-tour-camera={p.cameras[at]?.id} data-tour-paused={paused}
      onMouseEnter={() => setHover(true)} onMouseLeave={() => setHover(false)}
      onClickCapture={(e) => {
        if (!(e.target as HTMLElement).closest('.tour-bar, .tile-actions')) setHeld(true);
      }}>
      {layers.map((i) => {
        const camera = p.cameras[i];
        if (!camera) return null;
        const shown = i === at;
        return (
          <div key={camera.id} className={`tour-layer${shown ? '' : ' tour-next'}`}
            aria-hidden={!shown} inert={!shown}>
            <CameraTile camera={camera} cell={p.cell} stream={p.stream(camera)}
              enlarged={p.enlarged} selected={shown && p.selected} onSelect={p.onSelect}
              onToggleEnlarge={p.onToggleEnlarge} onRemove={p.onRemove} onDrop={p.onDrop} />
          </div>
        );
      })}
      <div className="tour-bar" role="group" aria-label={t('live.tour')}>
        <span className="tour-pos">{t('live.tourOf', { index: at + 1, count: n })}</span>
        <button type="button" className="btn ghost small" aria-pressed={held}
          onClick={(e) => { e.stopPropagation(); setHeld(!held); }}>
          {held ? t('live.tourResume') : t('live.tourPause')}</button>
        <button type="button" className="btn ghost small" onClick={(e) => {
          e.stopPropagation();
          setIndex((i) => (i + 1) % n); }}>{t('live.tourNext')}</button>
      </div>
    </div>
  );
}
