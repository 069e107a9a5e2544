/** Users and roles: create, edit, disable or delete users; camera grants; the role table. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { users as usersApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { User } from '../api/types';
import { useMe } from '../auth/session';
import { ConfirmButton, ErrorNote, Loading } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useApiQuery } from '../components/useApiQuery';
import { useFormat } from '../i18n/format';
import { GrantsDialog } from './GrantsDialog';
import { UserForm } from './UserForm';

type Editing = { kind: 'form'; user: User | null } | { kind: 'grants'; user: User };

export function UsersAdmin() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const me = useMe();
  const list = useApiQuery(keys.users,
    (signal) => Promise.all([usersApi.list(signal), usersApi.roles(signal)]));
  const [editing, setEditing] = useState<Editing | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [users, roles] = list.data ?? [[], []];

  const remove = async (u: User) => {
    try {
      const disabled = await usersApi.remove(u.id);
      setMessage(disabled ? t('users.disabledInstead', { name: u.username })
        : t('users.deleted', { name: u.username }));
      list.reload();
    } catch (err) {
      setMessage(errorMessage(err));
    }
  };

  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('admin.users')}</h1>
        <button className="btn primary" onClick={() => setEditing({ kind: 'form', user: null })}>
          {t('users.add')}</button>
      </header>
      {message && <p className="notice" role="status">{message}</p>}
      <ErrorNote error={list.error} />
      {list.loading && !list.data && <Loading />}
      {users.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead><tr>
              <th scope="col">{t('users.username')}</th><th scope="col">{t('users.roles')}</th>
              <th scope="col">{t('users.status')}</th><th scope="col">{t('users.lastLogin')}</th>
              <th scope="col"><span className="sr-only">{t('common.actions')}</span></th>
            </tr></thead>
            <tbody>
              {users.map((u) => (
                <tr key={u.id} data-username={u.username}>
                  <td><strong>{u.username}</strong>{u.email && <div className="muted small">{u.email}</div>}</td>
                  <td>{u.roles.map((r) => t(`roles.${r}`, { defaultValue: r })).join(', ')}</td>
                  <td>{u.is_active ? t('users.active') : t('users.inactive')}</td>
                  <td>{fmt.dateTime(u.last_login_at)}</td>
                  <td className="actions-cell">
                    <button className="btn small" onClick={() => setEditing({ kind: 'form', user: u })}>
                      {t('common.edit')}</button>
                    <button className="btn small" onClick={() => setEditing({ kind: 'grants', user: u })}>
                      {t('grants.button')}</button>
                    {u.id !== me.id && (
                      <ConfirmButton className="btn small danger" label={t('common.delete')}
                        confirmLabel={t('users.confirmDelete', { name: u.username })}
                        onConfirm={() => remove(u)} />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2 className="section-title">{t('users.rolesTitle')}</h2>
      <div className="table-wrap">
        <table className="table">
          <thead><tr><th scope="col">{t('users.role')}</th><th scope="col">{t('users.ptzPriority')}</th>
            <th scope="col">{t('users.permissions')}</th></tr></thead>
          <tbody>
            {roles.map((r) => (
              <tr key={r.id}><td><strong>{t(`roles.${r.name}`, { defaultValue: r.name })}</strong>
                <div className="muted small">{r.description}</div></td>
              <td>{r.ptz_priority}</td>
              <td className="perms">{r.permissions.map((p) => <span key={p} className="tag">{p}</span>)}</td></tr>
            ))}
          </tbody>
        </table>
      </div>
      {editing?.kind === 'form' && (
        <UserForm user={editing.user} roles={roles} onClose={() => setEditing(null)}
          onSaved={(u) => { setEditing(null); setMessage(t('users.saved', { name: u.username }));
            list.reload(); }} />
      )}
      {editing?.kind === 'grants' && <GrantsDialog user={editing.user} onClose={() => setEditing(null)} />}
    </div>
  );
}
