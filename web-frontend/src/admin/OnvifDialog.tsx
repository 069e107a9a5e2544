/** ONVIF: discover devices (multicast or one address), probe one, add it with its profiles. */

import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import type { DiscoveredDevice, ProbeResult } from '../api/types';
import { Dialog } from '../components/Dialog';

/** The probe's answer with what the device could not do (optional operations). */
type Probe = ProbeResult & { warnings?: string[]; capabilities?: { media2: boolean } };

interface Props {
  onClose(): void;
  onAdded(): void;
}

export function OnvifDialog({ onClose, onAdded }: Props) {
  const { t } = useTranslation();
  const [target, setTarget] = useState('');
  const [devices, setDevices] = useState<DiscoveredDevice[] | null>(null);
  const [host, setHost] = useState('');
  const [port, setPort] = useState('80');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [probe, setProbe] = useState<Probe | null>(null);
  const [name, setName] = useState('');
  const [main, setMain] = useState('');
  const [sub, setSub] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const discover = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const [h, p] = target.trim().split(':');
      const res = await camerasApi.discover(h ? { host: h, port: Number(p || 3702) } : undefined);
      setDevices(res.devices);
    });
  };

  const doProbe = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const res: Probe = await camerasApi.probe({ host: host.trim(), port: Number(port),
        ...(username ? { username } : {}), ...(password ? { password } : {}) });
      setProbe(res);
      setMain(res.main_profile ?? res.profiles[0]?.token ?? '');
      setSub(res.sub_profile ?? '');
      setName(`${res.device.manufacturer} ${res.device.model}`.trim() || res.host);
    });
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!probe) return;
    void run(async () => {
      await camerasApi.create({ name: name.trim(), onvif_host: probe.host, onvif_port: probe.port,
        username: username || null, password: password || null, onvif_profile: main,
        ...(sub && sub !== main ? { onvif_sub_profile: sub } : {}) });
      onAdded();
    });
  };

  const pick = (d: DiscoveredDevice) => {
    setHost(d.host ?? '');
    setPort(String(d.port ?? 80));
    setProbe(null);
  };

  return (
    <Dialog title={t('onvif.title')} onClose={onClose} wide>
      <form className="row" onSubmit={discover}>
        <input value={target} onChange={(e) => setTarget(e.target.value)}
          placeholder={t('onvif.targetPlaceholder')} aria-label={t('onvif.target')} />
        <button type="submit" className="btn" disabled={busy}>{t('onvif.discover')}</button>
      </form>
      <p className="hint">{t('onvif.discoverHint')}</p>
      {devices && devices.length === 0 && <p className="muted">{t('onvif.noDevices')}</p>}
      {devices && devices.length > 0 && (
        <ul className="pick-list">
          {devices.map((d) => (
            <li key={d.endpoint_reference}>
              <button type="button" className="pick-item" onClick={() => pick(d)}
                disabled={d.registered}>
                <span className="grow">{d.name ?? d.address} {d.hardware ? `(${d.hardware})` : ''}</span>
                <span className="muted">{d.host}:{d.port}</span>
                {d.registered && <span className="tag">{t('onvif.registered')}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
      <h3 className="panel-subtitle">{t('onvif.probe')}</h3>
      <form className="form-grid" onSubmit={doProbe}>
        <label className="field"><span>{t('onvif.host')}</span>
          <input required value={host} onChange={(e) => setHost(e.target.value)} /></label>
        <label className="field"><span>{t('onvif.port')}</span>
          <input type="number" required min={1} max={65535} value={port}
            onChange={(e) => setPort(e.target.value)} /></label>
        <label className="field"><span>{t('cameras.username')}</span>
          <input autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} /></label>
        <label className="field"><span>{t('cameras.password')}</span>
          <input type="password" autoComplete="new-password" value={password}
            onChange={(e) => setPassword(e.target.value)} /></label>
        <div className="actions span2">
          <button type="submit" className="btn" disabled={busy}>{t('onvif.probe')}</button></div>
      </form>
      {probe && (
        <form className="form-grid" onSubmit={add}>
          <p className="span2">{probe.device.manufacturer} {probe.device.model} ·
            {' '}{t('onvif.firmware')} {probe.device.firmware_version}
            {probe.ptz.supported && <span className="tag">PTZ</span>}
            {probe.capabilities?.media2 && <span className="tag">{t('onvif.media2')}</span>}</p>
          {(probe.warnings ?? []).length > 0 && (
            <div className="notice warn span2" role="status" data-testid="onvif-warnings">
              <p>{t('onvif.warnings')}</p>
              <ul>{(probe.warnings ?? []).map((w) => <li key={w}>{w}</li>)}</ul>
            </div>
          )}
          <label className="field span2"><span>{t('cameras.name')}</span>
            <input required value={name} onChange={(e) => setName(e.target.value)} /></label>
          <label className="field"><span>{t('onvif.mainProfile')}</span>
            <select value={main} onChange={(e) => setMain(e.target.value)}>
              {probe.profiles.map((p) => <option key={p.token} value={p.token}>
                {p.name} {p.width}×{p.height} {p.encoding}</option>)}
            </select></label>
          <label className="field"><span>{t('onvif.subProfile')}</span>
            <select value={sub} onChange={(e) => setSub(e.target.value)}>
              <option value="">{t('common.none')}</option>
              {probe.profiles.map((p) => <option key={p.token} value={p.token}>
                {p.name} {p.width}×{p.height} {p.encoding}</option>)}
            </select></label>
          <div className="actions span2">
            <button type="submit" className="btn primary" disabled={busy || !main}>
              {t('onvif.add')}</button></div>
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </Dialog>
  );
}
