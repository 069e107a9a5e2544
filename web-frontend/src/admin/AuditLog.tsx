/** The audit trail (admins): who did what, when, from where; filtered and paged. */

import { useTranslation } from 'react-i18next';
import { audit, type AuditQuery } from '../api/resources';
import { Empty, ErrorNote, Loading, Pager } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useApiQuery } from '../components/useApiQuery';
import { DebouncedInput, useUrlFilters } from '../components/urlFilters';
import { useFormat } from '../i18n/format';
import { fromLocalInput } from '../events/time';

const LIMIT = 50;
const FILTERS = ['user', 'action', 'target_type', 'target_id', 'from', 'to'] as const;

function summaryText(s: Record<string, unknown>): string {
  const text = Object.entries(s).map(([k, v]) => `${k}=${typeof v === 'string' ? v
    : JSON.stringify(v)}`).join(' ');
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

export function AuditLog() {
  const { t } = useTranslation();
  const fmt = useFormat();
  const filters = useUrlFilters(FILTERS);
  const f = filters.values;
  const offset = filters.offset;
  const q: AuditQuery = { limit: LIMIT, offset };
  if (f.user) q.user = f.user;
  if (f.action) q.action = f.action;
  if (f.target_type) q.target_type = f.target_type;
  if (f.target_id) q.target_id = f.target_id;
  const start = fromLocalInput(f.from);
  const end = fromLocalInput(f.to);
  if (start) q.start = start;
  if (end) q.end = end;
  const list = useApiQuery(keys.audit(q), (signal) => audit.list(q, signal),
    { keepPrevious: true });
  const set = (k: (typeof FILTERS)[number]) => (v: string) => filters.set(k, v);

  return (
    <div className="page">
      <header className="page-head">
        <h1>{t('admin.audit')}</h1>
        <button className="btn" onClick={list.reload}>{t('common.refresh')}</button>
      </header>
      <form className="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('common.filters')}>
        <label className="inline-field"><span>{t('audit.user')}</span>
          <DebouncedInput value={f.user} onChange={set('user')} /></label>
        <label className="inline-field"><span>{t('audit.action')}</span>
          <DebouncedInput value={f.action} placeholder="camera.create"
            onChange={set('action')} /></label>
        <label className="inline-field"><span>{t('audit.targetType')}</span>
          <DebouncedInput value={f.target_type} onChange={set('target_type')} /></label>
        <label className="inline-field"><span>{t('audit.targetId')}</span>
          <DebouncedInput value={f.target_id} onChange={set('target_id')} /></label>
        <label className="inline-field"><span>{t('common.from')}</span>
          <input type="datetime-local" value={f.from} onChange={(e) => set('from')(e.target.value)} /></label>
        <label className="inline-field"><span>{t('common.to')}</span>
          <input type="datetime-local" value={f.to} onChange={(e) => set('to')(e.target.value)} /></label>
      </form>
      <ErrorNote error={list.error} />
      {list.loading && !list.data && <Loading />}
      {list.data && list.data.items.length === 0 && <Empty>{t('audit.none')}</Empty>}
      {list.data && list.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table audit">
            <thead><tr>
              <th scope="col">{t('common.time')}</th><th scope="col">{t('audit.user')}</th>
              <th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.target')}</th>
              <th scope="col">{t('audit.result')}</th><th scope="col">{t('audit.ip')}</th>
              <th scope="col">{t('audit.details')}</th>
            </tr></thead>
            <tbody>
              {list.data.items.map((a) => (
                <tr key={a.id} data-action={a.action}>
                  <td className="nowrap">{fmt.dateTime(a.ts)}</td>
                  <td>{a.username ?? (a.user_id !== null ? `#${a.user_id}` : '—')}</td>
                  <td className="mono">{a.action}</td>
                  <td>{a.target_type ? `${a.target_type}${a.target_id ? ` #${a.target_id}` : ''}` : '—'}</td>
                  <td><span className={`tag result-${a.result}`}>{t(`audit.results.${a.result}`,
                    { defaultValue: a.result })}</span></td>
                  <td className="mono small">{a.ip ?? '—'}</td>
                  <td className="small mono" title={JSON.stringify(a.summary)}>{summaryText(a.summary)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data && <Pager offset={offset} limit={LIMIT} total={list.data.total} onChange={filters.setOffset} />}
    </div>
  );
}
