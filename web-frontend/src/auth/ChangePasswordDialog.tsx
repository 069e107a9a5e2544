import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { account } from '../api/resources';
import { ApiError, errorMessage } from '../api/errors';
import { Dialog } from '../components/Dialog';

export function ChangePasswordDialog({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    if (next !== confirm) {
      setError(t('password.mismatch'));
      return;
    }
    if (next.length < 8) {
      setError(t('password.tooShort'));
      return;
    }
    setBusy(true);
    try {
      await account.changePassword(current, next);
      setDone(true);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) setError(t('password.wrongCurrent'));
      else if (err instanceof ApiError && err.status === 429) setError(t('login.locked',
        { count: Math.max(1, Math.ceil((err.retryAfter ?? 60) / 60)) }));
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={t('password.title')} onClose={onClose}>
      {done ? (
        <div className="stack">
          <p role="status">{t('password.changed')}</p>
          <div className="actions"><button className="btn primary" onClick={onClose}>
            {t('common.close')}</button></div>
        </div>
      ) : (
        <form className="stack" onSubmit={submit}>
          <label className="field"><span>{t('password.current')}</span>
            <input type="password" autoComplete="current-password" required value={current}
              onChange={(e) => setCurrent(e.target.value)} /></label>
          <label className="field"><span>{t('password.new')}</span>
            <input type="password" autoComplete="new-password" required minLength={8}
              value={next} onChange={(e) => setNext(e.target.value)} /></label>
          <label className="field"><span>{t('password.confirm')}</span>
            <input type="password" autoComplete="new-password" required value={confirm}
              onChange={(e) => setConfirm(e.target.value)} /></label>
          <p className="hint">{t('password.policy')}</p>
          {error && <p className="error" role="alert">{error}</p>}
          <div className="actions">
            <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
            <button type="submit" className="btn primary" disabled={busy}>{t('common.save')}</button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
