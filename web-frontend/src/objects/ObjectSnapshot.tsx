/**
 * An object's snapshot with its box drawn on it. The image is the whole analysed frame, so
 * the normalized box lands where the object is. Fetched with the bearer token once it
 * scrolls into view (at once where IntersectionObserver is missing).
 */

import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { events } from '../api/resources';
import type { Box } from './api';

interface Props {
  eventId: number | null;
  hasSnapshot: boolean;
  box: Box | null;
  alt: string;
}

export function BoxOverlay({ box, label }: { box: Box | null; label?: string }) {
  if (!box) return null;
  return (
    <svg className="object-box" viewBox="0 0 1 1" preserveAspectRatio="none" aria-hidden="true"
      data-testid="object-box">
      <rect x={box.x} y={box.y} width={box.w} height={box.h} vectorEffect="non-scaling-stroke" />
      {label && <title>{label}</title>}
    </svg>
  );
}

export function ObjectSnapshot({ eventId, hasSnapshot, box, alt }: Props) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    const el = ref.current;
    if (!el || eventId === null || !hasSnapshot) return undefined;
    const abort = new AbortController();
    let objectUrl: string | null = null;
    const load = () => {
      events.snapshot(eventId, abort.signal).then((blob) => {
        if (!blob || !blob.type.startsWith('image/')) {
          setMissing(true);
          return;
        }
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      }, () => setMissing(true));
    };
    if (typeof IntersectionObserver === 'undefined') {
      load();
      return () => abort.abort();
    }
    const io = new IntersectionObserver(([entry]) => {
      if (!entry?.isIntersecting) return;
      io.disconnect();
      load();
    });
    io.observe(el);
    return () => {
      io.disconnect();
      abort.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [eventId, hasSnapshot]);

  return (
    <div ref={ref} className={`object-snap${url ? ' loaded' : ''}`}>
      {url ? <img src={url} alt={alt} /> : (
        <span className="muted small">{missing || !hasSnapshot ? t('events.noSnapshot')
          : t('common.loading')}</span>
      )}
      <BoxOverlay box={box} />
    </div>
  );
}
