/**
 * Whole lists from management's paged endpoints (`{items, total, limit, offset}`).
 *
 * Management caps `limit` at MANAGEMENT_MAX_PAGE_SIZE (500 by default) and answers 422
 * "limit must be at most N" above it. The console asks for 500, learns a smaller cap from
 * that answer once, and then follows `total` page by page, so a site with more cameras than
 * one page still sees every one of them.
 */

import type { ApiClient } from './client';
import { ApiError } from './errors';
import type { Page } from './types';

type Query = Record<string, string | number | boolean | null | undefined>;

/** The page size asked for first: management's default maximum. */
export const DEFAULT_PAGE = 500;
/** Pages fetched at the same time after the first one. */
const CONCURRENCY = 4;
/** A bound on the loop whatever `total` says (500 pages of 500 = 250,000 rows). */
const MAX_PAGES = 500;

/** The cap a 422 names ("limit must be at most 200"), or null for any other error. */
export function pageCapFrom(err: unknown): number | null {
  if (!(err instanceof ApiError) || err.status !== 422) return null;
  const m = /at most (\d+)/.exec(err.detail);
  const cap = m ? Number(m[1]) : NaN;
  return Number.isInteger(cap) && cap >= 1 ? cap : null;
}

export class Pager {
  /** The page size that the server accepted last (shared by every list of this client). */
  private size = DEFAULT_PAGE;

  constructor(private readonly client: ApiClient) {}

  get pageSize(): number {
    return this.size;
  }

  /** One page; a 422 naming a smaller cap is retried once with that cap. */
  async page<T>(path: string, offset: number, query: Query = {},
    signal?: AbortSignal): Promise<Page<T>> {
    const ask = (limit: number) => this.client.get<Page<T>>(path,
      { ...query, limit, offset }, signal);
    try {
      return await ask(this.size);
    } catch (err) {
      const cap = pageCapFrom(err);
      if (cap === null || cap >= this.size) throw err;
      this.size = cap;
      return ask(cap);
    }
  }

  /** Every item of a paged list, following `total`. */
  async all<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T[]> {
    const first = await this.page<T>(path, 0, query, signal);
    const items = [...first.items];
    const step = first.limit > 0 ? Math.min(first.limit, this.size) : this.size;
    if (first.items.length === 0 || first.total <= items.length) return items;
    const offsets: number[] = [];
    for (let off = items.length; off < first.total && offsets.length < MAX_PAGES; off += step) {
      offsets.push(off);
    }
    const pages: T[][] = new Array<T[]>(offsets.length);
    let next = 0;
    const worker = async () => {
      while (next < offsets.length) {
        const i = next++;
        pages[i] = (await this.page<T>(path, offsets[i] ?? 0, query, signal)).items;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, offsets.length) }, worker));
    for (const p of pages) items.push(...p);
    return items;
  }
}
