/** An event's snapshot, fetched with the bearer token once it scrolls into view. */

import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { events } from '../api/resources';

export function Snapshot({ eventId, alt }: { eventId: number; alt: string }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDivElement>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [missing, setMissing] = useState(false);

  useEffect(() => {
    const el = ref.current;
    if (!el) return undefined;
    const abort = new AbortController();
    let objectUrl: string | null = null;
    const io = new IntersectionObserver(([entry]) => {
      if (!entry?.isIntersecting) return;
      io.disconnect();
      events.snapshot(eventId, abort.signal).then((blob) => {
        if (!blob || !blob.type.startsWith('image/')) {
          setMissing(true);
          return;
        }
        objectUrl = URL.createObjectURL(blob);
        setUrl(objectUrl);
      }, () => setMissing(true));
    });
    io.observe(el);
    return () => {
      io.disconnect();
      abort.abort();
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [eventId]);

  return (
    <div ref={ref} className="snapshot">
      {url ? <img src={url} alt={alt} /> : (
        <span className="muted small">{missing ? t('events.noSnapshot') : t('common.loading')}</span>
      )}
    </div>
  );
}
