import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { ptz } from '../api/ptz';
import { errorMessage } from '../api/errors';
import { ConfirmButton } from '../components/Feedback';
import { keys } from '../api/queryClient';
import { useApiQuery } from '../components/useApiQuery';
import { IconHome } from '../components/icons';

interface PresetsProps {
  cameraId: number;
  disabled: boolean;
  beforeCommand(): Promise<boolean>;
  onMoved(): void;
}

export function PtzPresets({ cameraId, disabled, beforeCommand, onMoved }: PresetsProps) {
  const { t } = useTranslation();
  const presets = useApiQuery(keys.ptzPresets(cameraId),
    (signal) => ptz.presets(cameraId, signal));
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);

  const run = async (fn: () => Promise<unknown>, reload = false) => {
    setError(null);
    if (!(await beforeCommand())) return;
    try {
      await fn();
      if (reload) presets.reload();
      onMoved();
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  const save = (e: FormEvent) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) return;
    void run(async () => {
      await ptz.setPreset(cameraId, n);
      setName('');
    }, true);
  };

  return (
    <div className="ptz-presets">
      <div className="row">
        <button type="button" className="btn icon-text" disabled={disabled}
          onClick={() => void run(() => ptz.home(cameraId))}><IconHome size={16} /> {t('ptz.home')}</button>
        <button type="button" className="btn" disabled={disabled}
          onClick={() => void run(() => ptz.setHome(cameraId))}>{t('ptz.setHome')}</button>
      </div>
      <h3 className="panel-subtitle">{t('ptz.presets')}</h3>
      {presets.error != null && <p className="error">{errorMessage(presets.error)}</p>}
      {presets.data && presets.data.length === 0 && <p className="muted">{t('ptz.noPresets')}</p>}
      <ul className="preset-list">
        {(presets.data ?? []).map((p) => (
          <li key={p.token}>
            <span className="grow">{p.name}</span>
            <button type="button" className="btn small" disabled={disabled}
              onClick={() => void run(() => ptz.gotoPreset(cameraId, p.token))}
              aria-label={t('ptz.gotoPreset', { name: p.name })}>{t('ptz.go')}</button>
            <ConfirmButton className="btn small" label={t('common.delete')}
              confirmLabel={t('common.confirm')}
              onConfirm={() => run(() => ptz.removePreset(cameraId, p.token), true)} />
          </li>
        ))}
      </ul>
      <form className="row" onSubmit={save}>
        <input value={name} maxLength={64} placeholder={t('ptz.presetName')}
          aria-label={t('ptz.presetName')} onChange={(e) => setName(e.target.value)} />
        <button type="submit" className="btn" disabled={disabled || !name.trim()}>
          {t('ptz.savePreset')}</button>
      </form>
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
