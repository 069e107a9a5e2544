/**
 * One camera's timeline: recordings (blue; backfilled after an outage from the camera's own
 * storage in their own shade), events (red), gaps hatched by cause (camera
 * offline, recorder down, disk, events only), what the recorder is still writing (paler,
 * up to its last complete fragment), ticks, the playhead; click to play. Hovering or moving
 * the cursor shows the recording's preview still at that instant. Keys: arrows move the
 * cursor, Enter plays there, n / p jump to the next / previous event.
 */

import { useEffect, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useFormat } from '../i18n/format';
import { useStill } from './useStill';
import { layoutSpans, nextEvent, previousEvent, ticks, timeAt, xOf, type Gap, type Span,
  type TimeWindow } from './timelineLayout';

interface TimelineProps {
  label: string;
  window: TimeWindow;
  recordings: Span[];
  events: Span[];
  gaps?: Gap[];
  /** Stretches restored from the camera's own storage after an outage. */
  backfilled?: Span[];
  /** What the recorder is still writing (not indexed yet), up to its last fragment. */
  growing?: Span[];
  /** The camera, for preview stills while hovering or scrubbing (none without it). */
  cameraId?: number;
  playhead: number | null;
  onSeek(t: number): void;
}

const HEIGHT = 56;

function useWidth() {
  const ref = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(800);
  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const ro = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.max(100, Math.floor(entry.contentRect.width)));
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return { ref, width };
}

export function Timeline({ label, window: w, recordings, events, gaps = [], backfilled = [],
  growing = [], cameraId, playhead, onSeek }: TimelineProps) {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { ref, width } = useWidth();
  const [hover, setHover] = useState<number | null>(null);
  const [cursor, setCursor] = useState<number | null>(null);
  const now = Date.now();
  const recBars = layoutSpans(recordings, w, width, now, { merge: true, minWidth: 1 });
  const fillBars = layoutSpans(backfilled, w, width, now, { merge: true, minWidth: 1 });
  const growBars = layoutSpans(growing, w, width, now, { merge: true, minWidth: 1 });
  const eventBars = layoutSpans(events, w, width, now, { minWidth: 3 });
  const marks = ticks(w, width);
  const step = (w.end - w.start) / 60;
  const focus = cursor ?? playhead ?? w.start + (w.end - w.start) / 2;
  const peek = hover ?? cursor;
  const still = useStill(cameraId, peek);

  const pick = (e: MouseEvent<SVGSVGElement>) => {
    const rect = e.currentTarget.getBoundingClientRect();
    return timeAt(e.clientX - rect.left, w, width);
  };
  const key = (e: KeyboardEvent) => {
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      const dir = e.key === 'ArrowLeft' ? -1 : 1;
      setCursor(Math.min(w.end, Math.max(w.start, focus + dir * step)));
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSeek(focus);
    } else if (e.key === 'n' || e.key === 'p') {
      e.preventDefault();
      const ev = e.key === 'n' ? nextEvent(events, focus) : previousEvent(events, focus);
      if (ev) {
        setCursor(Math.min(w.end, Math.max(w.start, ev.start)));
        onSeek(ev.start);
      }
    }
  };

  return (
    <div className="timeline" ref={ref}>
      <div className="timeline-label">{label}</div>
      <svg width={width} height={HEIGHT} role="slider" tabIndex={0}
        aria-label={t('playback.timelineOf', { camera: label })}
        aria-valuemin={w.start} aria-valuemax={w.end} aria-valuenow={Math.round(focus)}
        aria-valuetext={fmt.dateTime(focus)}
        onClick={(e) => onSeek(pick(e))} onMouseMove={(e) => setHover(pick(e))}
        onMouseLeave={() => setHover(null)} onKeyDown={key} onBlur={() => setCursor(null)}>
        <rect className="tl-bg" x={0} y={14} width={width} height={22} />
        {recBars.map((b) => (
          <rect key={`r${b.start}`} className="tl-rec" x={b.x} y={14} width={b.width} height={22}
            data-start={new Date(b.start).toISOString()} data-end={new Date(b.end).toISOString()} />
        ))}
        {fillBars.map((b) => (
          <rect key={`b${b.start}`} className="tl-backfill" x={b.x} y={14} width={b.width}
            height={22} data-start={new Date(b.start).toISOString()}
            data-end={new Date(b.end).toISOString()}>
            <title>{t('playback.backfilled')}</title>
          </rect>
        ))}
        {growBars.map((b) => (
          <rect key={`o${b.start}`} className="tl-growing" x={b.x} y={14} width={b.width}
            height={22} data-start={new Date(b.start).toISOString()}
            data-end={new Date(b.end).toISOString()}>
            <title>{t('playback.growing')}</title>
          </rect>
        ))}
        {gaps.map((g) => {
          const x1 = Math.max(0, xOf(g.start, w, width));
          const x2 = Math.min(width, xOf(g.end, w, width));
          return x2 - x1 < 1 ? null : (
            <rect key={`g${g.start}`} className={`tl-gap ${g.cause}`} x={x1} y={14}
              width={x2 - x1} height={22} data-cause={g.cause}>
              <title>{t(`playback.gap_${g.cause}`)}</title>
            </rect>);
        })}
        {eventBars.map((b) => (
          <rect key={`e${b.id ?? b.start}`} className="tl-event" x={b.x} y={6} width={b.width}
            height={10} rx={2} data-start={new Date(b.start).toISOString()} data-id={b.id}>
            <title>{fmt.dateTime(b.start)}</title>
          </rect>
        ))}
        {marks.map((m) => (
          <g key={m.t}>
            <line className={m.major ? 'tl-tick major' : 'tl-tick'} x1={m.x} x2={m.x} y1={36}
              y2={m.major ? 44 : 40} />
            <text className="tl-text" x={m.x + 2} y={54}>
              {w.end - w.start > 86_400_000 ? fmt.date(m.t) : fmt.time(m.t)}</text>
          </g>
        ))}
        {playhead !== null && playhead >= w.start && playhead <= w.end && (
          <line className="tl-playhead" x1={xOf(playhead, w, width)} x2={xOf(playhead, w, width)}
            y1={0} y2={40} />
        )}
        {cursor !== null && (
          <line className="tl-cursor" x1={xOf(cursor, w, width)} x2={xOf(cursor, w, width)}
            y1={0} y2={40} />
        )}
        {hover !== null && (
          <g pointerEvents="none">
            <line className="tl-hover" x1={xOf(hover, w, width)} x2={xOf(hover, w, width)}
              y1={0} y2={40} />
            <text className="tl-hover-text" x={Math.min(xOf(hover, w, width) + 4, width - 70)}
              y={12}>{fmt.time(hover, true)}</text>
          </g>
        )}
      </svg>
      {still && peek !== null && (
        <img className="tl-still" src={still} alt={t('playback.stillAt', { time: fmt.time(peek, true) })}
          style={{ left: Math.max(0, Math.min(width - 160, xOf(peek, w, width) - 80)) }} />
      )}
    </div>
  );
}
