/** Errors of every ARGUS service share one envelope: {"error": "<Class>", "detail": "..."}. */

export class ApiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly detail: string;
  /** Seconds, from a Retry-After header (429 lockout, rate limits). */
  readonly retryAfter: number | null;

  constructor(status: number, error: string, detail: string, retryAfter: number | null = null) {
    super(`${status} ${error}: ${detail}`);
    this.name = 'ApiError';
    this.status = status;
    this.error = error;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** A request that never got an answer (server down, network gone, aborted). */
export class NetworkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkError';
  }
}

function detailText(detail: unknown): string {
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    // FastAPI-style validation lists, in case a service answers with one.
    return detail
      .map((d) => (d && typeof d === 'object' && 'msg' in d ? String(d.msg) : String(d)))
      .join('; ');
  }
  return detail == null ? '' : JSON.stringify(detail);
}

/** Build an ApiError from a failed response, whatever its body holds. */
export async function errorFromResponse(resp: Response): Promise<ApiError> {
  const retry = resp.headers.get('Retry-After');
  const retryAfter = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
  let error = resp.statusText || 'Error';
  let detail = '';
  const text = await resp.text().catch(() => '');
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === 'object') {
      const b = body as Record<string, unknown>;
      if (typeof b.error === 'string') error = b.error;
      detail = detailText(b.detail);
    }
  } catch {
    detail = text.slice(0, 300);
  }
  return new ApiError(resp.status, error, detail, retryAfter);
}

/** A message an operator can read, for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.detail || `${err.status} ${err.error}`;
  if (err instanceof Error) return err.message;
  return String(err);
}
