/**
 * RTMP stream keys (`/api/v1/rtmp/keys`): list, create (the secret is shown once), revoke.
 * Built against the contract; a server without the API answers 404, said plainly.
 */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { rtmpKeys } from '../api/resources';
import { ApiError, errorMessage } from '../api/errors';
import type { RtmpKey } from '../api/types';
import { ConfirmButton, Empty, ErrorNote, Loading } from '../components/Feedback';
import { useAsync } from '../components/useAsync';
import { useFormat } from '../i18n/format';
import { fromLocalInput } from '../events/time';

export function RtmpKeys() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const list = useAsync(() => rtmpKeys.list(), []);
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<RtmpKey | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const missing = list.error instanceof ApiError && (list.error.status === 404
    || list.error.status === 405);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      const key = await rtmpKeys.create(name.trim(), fromLocalInput(expires));
      setCreated(key);
      setCopied(false);
      setName('');
      setExpires('');
      list.reload();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? t('rtmp.unavailable') : errorMessage(err));
    }
  };

  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setCopied(false);
    }
  };

  return (
    <div className="page">
      <header className="page-head"><h1>{t('admin.rtmp')}</h1></header>
      <p className="hint">{t('rtmp.intro')}</p>
      {missing && <p className="notice warn" role="status" data-testid="rtmp-unavailable">
        {t('rtmp.unavailable')}</p>}
      <form className="filters" onSubmit={create}>
        <label className="inline-field"><span>{t('rtmp.name')}</span>
          <input required maxLength={128} value={name} onChange={(e) => setName(e.target.value)} /></label>
        <label className="inline-field"><span>{t('rtmp.expires')}</span>
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} /></label>
        <button type="submit" className="btn primary">{t('rtmp.create')}</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {created?.key && (
        <div className="secret" role="status">
          <p><strong>{t('rtmp.createdOnce', { name: created.name })}</strong></p>
          <code className="mono">{created.key}</code>
          <button type="button" className="btn small" onClick={() => void copy(created.key ?? '')}>
            {copied ? t('rtmp.copied') : t('rtmp.copy')}</button>
          {typeof created.publish_url === 'string' && (
            <p className="muted small mono">{created.publish_url}</p>)}
        </div>
      )}
      {!missing && <ErrorNote error={list.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.length === 0 && <Empty>{t('rtmp.none')}</Empty>}
      {list.data && list.data.length > 0 && (
        <table className="table">
          <thead><tr><th scope="col">{t('rtmp.name')}</th><th scope="col">{t('rtmp.created')}</th>
            <th scope="col">{t('rtmp.expires')}</th><th scope="col">{t('rtmp.lastUsed')}</th>
            <th scope="col"><span className="sr-only">{t('common.actions')}</span></th></tr></thead>
          <tbody>
            {list.data.map((k) => (
              <tr key={String(k.id)}>
                <td>{k.name}</td><td>{fmt.dateTime(k.created_at ?? null)}</td>
                <td>{k.expires_at ? fmt.dateTime(k.expires_at) : t('rtmp.never')}</td>
                <td>{fmt.dateTime(k.last_used_at ?? null)}</td>
                <td><ConfirmButton className="btn small danger" label={t('rtmp.revoke')}
                  confirmLabel={t('common.confirm')} onConfirm={async () => {
                    try {
                      await rtmpKeys.remove(k.id);
                      list.reload();
                    } catch (err) {
                      setError(errorMessage(err));
                    }
                  }} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
