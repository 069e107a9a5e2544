/**
 * Filters of a list page kept in the URL (`?camera=3&type=motion.start&offset=24`): a link
 * shares the view, Back returns to the previous filter. Text boxes are debounced so typing
 * makes one request, not one per key.
 */

import { useCallback, useEffect, useEffectEvent, useMemo, useState,
  type InputHTMLAttributes } from 'react';
import { useSearchParams } from 'react-router-dom';

export const TYPING_DEBOUNCE_MS = 300;

export interface UrlFilters<K extends string> {
  values: Record<K, string>;
  offset: number;
  /** Set one filter (empty removes it); the list goes back to its first page. */
  set(name: K, value: string): void;
  setOffset(offset: number): void;
}

export function useUrlFilters<K extends string>(names: readonly K[]): UrlFilters<K> {
  const [params, setParams] = useSearchParams();
  const namesKey = names.join(',');
  const values = useMemo(() => Object.fromEntries(namesKey.split(',')
    .map((n) => [n, params.get(n) ?? ''])) as Record<K, string>, [params, namesKey]);
  const raw = Number(params.get('offset') ?? 0);
  const offset = Number.isInteger(raw) && raw > 0 ? raw : 0;

  const set = useCallback((name: K, value: string) => {
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (value) next.set(name, value);
      else next.delete(name);
      next.delete('offset');
      return next;
    });
  }, [setParams]);
  const setOffset = useCallback((n: number) => {
    setParams((prev) => {
      const next = new URLSearchParams(prev);
      if (n > 0) next.set('offset', String(n));
      else next.delete('offset');
      return next;
    });
  }, [setParams]);
  return { values, offset, set, setOffset };
}

type InputProps = Omit<InputHTMLAttributes<HTMLInputElement>, 'value' | 'onChange'> & {
  value: string;
  onChange(value: string): void;
  delayMs?: number;
};

/** A text box that reports its value once typing pauses; follows `value` set from outside. */
export function DebouncedInput({ value, onChange, delayMs = TYPING_DEBOUNCE_MS, ...rest }:
  InputProps) {
  const [draft, setDraft] = useState(value);
  const [outside, setOutside] = useState(value);
  // A new value from outside (Back, a link) replaces what is being typed.
  if (value !== outside) {
    setOutside(value);
    setDraft(value);
  }
  // The parent's callback may be a new function each render; only typing restarts the wait.
  const report = useEffectEvent((clean: string) => onChange(clean));
  useEffect(() => {
    const clean = draft.trim();
    if (clean === value) return undefined;
    const timer = setTimeout(() => report(clean), delayMs);
    return () => clearTimeout(timer);
  }, [draft, value, delayMs]);
  return <input {...rest} value={draft} onChange={(e) => setDraft(e.target.value)} />;
}
