import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Dialog } from '../components/Dialog';
import { useCameras } from '../cameras/useCameras';
import { StatusDot } from './StatusBadge';

interface PickerProps {
  cell: number;
  exclude: (number | null)[];
  onPick(id: number): void;
  onClose(): void;
}

/** The keyboard way to put a camera in a cell (drag and drop is the mouse way). */
export function CameraPicker({ cell, exclude, onPick, onClose }: PickerProps) {
  const { t } = useTranslation();
  const { cameras } = useCameras();
  const [query, setQuery] = useState('');
  const shown = cameras.filter((c) => c.name.toLowerCase().includes(query.toLowerCase()));
  return (
    <Dialog title={t('live.pickTitle', { cell: cell + 1 })} onClose={onClose}>
      <label className="field">
        <span>{t('common.search')}</span>
        <input type="search" value={query} autoFocus onChange={(e) => setQuery(e.target.value)} />
      </label>
      <ul className="pick-list">
        {shown.map((c) => (
          <li key={c.id}>
            <button type="button" className="pick-item" onClick={() => onPick(c.id)}>
              <StatusDot status={c.status} />
              <span className="grow">{c.name}</span>
              {exclude.includes(c.id) && <span className="muted">{t('live.inGrid')}</span>}
            </button>
          </li>
        ))}
      </ul>
    </Dialog>
  );
}
