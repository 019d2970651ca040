// The API client shared by both targets: tokens kept in storage and refreshed
// before they expire (one refresh at a time), problem+json errors turned into
// an ApiError whose field messages land on the form fields they name.
// Platform parts (how a request is sent, where tokens are kept) are passed in,
// so this file runs unchanged in the mini-program, the H5 and unit tests.

export interface HttpRequest {
  method: string
  url: string
  headers: Record<string, string>
  body?: unknown
}

export interface HttpResponse {
  status: number
  headers: Record<string, string | undefined>
  data: unknown
}

export type Transport = (req: HttpRequest) => Promise<HttpResponse>

export interface KeyValueStore {
  get(key: string): string | null | undefined
  set(key: string, value: string): void
  remove(key: string): void
}

export interface Tokens {
  access: string
  refresh: string
  /** ms since the epoch, by this device's clock */
  accessExpiresAt: number
  refreshExpiresAt: number
}

interface TokenPair {
  access_token: string
  refresh_token: string
  expires_in: number
  refresh_expires_in: number
}

export interface FieldProblem {
  field: string
  code: string
  message: string
}

/** A refusal by the server (problem+json) or a failure to reach it (status 0). */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  /** Field path (`quantity.amount`, `attributes.area_m2`, `admin.password`) → message. */
  readonly fields: Record<string, string>
  readonly problems: FieldProblem[]
  readonly retryAfter: number | null

  constructor(status: number, code: string, detail: string, problems: FieldProblem[] = [], retryAfter: number | null = null) {
    super(detail || code)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.detail = detail
    this.problems = problems
    this.retryAfter = retryAfter
    const fields: Record<string, string> = {}
    for (const p of problems) {
      // The first message per field is the one shown.
      if (!(p.field in fields)) fields[p.field] = p.message
    }
    this.fields = fields
  }

  /** What to show a person: the server's Chinese detail, or a fallback. */
  get userMessage(): string {
    if (this.status === 0) return '网络不可用，请检查网络后重试'
    if (this.status === 429) return this.detail || '操作太频繁，请稍后再试'
    if (this.status >= 500) return this.detail || '服务暂时不可用，请稍后再试'
    return this.detail || `请求失败（${this.code}）`
  }
}

/** Builds the ApiError for a non-2xx answer. */
export function problemFrom(res: HttpResponse): ApiError {
  const body = (typeof res.data === 'string' ? safeJson(res.data) : res.data) as Record<string, unknown> | null
  const code = typeof body?.code === 'string' ? body.code : `http_${res.status}`
  const detail = typeof body?.detail === 'string' ? body.detail : typeof body?.title === 'string' ? body.title : ''
  const problems: FieldProblem[] = Array.isArray(body?.errors)
    ? (body!.errors as unknown[]).flatMap((e) => {
        const o = e as Record<string, unknown>
        return typeof o?.field === 'string'
          ? [{ field: o.field, code: String(o.code ?? ''), message: String(o.message ?? '') }]
          : []
      })
    : []
  const ra = header(res.headers, 'retry-after')
  return new ApiError(res.status, code, detail, problems, ra && /^\d+$/.test(ra) ? parseInt(ra, 10) : null)
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s)
  } catch {
    return null
  }
}

function header(h: Record<string, string | undefined>, name: string): string | undefined {
  for (const k of Object.keys(h || {})) if (k.toLowerCase() === name) return h[k]
  return undefined
}

export type SignedOutReason = 'signed_out' | 'expired'

export interface ApiClientOptions {
  /** '' for the same origin (H5), or `https://park.example` (mini-program). */
  base: string
  transport: Transport
  store: KeyValueStore
  now?: () => number
  /** Called once when the session is gone (refresh token refused or expired). */
  onSignedOut?: (reason: SignedOutReason) => void
  /** Refresh this long before the access token expires (ms). */
  refreshMarginMs?: number
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | null | undefined>
  body?: unknown
  /** Send without the access token (sign-in, registration, communities). */
  anonymous?: boolean
  /** Send an Idempotency-Key (POSTs that create something). */
  idempotent?: boolean
  headers?: Record<string, string>
}

const TOKENS_KEY = 'zql.tokens'

let keyCounter = 0
/** A unique enough id for Idempotency-Key and client_msg_id. */
export function uniqueId(prefix: string): string {
  keyCounter = (keyCounter + 1) % 1e6
  const rand = Math.floor(Math.random() * 36 ** 6).toString(36)
  return `${prefix}-${Date.now().toString(36)}-${keyCounter.toString(36)}-${rand}`
}

export class ApiClient {
  readonly base: string
  private readonly transport: Transport
  private readonly store: KeyValueStore
  private readonly now: () => number
  private readonly margin: number
  private onSignedOut?: (reason: SignedOutReason) => void
  private refreshing: Promise<Tokens> | null = null
  private cached: Tokens | null | undefined

  constructor(o: ApiClientOptions) {
    this.base = o.base.replace(/\/$/, '')
    this.transport = o.transport
    this.store = o.store
    this.now = o.now ?? (() => Date.now())
    this.onSignedOut = o.onSignedOut
    this.margin = o.refreshMarginMs ?? 60_000
  }

  setSignedOutHandler(fn: (reason: SignedOutReason) => void): void {
    this.onSignedOut = fn
  }

