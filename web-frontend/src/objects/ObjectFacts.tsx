/** What is known of a tracked object, as a short description list. */

import { useTranslation } from 'react-i18next';
import { useFormat } from '../i18n/format';
import type { TrackedObject } from './api';

export function ObjectFacts({ object: o, camera }: { object: TrackedObject; camera: string }) {
  const { t } = useTranslation();
  const fmt = useFormat();
  return (
    <dl className="object-facts">
      <dt>{t('search.label')}</dt>
      <dd>{t(`objectLabels.${o.label}`, { defaultValue: o.label })}
        {o.color && <> · <span className={`colour-dot c-${o.color}`} aria-hidden="true" />
          {t(`colours.${o.color}`, { defaultValue: o.color })}</>}</dd>
      <dt>{t('search.camera')}</dt><dd>{camera}</dd>
      <dt>{t('search.seen')}</dt>
      <dd>{fmt.dateTime(o.first_seen)} – {fmt.time(o.last_seen, true)}</dd>
      <dt>{t('search.dwell')}</dt><dd>{t('search.seconds', { value: o.dwell_s.toFixed(1) })}</dd>
      <dt>{t('search.score')}</dt><dd>{Math.round(o.score * 100)} %</dd>
      {o.zones.length > 0 && <><dt>{t('search.zones')}</dt><dd>{o.zones.join(', ')}</dd></>}
      {o.lines.length > 0 && <><dt>{t('search.lines')}</dt><dd>{o.lines.join(', ')}</dd></>}
      {o.direction && <><dt>{t('search.direction')}</dt>
        <dd>{t(`directions.${o.direction}`, { defaultValue: o.direction })}</dd></>}
    </dl>
  );
}
