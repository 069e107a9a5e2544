/**
 * A render error stays inside the part that threw: a route shows a panel with Retry instead
 * of blanking the console, and a video tile shows a small card while the other tiles keep
 * playing. A tile on an unattended wall also retries by itself after `autoRetryMs`.
 */

import { Component, useEffect, type ErrorInfo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { errorMessage } from '../api/errors';

interface BoundaryProps {
  children: ReactNode;
  /** `page`: a route's panel; `tile`: a card the size of a grid cell. */
  variant?: 'page' | 'tile';
  /** A new value clears the error (the route's path, the tile's camera). */
  resetKey?: unknown;
  /** Retry by itself this long after an error (tiles on a wall). */
  autoRetryMs?: number;
  /** Shown on the tile card (the camera's name). */
  label?: string;
}

interface BoundaryState {
  error: unknown;
  failedKey: unknown;
}

export class ErrorBoundary extends Component<BoundaryProps, BoundaryState> {
  override state: BoundaryState = { error: null, failedKey: undefined };

  static getDerivedStateFromError(error: unknown): Partial<BoundaryState> {
    return { error: error ?? new Error('render error') };
  }

  static getDerivedStateFromProps(props: BoundaryProps, state: BoundaryState)
    : Partial<BoundaryState> | null {
    // A new route or camera starts clean; the key that failed is remembered on the first
    // derive after the error.
    if (state.error === null) return { failedKey: props.resetKey };
    if (props.resetKey !== state.failedKey) return { error: null, failedKey: props.resetKey };
    return null;
  }

  override componentDidCatch(error: unknown, info: ErrorInfo): void {
    // The browser console is where an operator's support contact looks first.
    console.error('console: render error', error, info.componentStack);
  }

  private readonly retry = () => this.setState({ error: null });

  override render(): ReactNode {
    if (this.state.error === null) return this.props.children;
    return <ErrorPanel error={this.state.error} variant={this.props.variant ?? 'page'}
      label={this.props.label} autoRetryMs={this.props.autoRetryMs} onRetry={this.retry} />;
  }
}

interface PanelProps {
  error: unknown;
  variant: 'page' | 'tile';
  label: string | undefined;
  autoRetryMs: number | undefined;
  onRetry(): void;
}

function ErrorPanel({ error, variant, label, autoRetryMs, onRetry }: PanelProps) {
  const { t } = useTranslation();
  useEffect(() => {
    if (!autoRetryMs) return undefined;
    const timer = setTimeout(onRetry, autoRetryMs);
    return () => clearTimeout(timer);
  }, [autoRetryMs, onRetry]);
  if (variant === 'tile') {
    return (
      <div className="tile tile-error" role="alert" data-error-boundary="tile">
        <strong>{label ?? t('errors.tileTitle')}</strong>
        <span className="muted small">{t('errors.tileFailed')}</span>
        <button type="button" className="btn small" onClick={onRetry}>{t('errors.retry')}</button>
      </div>
    );
  }
  return (
    <div className="page error-page" role="alert" data-error-boundary="page">
      <h1>{t('errors.pageTitle')}</h1>
      <p>{t('errors.pageFailed')}</p>
      <p className="muted small mono">{errorMessage(error)}</p>
      <button type="button" className="btn primary" onClick={onRetry}>{t('errors.retry')}</button>
    </div>
  );
}
