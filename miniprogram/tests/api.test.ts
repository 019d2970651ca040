import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, HttpRequest, HttpResponse, KeyValueStore } from '../src/lib/api'

function memoryStore(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>()
  return { data, get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) }
}

function pair(n: number, expires = 900) {
  return { access_token: `A${n}`, token_type: 'Bearer', expires_in: expires, refresh_token: `R${n}`, refresh_expires_in: 86400 }
}

/** A fake server: routes by "METHOD path" to a handler; records every request. */
function fakeServer(routes: Record<string, (req: HttpRequest) => HttpResponse | Promise<HttpResponse>>) {
  const seen: HttpRequest[] = []
  const transport = vi.fn(async (req: HttpRequest) => {
    seen.push(req)
    const path = req.url.replace(/^https?:\/\/[^/]+/, '').split('?')[0]
    const h = routes[`${req.method} ${path}`]
    if (!h) return { status: 404, headers: {}, data: { code: 'route_not_found' } }
    return h(req)
  })
  return { seen, transport }
}

const ok = (data: unknown, status = 200): HttpResponse => ({ status, headers: {}, data })

describe('ApiClient tokens', () => {
  it('signs in, sends the bearer token and keeps tokens in storage', async () => {
    const store = memoryStore()
    let now = 1_000_000
    const { seen, transport } = fakeServer({
      'POST /api/v1/auth/login': () => ok(pair(1)),
      'GET /api/v1/me': () => ok({ user: { id: 'u1' } }),
    })
    const api = new ApiClient({ base: 'https://park.example/', transport, store, now: () => now })
    await api.login('13800000001', 'pw')
    expect(await api.get('/api/v1/me')).toEqual({ user: { id: 'u1' } })
    expect(seen[1].url).toBe('https://park.example/api/v1/me')
    expect(seen[1].headers.Authorization).toBe('Bearer A1')
    expect(seen[0].headers.Authorization).toBeUndefined()
    // A new client on the same storage (the app restarted) is still signed in.
    const again = new ApiClient({ base: '', transport, store, now: () => now })
    expect(again.signedIn()).toBe(true)
    expect(again.tokens()!.access).toBe('A1')
    now += 0
  })

  it('refreshes before the access token expires, once for concurrent requests', async () => {
    const store = memoryStore()
    let now = 0
    let n = 1
    const { seen, transport } = fakeServer({
      'POST /api/v1/auth/login': () => ok(pair(1)),
      'POST /api/v1/auth/refresh': (req) => {
        expect((req.body as { refresh_token: string }).refresh_token).toBe(`R${n}`)
        n += 1
        return ok(pair(n))
      },
      'GET /api/v1/threads': () => ok({ items: [] }),
    })
    const api = new ApiClient({ base: '', transport, store, now: () => now })
    await api.login('a', 'b')
    now = 800_000 // 100 s before expiry: still fine with a 60 s margin
    await api.get('/api/v1/threads')
    expect(seen.filter((r) => r.url.endsWith('/refresh'))).toHaveLength(0)
    now = 850_000 // 50 s left: refresh first
    await Promise.all([api.get('/api/v1/threads'), api.get('/api/v1/threads'), api.get('/api/v1/threads')])
    expect(seen.filter((r) => r.url.endsWith('/refresh'))).toHaveLength(1)
    expect(seen.at(-1)!.headers.Authorization).toBe('Bearer A2')
    expect(JSON.parse(store.data.get('zql.tokens')!).refresh).toBe('R2')
  })

  it('retries once with a fresh token when a token is refused, keeping the Idempotency-Key', async () => {
    const store = memoryStore()
    let calls = 0
    const { seen, transport } = fakeServer({
      'POST /api/v1/auth/login': () => ok(pair(1)),
      'POST /api/v1/auth/refresh': () => ok(pair(2)),
      'POST /api/v1/listings': (req) => {
        calls++
        return req.headers.Authorization === 'Bearer A1'
          ? { status: 401, headers: {}, data: { code: 'invalid_token', detail: '令牌无效' } }
          : ok({ id: 'l1' }, 201)
      },
    })
    const api = new ApiClient({ base: '', transport, store })
    await api.login('a', 'b')
    expect(await api.post('/api/v1/listings', { title: 'x' }, { idempotent: true })).toEqual({ id: 'l1' })
    expect(calls).toBe(2)
    const posts = seen.filter((r) => r.url.endsWith('/listings'))
    expect(posts[0].headers['Idempotency-Key']).toMatch(/^idem-/)
    expect(posts[1].headers['Idempotency-Key']).toBe(posts[0].headers['Idempotency-Key'])
  })

  it('signs out, once, when the refresh token is refused', async () => {
    const store = memoryStore()
    let now = 0
    const signedOut = vi.fn()
    const { transport } = fakeServer({
      'POST /api/v1/auth/login': () => ok(pair(1)),
      'POST /api/v1/auth/refresh': () => ({
        status: 401,
        headers: {},
        data: { type: 'x', title: 'x', status: 401, code: 'refresh_token_reused', detail: '登录凭证已被使用' },
      }),
    })
    const api = new ApiClient({ base: '', transport, store, now: () => now, onSignedOut: signedOut })
    await api.login('a', 'b')
    now = 899_000
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ status: 401, code: 'session_expired' })
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ code: 'not_signed_in' })
    expect(signedOut).toHaveBeenCalledTimes(1)
    expect(signedOut).toHaveBeenCalledWith('expired')
    expect(store.data.has('zql.tokens')).toBe(false)
    expect(api.signedIn()).toBe(false)
  })

  it('keeps the session when the refresh fails for lack of network', async () => {
    const store = memoryStore()
    let now = 0
    let offline = false
    const transport = vi.fn(async (req: HttpRequest) => {
      if (offline) throw new Error('request:fail timeout')
      return req.url.endsWith('/login') ? ok(pair(1)) : ok({})
    })
    const api = new ApiClient({ base: '', transport, store, now: () => now })
    await api.login('a', 'b')
    now = 899_000
    offline = true
    await expect(api.get('/api/v1/me')).rejects.toMatchObject({ status: 0, code: 'network_error' })
    expect(api.signedIn()).toBe(true)
  })
})

