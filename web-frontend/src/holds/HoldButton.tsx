/**
 * Put something on legal hold, or release its hold, with the reason asked first (the
 * reason is the record: it is audited and shown with the hold).
 */

import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSession } from '../auth/session';
import { Dialog } from '../components/Dialog';
import { ErrorNote } from '../components/Feedback';
import { holdKeys, holdsApi, type Hold, type HoldCreate } from './api';

interface HoldButtonProps {
  /** What to hold (`kind` and its fields); ignored when `hold` is given. */
  target: Omit<HoldCreate, 'reason'>;
  /** The active hold on it, if any: the button releases it. */
  hold?: Hold | null;
  label?: string;
}

export function HoldButton({ target, hold, label }: HoldButtonProps) {
  const { t } = useTranslation();
  const { can } = useSession();
  const qc = useQueryClient();
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const save = useMutation({
    mutationFn: () => (hold ? holdsApi.release(hold.id, reason)
      : holdsApi.create({ ...target, reason })),
    onSuccess: async () => {
      setOpen(false);
      setReason('');
      await qc.invalidateQueries({ queryKey: holdKeys.all });
      await qc.invalidateQueries({ queryKey: ['exports'] });
    },
  });
  if (!can('recordings:hold')) return null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim()) save.mutate();
  };
  const title = hold ? t('holds.releaseTitle') : t('holds.holdTitle');
  return (
    <>
      <button type="button" className={hold ? 'btn held' : 'btn'} aria-pressed={Boolean(hold)}
        onClick={() => setOpen(true)}>
        {hold ? t('holds.release') : (label ?? t('holds.hold'))}</button>
      {open && (
        <Dialog title={title} onClose={() => setOpen(false)}>
          <form onSubmit={submit} className="form">
            {hold && <p className="muted">{t('holds.heldBecause', { reason: hold.reason,
              user: hold.created_by_name ?? '?' })}</p>}
            <label className="field"><span>{t('holds.reason')}</span>
              <textarea required value={reason} maxLength={1024} autoFocus
                onChange={(e) => setReason(e.target.value)} /></label>
            <ErrorNote error={save.error} />
            <div className="actions">
              <button type="submit" className="btn primary"
                disabled={!reason.trim() || save.isPending}>{title}</button>
              <button type="button" className="btn" onClick={() => setOpen(false)}>
                {t('common.cancel')}</button>
            </div>
          </form>
        </Dialog>
      )}
    </>
  );
}
