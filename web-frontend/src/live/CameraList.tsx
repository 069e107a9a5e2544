/** Sidebar list of cameras: drag one onto a cell, or press Enter to add it to the grid. */

import { useState, type DragEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { IconCamera } from '../components/icons';
import { useCameras } from '../cameras/useCameras';
import { CAMERA_MIME } from './dnd';
import { StatusDot } from './StatusBadge';

export function CameraList({ inGrid, onAdd }: { inGrid: (number | null)[];
  onAdd(id: number): void }) {
  const { t } = useTranslation();
  const { cameras, loading } = useCameras();
  const [query, setQuery] = useState('');
  const shown = cameras.filter((c) => c.name.toLowerCase().includes(query.toLowerCase()));

  const dragStart = (id: number) => (e: DragEvent) => {
    e.dataTransfer.setData(CAMERA_MIME, String(id));
    e.dataTransfer.effectAllowed = 'copyMove';
  };

  return (
    <aside className="camera-list" aria-label={t('live.cameras')}>
      <h2 className="panel-title"><IconCamera size={16} /> {t('live.cameras')}</h2>
      <input type="search" className="search" placeholder={t('common.search')}
        aria-label={t('live.searchCameras')} value={query}
        onChange={(e) => setQuery(e.target.value)} />
      {loading && cameras.length === 0 && <p className="muted">{t('common.loading')}</p>}
      {!loading && cameras.length === 0 && <p className="muted">{t('live.noCameras')}</p>}
      <ul>
        {shown.map((c) => (
          <li key={c.id}>
            <button type="button" className={`cam-item${inGrid.includes(c.id) ? ' in-grid' : ''}`}
              draggable onDragStart={dragStart(c.id)} onClick={() => onAdd(c.id)}
              data-camera-id={c.id} title={t('live.addHint')}>
              <StatusDot status={c.status} />
              <span className="grow">{c.name}</span>
              {c.has_ptz && <span className="tag">PTZ</span>}
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