describe('problem+json errors', () => {
  it('maps 422 field errors to their fields', async () => {
    const { transport } = fakeServer({
      'POST /api/v1/firms/register': () => ({
        status: 422,
        headers: { 'Content-Type': 'application/problem+json' },
        data: JSON.stringify({
          type: 'urn:zhiqilian:problem:validation_failed',
          title: 'Validation failed',
          status: 422,
          code: 'validation_failed',
          detail: '请求有 2 处错误',
          errors: [
            { field: 'uscc', code: 'invalid_check_character', message: '统一社会信用代码校验位不符：应为“B”，实际为“C”' },
            { field: 'admin.password', code: 'weak_password', message: '密码太弱' },
            { field: 'uscc', code: 'other', message: '第二条' },
          ],
        }),
      }),
    })
    const api = new ApiClient({ base: '', transport, store: memoryStore() })
    const err = (await api.request('POST', '/api/v1/firms/register', { body: {}, anonymous: true }).catch((e) => e)) as ApiError
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(422)
    expect(err.code).toBe('validation_failed')
    expect(err.fields).toEqual({ uscc: '统一社会信用代码校验位不符：应为“B”，实际为“C”', 'admin.password': '密码太弱' })
    expect(err.problems).toHaveLength(3)
    expect(err.userMessage).toBe('请求有 2 处错误')
  })

  it('reads Retry-After and falls back to a code for bodies that are not problems', async () => {
    const { transport } = fakeServer({
      'POST /api/v1/auth/login': () => ({ status: 429, headers: { 'Retry-After': '30' }, data: { code: 'too_many_requests', detail: '请稍后再试' } }),
      'GET /api/v1/communities': () => ({ status: 502, headers: {}, data: '<html>bad gateway</html>' }),
    })
    const api = new ApiClient({ base: '', transport, store: memoryStore() })
    const tooMany = (await api.login('a', 'b').catch((e) => e)) as ApiError
    expect([tooMany.status, tooMany.code, tooMany.retryAfter]).toEqual([429, 'too_many_requests', 30])
    const bad = (await api.request('GET', '/api/v1/communities', { anonymous: true }).catch((e) => e)) as ApiError
    expect([bad.status, bad.code]).toEqual([502, 'http_502'])
    expect(bad.userMessage).toBe('服务暂时不可用，请稍后再试')
  })
})
