import { useTranslation } from 'react-i18next';
import { IconChevron, IconClose } from '../components/icons';
import { useCameras } from '../cameras/useCameras';
import { ZOOMS, type Zoom } from './timelineLayout';

interface ToolbarProps {
  selected: number[];
  onSelected(ids: number[]): void;
  date: string;
  onDate(d: string): void;
  zoom: Zoom;
  onZoom(z: Zoom): void;
  speed: number;
  onSpeed(s: number): void;
  onShift(dir: -1 | 1): void;
  onPrevEvent(): void;
  onNextEvent(): void;
  onNow(): void;
}

const MAX = 4;
const SPEEDS = [0.5, 1, 2, 4, 8];

export function PlaybackToolbar(p: ToolbarProps) {
  const { t } = useTranslation();
  const { cameras, nameOf } = useCameras();
  const addable = cameras.filter((c) => !p.selected.includes(c.id));
  return (
    <div className="toolbar wrap">
      <div className="chips" aria-label={t('playback.cameras')}>
        {p.selected.map((id) => (
          <span className="chip" key={id}>{nameOf(id)}
            {p.selected.length > 1 && (
              <button type="button" className="icon-btn" aria-label={t('playback.removeCamera',
                { camera: nameOf(id) })} onClick={() => p.onSelected(p.selected.filter((x) => x !== id))}>
                <IconClose size={14} /></button>
            )}
          </span>
        ))}
        {p.selected.length < MAX && addable.length > 0 && (
          <select value="" aria-label={t('playback.addCamera')}
            onChange={(e) => e.target.value && p.onSelected([...p.selected, Number(e.target.value)])}>
            <option value="">{p.selected.length ? t('playback.addSync') : t('playback.addCamera')}</option>
            {addable.map((c) => <option key={c.id} value={c.id}>{c.name}</option>)}
          </select>
        )}
      </div>
      <label className="inline-field"><span>{t('playback.date')}</span>
        <input type="date" value={p.date} onChange={(e) => e.target.value && p.onDate(e.target.value)} />
      </label>
      <div className="segmented" role="radiogroup" aria-label={t('playback.zoom')}>
        {ZOOMS.map((z) => (
          <button key={z} type="button" role="radio" aria-checked={p.zoom === z}
            className={p.zoom === z ? 'active' : ''} onClick={() => p.onZoom(z)}>
            {t(`playback.zoom_${z}`)}</button>
        ))}
      </div>
      <div className="row">
        <button type="button" className="btn" onClick={() => p.onShift(-1)}
          aria-label={t('playback.earlier')}><IconChevron dir="left" /></button>
        <button type="button" className="btn" onClick={p.onNow}>{t('playback.now')}</button>
        <button type="button" className="btn" onClick={() => p.onShift(1)}
          aria-label={t('playback.later')}><IconChevron dir="right" /></button>
      </div>
      <div className="row">
        <button type="button" className="btn" onClick={p.onPrevEvent}>{t('playback.prevEvent')}</button>
        <button type="button" className="btn" onClick={p.onNextEvent}>{t('playback.nextEvent')}</button>
      </div>
      <label className="inline-field"><span>{t('playback.speed')}</span>
        <select value={p.speed} onChange={(e) => p.onSpeed(Number(e.target.value))}>
          {SPEEDS.map((s) => <option key={s} value={s}>{s}×</option>)}
        </select>
      </label>
    </div>
  );
}
