/** Small shared pieces: error and empty states, a confirm button, a pager. */

import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, errorMessage } from '../api/errors';

export function ErrorNote({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (!error) return null;
  const text = error instanceof ApiError && error.status === 403
    ? t('common.forbidden') : errorMessage(error);
  return <p className="error" role="alert">{text}</p>;
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

export function Loading() {
  const { t } = useTranslation();
  return <p className="muted" role="status">{t('common.loading')}</p>;
}

interface ConfirmProps {
  label: string;
  confirmLabel: string;
  onConfirm: () => void | Promise<void>;
  className?: string;
}

/** A destructive action that needs a second click (keyboard-friendly, no modal). */
export function ConfirmButton({ label, confirmLabel, onConfirm, className = 'btn danger' }:
  ConfirmProps) {
  const { t } = useTranslation();
  const [armed, setArmed] = useState(false);
  if (!armed) {
    return <button type="button" className={className} onClick={() => setArmed(true)}>
      {label}</button>;
  }
  return (
    <span className="confirm">
      <button type="button" className="btn danger" autoFocus
        onClick={() => { setArmed(false); void onConfirm(); }}>{confirmLabel}</button>
      <button type="button" className="btn" onClick={() => setArmed(false)}>
        {t('common.cancel')}</button>
    </span>
  );
}

interface PagerProps {
  offset: number;
  limit: number;
  total: number;
  onChange: (offset: number) => void;
}

export function Pager({ offset, limit, total, onChange }: PagerProps) {
  const { t } = useTranslation();
  if (total <= limit) return null;
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  return (
    <nav className="pager" aria-label={t('common.pages')}>
      <button className="btn" disabled={offset === 0}
        onClick={() => onChange(Math.max(0, offset - limit))}>{t('common.previous')}</button>
      <span>{t('common.range', { from, to, total })}</span>
      <button className="btn" disabled={to >= total} onClick={() => onChange(offset + limit)}>
        {t('common.next')}</button>
    </nav>
  );
}
