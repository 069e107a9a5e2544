import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, NetworkError } from '../api/errors';
import { LanguageSwitch } from '../components/LanguageSwitch';
import { Logo } from '../components/icons';
import { useSession } from './session';

export function LoginPage() {
  const { t } = useTranslation();
  const { login, expired } = useSession();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
    } catch (err) {
      setPassword('');
      if (err instanceof ApiError && err.status === 401) setError(t('login.invalid'));
      else if (err instanceof ApiError && err.status === 429) {
        const minutes = Math.max(1, Math.ceil((err.retryAfter ?? 60) / 60));
        setError(t('login.locked', { count: minutes }));
      } else if (err instanceof NetworkError || (err instanceof ApiError && err.status >= 500)) {
        setError(t('login.unreachable'));
      } else setError(err instanceof ApiError ? err.detail : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit} aria-labelledby="login-title">
        <div className="login-brand">
          <Logo size={40} />
          <div>
            <h1 id="login-title">ARGUS</h1>
            <p className="muted">{t('login.subtitle')}</p>
          </div>
        </div>
        {expired && !error && <p className="notice" role="status">{t('login.expired')}</p>}
        <label className="field">
          <span>{t('login.username')}</span>
          <input name="username" autoComplete="username" required autoFocus value={username}
            onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label className="field">
          <span>{t('login.password')}</span>
          <input name="password" type="password" autoComplete="current-password" required
            value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        {error && <p className="error" role="alert">{error}</p>}
        <button className="btn primary wide" type="submit" disabled={busy}>
          {busy ? t('login.signingIn') : t('login.submit')}
        </button>
        <div className="login-footer"><LanguageSwitch /></div>
      </form>
    </main>
  );
}
