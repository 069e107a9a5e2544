/**
 * Where the console keeps its tokens.
 *
 * - The access token (short-lived, 15 min by default) lives in memory only.
 * - The refresh token lives in memory and in sessionStorage: a reload of the tab keeps the
 *   session, closing the tab ends it, and other tabs or windows never see it. localStorage
 *   would outlive the browser session and is shared by every tab of the origin, which would
 *   make refresh-token rotation race between tabs (a reused refresh token revokes the whole
 *   session on the server).
 * Nothing else that is secret is ever written to browser storage.
 */

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const REFRESH_KEY = 'argus.refresh';

export interface TokenSet {
  accessToken: string;
  /** Epoch ms at which the access token expires. */
  accessExpiresAt: number;
  refreshToken: string;
}

export class TokenStore {
  private tokens: TokenSet | null = null;

  constructor(private readonly storage: StorageLike | null) {}

  get current(): TokenSet | null {
    return this.tokens;
  }

  /** The refresh token left by an earlier page of this tab, if any. */
  storedRefreshToken(): string | null {
    return this.tokens?.refreshToken ?? this.storage?.getItem(REFRESH_KEY) ?? null;
  }

  set(tokens: TokenSet): void {
    this.tokens = tokens;
    this.storage?.setItem(REFRESH_KEY, tokens.refreshToken);
  }

  clear(): void {
    this.tokens = null;
    this.storage?.removeItem(REFRESH_KEY);
  }
}

/** sessionStorage when the page has one (tests and old browsers may not). */
export function defaultStorage(): StorageLike | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}
