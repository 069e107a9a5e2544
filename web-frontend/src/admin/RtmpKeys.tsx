/**
 * RTMP stream keys (`/api/v1/rtmp/keys`): list, create (the secret is shown once), revoke.
 * A server without the API (404) is said plainly instead of showing an error.
 */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { rtmpKeys } from '../api/resources';
import { ApiError, errorMessage } from '../api/errors';
import type { RtmpKey, RtmpKeyCreated } from '../api/schema';
import { useSession } from '../auth/session';
import { ConfirmButton, Empty, ErrorNote, Loading } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useApiQuery } from '../components/useApiQuery';
import { useFormat } from '../i18n/format';
import { fromLocalInput } from '../events/time';

function CreatedKey({ created }: { created: RtmpKeyCreated }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(text);
    } catch {
      setCopied(null);
    }
  };
  const rows = [[t('rtmp.key'), created.key], [t('rtmp.publishUrl'), created.publish_url_with_key]]
    .filter((r): r is [string, string] => typeof r[1] === 'string');
  return (
    <div className="secret" role="status" data-testid="rtmp-secret">
      <p><strong>{t('rtmp.createdOnce', { name: created.name })}</strong></p>
      {rows.map(([label, value]) => (
        <div key={label} className="row">
          <span className="muted small">{label}</span>
          <code className="mono">{value}</code>
          <button type="button" className="btn small" onClick={() => void copy(value)}>
            {copied === value ? t('rtmp.copied') : t('rtmp.copy')}</button>
        </div>
      ))}
    </div>
  );
}

export function RtmpKeys() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const { can } = useSession();
  const list = useApiQuery(keys.rtmpKeys, (signal) => rtmpKeys.list(signal));
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<RtmpKeyCreated | null>(null);
  const [error, setError] = useState<string | null>(null);
  const missing = list.error instanceof ApiError && (list.error.status === 404
    || list.error.status === 405);
  const everyone = can('users:manage');

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setCreated(await rtmpKeys.create(name.trim(), fromLocalInput(expires)));
      setName('');
      setExpires('');
      list.reload();
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? t('rtmp.unavailable') : errorMessage(err));
    }
  };

  const revoke = async (k: RtmpKey) => {
    try {
      await rtmpKeys.remove(k.id);
      list.reload();
    } catch (err) {
      setError(errorMessage(err));
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
          <input required pattern="[A-Za-z0-9_\-]{1,64}" maxLength={64} value={name}
            title={t('rtmp.nameRule')} onChange={(e) => setName(e.target.value)} /></label>
        <label className="inline-field"><span>{t('rtmp.expires')}</span>
          <input type="datetime-local" value={expires} onChange={(e) => setExpires(e.target.value)} /></label>
        <button type="submit" className="btn primary">{t('rtmp.create')}</button>
        <span className="hint">{t('rtmp.nameRule')}</span>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
      {created && <CreatedKey created={created} />}
      {!missing && <ErrorNote error={list.error} />}
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.length === 0 && <Empty>{t('rtmp.none')}</Empty>}
      {list.data && list.data.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead><tr><th scope="col">{t('rtmp.name')}</th>
              {everyone && <th scope="col">{t('rtmp.owner')}</th>}
              <th scope="col">{t('rtmp.state')}</th><th scope="col">{t('rtmp.publishUrl')}</th>
              <th scope="col">{t('rtmp.created')}</th><th scope="col">{t('rtmp.expires')}</th>
              <th scope="col">{t('rtmp.lastUsed')}</th>
              <th scope="col"><span className="sr-only">{t('common.actions')}</span></th></tr></thead>
            <tbody>
              {list.data.map((k) => (
                <tr key={k.id} data-key-name={k.name}>
                  <td><strong>{k.name}</strong></td>
                  {everyone && <td>{k.username ?? '—'}</td>}
                  <td><span className={`tag state-${k.state}`}>{t(`rtmp.states.${k.state}`)}</span></td>
                  <td className="mono small">{k.publish_url}</td>
                  <td>{fmt.dateTime(k.created_at)}</td>
                  <td>{k.expires_at ? fmt.dateTime(k.expires_at) : t('rtmp.never')}</td>
                  <td>{fmt.dateTime(k.last_used_at)}</td>
                  <td>{k.state !== 'revoked' && (
                    <ConfirmButton className="btn small danger" label={t('rtmp.revoke')}
                      confirmLabel={t('common.confirm')} onConfirm={() => revoke(k)} />)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
