import { ApiClient, ApiError, withQuery } from './client';

function reply(status: number, body: unknown, headers: Record<string, string> = {}) {
  return async () => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

describe('ApiClient', () => {
  it('sends the bearer token and returns the JSON body', async () => {
    const fetchImpl = vi.fn<(input: RequestInfo | URL, init?: RequestInit) => Promise<Response>>(reply(200, { success: true, data: { x: 1 } }));
    const c = new ApiClient({ getToken: () => 'abc', onUnauthorized: vi.fn(), fetchImpl });
    await expect(c.get('/api/v1/x')).resolves.toEqual({ success: true, data: { x: 1 } });
    const init = fetchImpl.mock.calls[0]![1]!;
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer abc');
  });

  it('turns the error envelope into an ApiError with code and message', async () => {
    const c = new ApiClient({
      getToken: () => 't',
      onUnauthorized: vi.fn(),
      fetchImpl: reply(403, { success: false, error: { code: 'forbidden', message: 'an org_admin sees their own organization only' } }),
    });
    const err = await c.get('/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 403, code: 'forbidden', message: 'an org_admin sees their own organization only' });
  });

  it('reads Retry-After on 429', async () => {
    const c = new ApiClient({
      getToken: () => null,
      onUnauthorized: vi.fn(),
      fetchImpl: reply(429, { success: false, error: { code: 'too_many_attempts', message: 'wait' } }, { 'Retry-After': '42' }),
    });
    await expect(c.request('POST', '/login', {}, false)).rejects.toMatchObject({ status: 429, retryAfterSec: 42 });
  });

  it('reports a 401 on an authenticated call, not on the login call', async () => {
    const onUnauthorized = vi.fn();
    const c = new ApiClient({ getToken: () => 't', onUnauthorized, fetchImpl: reply(401, { success: false, error: { code: 'unauthorized', message: 'no' } }) });
    await expect(c.request('POST', '/login', {}, false)).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).not.toHaveBeenCalled();
    await expect(c.get('/x')).rejects.toMatchObject({ status: 401 });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('says the controller is unreachable on a network failure', async () => {
    const c = new ApiClient({ getToken: () => 't', onUnauthorized: vi.fn(), fetchImpl: () => Promise.reject(new TypeError('Failed to fetch')) });
    await expect(c.get('/x')).rejects.toMatchObject({ status: 0, code: 'network' });
  });

  it('builds query strings without empty values', () => {
    expect(withQuery('/a', { page: 2, status: '', search: 'x y', org: undefined })).toBe('/a?page=2&search=x+y');
    expect(withQuery('/a', {})).toBe('/a');
  });
});
