import { describe, expect, it } from 'vitest';
import { ApiClient } from '../src/api/client';
import { ApiError } from '../src/api/errors';
import { Pager, pageCapFrom } from '../src/api/paging';
import { camera, fakeManagement } from './support/fakeManagement';

async function setup(maxPage: number, count: number) {
  const server = fakeManagement({ maxPage });
  server.lists.set('/api/v1/cameras', Array.from({ length: count }, (_, i) => camera(i + 1)));
  const client = new ApiClient({ fetch: server.fetch, storage: null });
  await client.login('op', 'pw');
  return { server, pager: new Pager(client) };
}

const listCalls = (server: ReturnType<typeof fakeManagement>) =>
  server.requests.filter((r) => r.path === '/api/v1/cameras');

describe('Pager.all', () => {
  it('follows total past 500 with the default cap', async () => {
    const { server, pager } = await setup(500, 1200);
    const all = await pager.all<{ id: number }>('/api/v1/cameras');
    expect(all.map((c) => c.id)).toEqual(Array.from({ length: 1200 }, (_, i) => i + 1));
    expect(listCalls(server).map((r) => r.query.get('offset'))).toEqual(['0', '500', '1000']);
  });

  it('learns a smaller server cap from the 422 and uses it for every later list', async () => {
    const { server, pager } = await setup(150, 1200);
    const all = await pager.all<{ id: number }>('/api/v1/cameras');
    expect(new Set(all.map((c) => c.id)).size).toBe(1200);
    const calls = listCalls(server);
    // One refused request of 500, then 8 pages of 150.
    expect(calls.filter((r) => r.query.get('limit') === '500')).toHaveLength(1);
    expect(calls.filter((r) => r.query.get('limit') === '150')).toHaveLength(8);
    expect(pager.pageSize).toBe(150);
    server.requests.length = 0;
    await pager.all('/api/v1/cameras');
    expect(listCalls(server).every((r) => r.query.get('limit') === '150')).toBe(true);
  });

  it('makes one request for a short list and none past an empty one', async () => {
    const { server, pager } = await setup(500, 3);
    expect(await pager.all('/api/v1/cameras')).toHaveLength(3);
    expect(listCalls(server)).toHaveLength(1);
  });

  it('passes other errors through', async () => {
    const { server, pager } = await setup(500, 3);
    server.route((req) => (req.path === '/api/v1/cameras'
      ? new Response(JSON.stringify({ error: 'Forbidden', detail: 'no' }), { status: 403 })
      : undefined));
    await expect(pager.all('/api/v1/cameras')).rejects.toMatchObject({ status: 403 });
  });
});

describe('pageCapFrom', () => {
  it('reads the cap only from a 422 that names one', () => {
    expect(pageCapFrom(new ApiError(422, 'Unprocessable', 'limit must be at most 200'))).toBe(200);
    expect(pageCapFrom(new ApiError(422, 'Unprocessable', 'name: field required'))).toBeNull();
    expect(pageCapFrom(new ApiError(400, 'BadRequest', 'limit must be at most 200'))).toBeNull();
    expect(pageCapFrom(new Error('x'))).toBeNull();
  });
});
