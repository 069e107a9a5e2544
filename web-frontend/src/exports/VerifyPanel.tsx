/** Verify an evidence bundle someone hands back: in the browser when it can check Ed25519
 * (and the bundle fits in memory), else on the server. */

import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../api/errors';
import { exportsApi } from './api';
import { MAX_BROWSER_BYTES, Unsupported, verifyBundle, type BundleCheck } from './verifyBundle';

interface Outcome extends BundleCheck { where: 'browser' | 'server' }

export function VerifyPanel() {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<string | null>(null);

  const check = async (file: File) => {
    setBusy(true);
    setOutcome(null);
    setError(null);
    try {
      const key = await exportsApi.publicKey();
      let result: Outcome | null = null;
      if (file.size <= MAX_BROWSER_BYTES) {
        try {
          result = { ...await verifyBundle(await file.arrayBuffer(), key.public_key_pem),
            where: 'browser' };
        } catch (err) {
          if (!(err instanceof Unsupported)) throw err;
        }
      }
      if (result === null) {
        const r = await exportsApi.verifyOnServer(file);
        result = { valid: r.valid, reasons: r.reasons, fingerprint: r.fingerprint,
          filesChecked: r.files_checked, manifest: r.manifest ?? null, where: 'server' };
      }
      setOutcome(result);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="verify-bundle">
      <h2 id="verify-bundle">{t('exports.verify')}</h2>
      <label className="field"><span>{t('exports.bundleFile')}</span>
        <input type="file" accept=".zip,application/zip" disabled={busy}
          onChange={(e) => { const f = e.target.files?.[0]; if (f) void check(f); }} /></label>
      {busy && <p className="muted" role="status">{t('exports.verifying')}</p>}
      {error && <p className="error" role="alert">{error}</p>}
      {outcome && (
        <div role="status" className={outcome.valid ? 'verify ok' : 'verify bad'}>
          <p><strong>{outcome.valid ? t('exports.valid') : t('exports.invalid')}</strong>
            {' '}<span className="muted small">{t(`exports.checkedIn_${outcome.where}`,
              { count: outcome.filesChecked })}</span></p>
          {outcome.manifest && (
            <p className="small">{t('exports.manifestSays', {
              name: String(outcome.manifest.name ?? ''),
              user: String((outcome.manifest.exported_by as { username?: string } | undefined)
                ?.username ?? '?'),
              reason: String(outcome.manifest.reason ?? '') })}</p>)}
          {outcome.reasons.length > 0 && (
            <ul>{outcome.reasons.map((r) => <li key={r}>{r}</li>)}</ul>)}
        </div>
      )}
    </section>
  );
}
