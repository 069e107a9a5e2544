/** Create a user, or change one's e-mail, roles, active flag or password. */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { users as usersApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { Role, User } from '../api/types';
import { Dialog } from '../components/Dialog';

interface Props {
  user: User | null;
  roles: Role[];
  onClose(): void;
  onSaved(u: User): void;
}

export function UserForm({ user, roles, onClose, onSaved }: Props) {
  const { t } = useTranslation();
  const [username, setUsername] = useState(user?.username ?? '');
  const [email, setEmail] = useState(user?.email ?? '');
  const [password, setPassword] = useState('');
  const [chosen, setChosen] = useState<string[]>(user?.roles ?? ['viewer']);
  const [active, setActive] = useState(user?.is_active ?? true);
  const [error, setError] = useState<string | null>(null);

  const toggle = (name: string, on: boolean) =>
    setChosen(on ? [...chosen, name] : chosen.filter((r) => r !== name));

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const saved = user
        ? await usersApi.update(user.id, { email: email.trim() || null, roles: chosen,
          is_active: active, ...(password ? { password } : {}) })
        : await usersApi.create({ username: username.trim(), email: email.trim() || null,
          password, roles: chosen });
      onSaved(saved);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <Dialog title={user ? t('users.edit', { name: user.username }) : t('users.add')} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <label className="field"><span>{t('users.username')}</span>
          <input required pattern="[A-Za-z0-9_.\-]{3,64}" disabled={user !== null} value={username}
            autoComplete="off" onChange={(e) => setUsername(e.target.value)} /></label>
        <label className="field"><span>{t('users.email')}</span>
          <input type="email" value={email} onChange={(e) => setEmail(e.target.value)} /></label>
        <label className="field"><span>{user ? t('users.newPassword') : t('login.password')}</span>
          <input type="password" autoComplete="new-password" required={user === null}
            minLength={8} value={password} onChange={(e) => setPassword(e.target.value)} /></label>
        <fieldset className="fieldset">
          <legend>{t('users.roles')}</legend>
          {roles.map((r) => (
            <label key={r.name} className="inline-check">
              <input type="checkbox" checked={chosen.includes(r.name)}
                onChange={(e) => toggle(r.name, e.target.checked)} />
              {t(`roles.${r.name}`, { defaultValue: r.name })}
              <span className="muted small"> — {r.description}</span>
            </label>
          ))}
        </fieldset>
        {user && (
          <label className="inline-check"><input type="checkbox" checked={active}
            onChange={(e) => setActive(e.target.checked)} /> {t('users.active')}</label>
        )}
        {error && <p className="error" role="alert">{error}</p>}
        <div className="actions">
          <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" className="btn primary">{t('common.save')}</button>
        </div>
      </form>
    </Dialog>
  );
}
