/** Saved layouts: load, save, save as, rename, share, delete. */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { layouts as layoutsApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { Layout } from '../api/types';
import { useMe, useSession } from '../auth/session';
import { Dialog } from '../components/Dialog';
import { ConfirmButton } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useApiQuery } from '../components/useApiQuery';
import { layoutBody, type GridAction, type GridState } from './layoutState';

interface BarProps {
  state: GridState;
  dispatch(a: GridAction): void;
}

type Naming = { mode: 'saveAs' } | { mode: 'rename'; layout: Layout };

export function LayoutBar({ state, dispatch }: BarProps) {
  const { t } = useTranslation();
  const me = useMe();
  const { can } = useSession();
  const list = useApiQuery(keys.layouts, (signal) => layoutsApi.list(signal));
  const [naming, setNaming] = useState<Naming | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const layouts = list.data ?? [];
  const current = layouts.find((l) => l.id === state.layoutId) ?? null;
  const mayChange = (l: Layout | null) =>
    l !== null && (l.owner_id === me.id || can('users:manage')) && can('layouts:write');

  const run = async (action: () => Promise<void>, ok: string) => {
    setMessage(null);
    try {
      await action();
      setMessage({ ok: true, text: ok });
      list.reload();
    } catch (err) {
      setMessage({ ok: false, text: errorMessage(err) });
    }
  };

  const save = () => {
    if (!current || !mayChange(current)) {
      setNaming({ mode: 'saveAs' });
      return;
    }
    void run(async () => {
      const saved = await layoutsApi.update(current.id, layoutBody(state));
      dispatch({ type: 'saved', layout: saved });
    }, t('layouts.saved', { name: current.name }));
  };

  const load = (id: string) => {
    const l = layouts.find((x) => String(x.id) === id);
    if (l) dispatch({ type: 'load', layout: l });
  };

  return (
    <div className="layout-bar" role="group" aria-label={t('layouts.title')}>
      <label className="inline-field">
        <span>{t('layouts.title')}</span>
        <select value={state.layoutId ?? ''} onChange={(e) => load(e.target.value)}
          aria-label={t('layouts.choose')}>
          <option value="">{t('layouts.none')}</option>
          {layouts.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}{l.shared ? ` — ${t('layouts.sharedBy', { owner: l.owner ?? '?' })}` : ''}
            </option>
          ))}
        </select>
      </label>
      {state.dirty && <span className="tag warn">{t('layouts.unsaved')}</span>}
      {can('layouts:write') && (
        <>
          <button type="button" className="btn" onClick={save}>{t('common.save')}</button>
          <button type="button" className="btn" onClick={() => setNaming({ mode: 'saveAs' })}>
            {t('layouts.saveAs')}</button>
        </>
      )}
      {current && mayChange(current) && (
        <>
          <button type="button" className="btn" onClick={() => setNaming({ mode: 'rename',
            layout: current })}>{t('layouts.rename')}</button>
          <label className="inline-check">
            <input type="checkbox" checked={current.shared} onChange={(e) => void run(
              async () => { await layoutsApi.update(current.id, { shared: e.target.checked }); },
              e.target.checked ? t('layouts.nowShared') : t('layouts.nowPrivate'))} />
            {t('layouts.shared')}
          </label>
          <ConfirmButton label={t('common.delete')} confirmLabel={t('layouts.confirmDelete')}
            onConfirm={() => run(async () => {
              await layoutsApi.remove(current.id);
              dispatch({ type: 'detach' });
            }, t('layouts.deleted', { name: current.name }))} />
        </>
      )}
      {message && <span className={message.ok ? 'ok' : 'error'} role="status">{message.text}</span>}
      {naming && (
        <NameDialog
          title={naming.mode === 'saveAs' ? t('layouts.saveAs') : t('layouts.rename')}
          initial={naming.mode === 'rename' ? naming.layout.name : ''}
          withShared={naming.mode === 'saveAs'}
          onClose={() => setNaming(null)}
          onSubmit={(name, shared) => run(async () => {
            if (naming.mode === 'rename') {
              const l = await layoutsApi.update(naming.layout.id, { name });
              if (l.id === state.layoutId) dispatch({ type: 'saved', layout: l });
            } else {
              const l = await layoutsApi.create({ name, shared, ...layoutBody(state) });
              dispatch({ type: 'saved', layout: l });
            }
            setNaming(null);
          }, t('layouts.saved', { name }))} />
      )}
    </div>
  );
}

interface NameProps {
  title: string;
  initial: string;
  withShared: boolean;
  onClose(): void;
  onSubmit(name: string, shared: boolean): Promise<void>;
}

function NameDialog({ title, initial, withShared, onClose, onSubmit }: NameProps) {
  const { t } = useTranslation();
  const [name, setName] = useState(initial);
  const [shared, setShared] = useState(false);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (name.trim()) void onSubmit(name.trim(), shared);
  };
  return (
    <Dialog title={title} onClose={onClose}>
      <form className="stack" onSubmit={submit}>
        <label className="field"><span>{t('layouts.name')}</span>
          <input value={name} required maxLength={128} autoFocus
            onChange={(e) => setName(e.target.value)} /></label>
        {withShared && (
          <label className="inline-check"><input type="checkbox" checked={shared}
            onChange={(e) => setShared(e.target.checked)} /> {t('layouts.shareWithAll')}</label>
        )}
        <div className="actions">
          <button type="button" className="btn" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" className="btn primary">{t('common.save')}</button>
        </div>
      </form>
    </Dialog>
  );
}
