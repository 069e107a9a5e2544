/** Playback: timelines of one or more cameras, click to play from an instant, in sync. */

import { useCallback, useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router-dom';
import { useCameras } from '../cameras/useCameras';
import { useFormat } from '../i18n/format';
import { PlaybackPlayer } from './PlaybackPlayer';
import { PlaybackToolbar } from './PlaybackToolbar';
import { Timeline } from './Timeline';
import { localDate, localDayStart, nextEvent, playableFrom, previousEvent, windowFor,
  ZOOM_SPAN, type Span, type Zoom } from './timelineLayout';
import { useTimelines } from './useTimelines';

export const MAX_SYNC = 4;

function parseIds(raw: string | null): number[] {
  return (raw ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0)
    .slice(0, MAX_SYNC);
}

export function PlaybackPage() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { cameras, nameOf } = useCameras();
  const [params] = useSearchParams();
  const initialT = Date.parse(params.get('t') ?? '');
  const [selected, setSelected] = useState<number[]>(() => parseIds(params.get('camera')));
  const [focus, setFocus] = useState(() => (Number.isNaN(initialT) ? Date.now() : initialT));
  const [date, setDate] = useState(() => localDate(focus));
  const [zoom, setZoom] = useState<Zoom>('hour');
  const [speed, setSpeed] = useState(1);
  const [playFrom, setPlayFrom] = useState<number | null>(null);
  const [playingSince, setPlayingSince] = useState<number | null>(null);
  const [clock, setClock] = useState(Date.now());
  const [notice, setNotice] = useState<string | null>(null);

  // Default: the first camera, once the list is known.
  useEffect(() => {
    if (selected.length === 0 && cameras[0]) setSelected([cameras[0].id]);
  }, [cameras, selected.length]);

  const win = useMemo(() => windowFor(zoom, focus, localDayStart(date)), [zoom, focus, date]);
  const timelines = useTimelines(selected, win);

  const merged = useMemo(() => {
    const rec: Span[] = [];
    const ev: Span[] = [];
    for (const id of selected) {
      // What the recorder is still writing plays like the rest (instant replay).
      rec.push(...(timelines.get(id)?.recordings ?? []), ...(timelines.get(id)?.growing ?? []));
      ev.push(...(timelines.get(id)?.events ?? []));
    }
    return { rec, ev };
  }, [selected, timelines]);

  useEffect(() => {
    if (playingSince === null) return undefined;
    const timer = setInterval(() => setClock(Date.now()), 500);
    return () => clearInterval(timer);
  }, [playingSince]);

  const playhead = playFrom === null ? null
    : playingSince === null ? playFrom : playFrom + (clock - playingSince) * speed;

  const seek = useCallback((at: number) => {
    const from = playableFrom(at, merged.rec, Date.now());
    if (from === null) {
      setNotice(t('playback.nothingAfter', { time: fmt.dateTime(at) }));
      return;
    }
    setNotice(from !== at ? t('playback.skippedGap', { time: fmt.time(from, true) }) : null);
    setPlayFrom(from);
    setPlayingSince(null);
    if (ZOOM_SPAN[zoom] < ZOOM_SPAN.day && (from < win.start || from > win.end)) setFocus(from);
  }, [merged.rec, t, fmt, zoom, win]);

  const jump = (dir: -1 | 1) => {
    const ref = playhead ?? focus;
    const ev = dir === 1 ? nextEvent(merged.ev, ref) : previousEvent(merged.ev, ref);
    if (!ev) {
      setNotice(dir === 1 ? t('playback.noNextEvent') : t('playback.noPreviousEvent'));
      return;
    }
    setFocus(ev.start);
    seek(ev.start - 2000);
  };

  const changeDate = (d: string) => {
    setDate(d);
    const start = localDayStart(d);
    setFocus(localDate(Date.now()) === d ? Date.now() : start + 12 * 3600_000);
  };

  return (
    <div className="playback">
      <PlaybackToolbar selected={selected} onSelected={setSelected} date={date}
        onDate={changeDate} zoom={zoom} onZoom={setZoom} speed={speed} onSpeed={setSpeed}
        onShift={(dir) => {
          const span = win.end - win.start;
          // Day and longer windows end with the chosen day: move that day by the span.
          if (ZOOM_SPAN[zoom] >= ZOOM_SPAN.day) changeDate(localDate(win.end - 1 + dir * span));
          else setFocus(focus + (dir * span) / 2);
        }}
        onPrevEvent={() => jump(-1)} onNextEvent={() => jump(1)}
        onNow={() => { changeDate(localDate(Date.now())); setFocus(Date.now()); }} />
      <section className="timelines" aria-label={t('playback.timelines')}>
        <div className="window-label">
          {fmt.dateTime(win.start)} – {fmt.dateTime(win.end)}
          <span className="legend"><i className="sw rec" /> {t('playback.recordings')}
            <i className="sw backfill" /> {t('playback.backfilledLegend')}
            <i className="sw growing" /> {t('playback.growingLegend')}
            <i className="sw ev" /> {t('playback.events')}</span>
        </div>
        {selected.map((id) => {
          const tl = timelines.get(id);
          return (
            <div key={id} data-camera-id={id}>
              <Timeline label={nameOf(id)} window={win} recordings={tl?.recordings ?? []}
                events={tl?.events ?? []} gaps={tl?.gaps ?? []}
                backfilled={tl?.backfilled ?? []} growing={tl?.growing ?? []} cameraId={id}
                playhead={playhead}
                onSeek={seek} />
              {tl?.error && <p className="error">{tl.error}</p>}
            </div>
          );
        })}
        {notice && <p className="notice" role="status">{notice}</p>}
      </section>
      {playFrom === null ? (
        <p className="empty">{t('playback.hint')} {t('playback.keys')}</p>
      ) : (
        <section className={`playback-players n${selected.length}`}
          aria-label={t('playback.players')}>
          <div className="playhead-time" role="timer" aria-live="off">
            {t('playback.position')}: {fmt.dateTime(playhead ?? playFrom)}
          </div>
          <div className="playback-grid">
            {selected.map((id) => (
              <PlaybackPlayer key={id} cameraId={id} name={nameOf(id)} start={playFrom}
                speed={speed} onPlaying={() => setPlayingSince((s) => s ?? Date.now())} />
            ))}
          </div>
        </section>
      )}
    </div>
  );
}
