/** Dates and numbers in the language of the console (Intl, no extra library). */

import { useTranslation } from 'react-i18next';

export interface Formatters {
  dateTime(value: string | number | Date | null | undefined): string;
  time(value: string | number | Date | null | undefined, seconds?: boolean): string;
  date(value: string | number | Date | null | undefined): string;
  relativeSeconds(seconds: number): string;
}

function toDate(v: string | number | Date): Date {
  return v instanceof Date ? v : new Date(v);
}

export function formatters(lang: string): Formatters {
  const dt = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'medium' });
  const t = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });
  const ts = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit',
    second: '2-digit' });
  const d = new Intl.DateTimeFormat(lang, { dateStyle: 'medium' });
  const rel = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' });
  return {
    dateTime: (v) => (v == null ? '—' : dt.format(toDate(v))),
    time: (v, seconds = false) => (v == null ? '—' : (seconds ? ts : t).format(toDate(v))),
    date: (v) => (v == null ? '—' : d.format(toDate(v))),
    relativeSeconds: (s) => (Math.abs(s) < 60 ? rel.format(Math.round(s), 'second')
      : rel.format(Math.round(s / 60), 'minute')),
  };
}

const cache = new Map<string, Formatters>();

/** Formatters for the current language (re-rendered when it changes). */
export function useFormat(): Formatters {
  const { i18n } = useTranslation();
  const lang = i18n.language;
  let f = cache.get(lang);
  if (!f) {
    f = formatters(lang);
    cache.set(lang, f);
  }
  return f;
}