  tokens(): Tokens | null {
    if (this.cached === undefined) {
      const raw = this.store.get(TOKENS_KEY)
      const t = raw ? (safeJson(raw) as Tokens | null) : null
      this.cached = t && typeof t.access === 'string' && typeof t.refresh === 'string' ? t : null
    }
    return this.cached
  }

  /** A session that can still be refreshed. */
  signedIn(): boolean {
    const t = this.tokens()
    return !!t && t.refreshExpiresAt > this.now()
  }

  private save(pair: TokenPair): Tokens {
    const at = this.now()
    const t: Tokens = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      accessExpiresAt: at + pair.expires_in * 1000,
      refreshExpiresAt: at + pair.refresh_expires_in * 1000,
    }
    this.cached = t
    this.store.set(TOKENS_KEY, JSON.stringify(t))
    return t
  }

  private clear(reason: SignedOutReason | null): void {
    const had = this.tokens() !== null
    this.cached = null
    this.store.remove(TOKENS_KEY)
    if (had && reason) this.onSignedOut?.(reason)
  }

  url(path: string, query?: RequestOptions['query']): string {
    const q = query
      ? Object.entries(query)
          .filter(([, v]) => v !== undefined && v !== null && v !== '')
          .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
          .join('&')
      : ''
    return `${this.base}${path}${q ? `?${q}` : ''}`
  }

  async login(login: string, password: string): Promise<void> {
    const pair = await this.send<TokenPair>('POST', '/api/v1/auth/login', { body: { login, password }, anonymous: true })
    this.save(pair)
  }

  /**
   * Mini-program sign-in with a wx.login() code. With `bind`, the code is sent
   * with the current access token, which binds this WeChat to the account.
   * An unbound WeChat answers 403 `wechat_binding_required`.
   */
  async wechatLogin(code: string, bind = false): Promise<void> {
    const pair = bind
      ? await this.send<TokenPair>('POST', '/api/v1/auth/wechat', { body: { code } })
      : await this.send<TokenPair>('POST', '/api/v1/auth/wechat', { body: { code }, anonymous: true })
    this.save(pair)
  }

  async logout(): Promise<void> {
    const t = this.tokens()
    this.clear(null)
    if (t) {
      try {
        await this.send('POST', '/api/v1/auth/logout', { body: { refresh_token: t.refresh }, anonymous: true })
      } catch {
        // Signed out here either way; the server forgets the token when it expires.
      }
    }
  }

  /** A usable access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    const t = this.tokens()
    if (!t) throw new ApiError(401, 'not_signed_in', '请先登录')
    if (t.accessExpiresAt - this.margin > this.now()) return t.access
    return (await this.refresh()).access
  }

  /** Exchanges the refresh token (rotation); concurrent callers share one exchange. */
  refresh(): Promise<Tokens> {
    if (!this.refreshing) {
      this.refreshing = this.doRefresh().finally(() => {
        this.refreshing = null
      })
    }
    return this.refreshing
  }

  private async doRefresh(): Promise<Tokens> {
    const t = this.tokens()
    if (!t || t.refreshExpiresAt <= this.now()) {
      this.clear('expired')
      throw new ApiError(401, 'session_expired', '登录已过期，请重新登录')
    }
    try {
      const pair = await this.send<TokenPair>('POST', '/api/v1/auth/refresh', {
        body: { refresh_token: t.refresh },
        anonymous: true,
      })
      return this.save(pair)
    } catch (e) {
      // Refused (used, revoked, expired): the session is over. A network
      // failure keeps the tokens for the next try.
      if (e instanceof ApiError && (e.status === 401 || e.status === 422 || e.status === 400)) {
        this.clear('expired')
        throw new ApiError(401, 'session_expired', '登录已过期，请重新登录')
      }
      throw e
    }
  }

  async request<T = unknown>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const opts = o.idempotent ? { ...o, headers: { ...o.headers, 'Idempotency-Key': uniqueId('idem') } } : o
    if (opts.anonymous) return this.send<T>(method, path, opts)
    const token = await this.accessToken()
    try {
      return await this.send<T>(method, path, opts, token)
    } catch (e) {
      // The token was refused although it looked fresh (revoked, clock skew):
      // refresh once and retry with the same Idempotency-Key.
      if (e instanceof ApiError && e.status === 401 && e.code !== 'invalid_credentials') {
        const fresh = await this.refresh()
        return this.send<T>(method, path, opts, fresh.access)
      }
      throw e
    }
  }

  get<T = unknown>(path: string, query?: RequestOptions['query']): Promise<T> {
    return this.request<T>('GET', path, { query })
  }

  post<T = unknown>(path: string, body?: unknown, o: Omit<RequestOptions, 'body'> = {}): Promise<T> {
    return this.request<T>('POST', path, { ...o, body: body ?? {} })
  }

  patch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { body })
  }

  private async send<T>(method: string, path: string, o: RequestOptions, token?: string): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...o.headers }
    if (o.body !== undefined) headers['Content-Type'] = 'application/json'
    if (token) headers.Authorization = `Bearer ${token}`
    let res: HttpResponse
    try {
      res = await this.transport({ method, url: this.url(path, o.query), headers, body: o.body })
    } catch (e) {
      throw new ApiError(0, 'network_error', e instanceof Error ? e.message : String(e))
    }
    if (res.status >= 200 && res.status < 300) {
      return (typeof res.data === 'string' && res.data !== '' ? safeJson(res.data) ?? res.data : res.data) as T
    }
    throw problemFrom(res)
  }
}
