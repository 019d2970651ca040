// The HTTP client: bearer tokens with single-flight refresh (refresh tokens
// rotate, so two concurrent refreshes would revoke the sign-in), and one
// error type built from the service's problem+json answers.

const STORE_KEY = 'zql.console.session';

/** An API failure: `code` and `detail` come from the problem+json body. */
export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem?.detail || problem?.title || `请求失败（${status}）`;
    super(detail);
    this.status = status;
    this.code = problem?.code || 'network';
    this.detail = detail;
    this.errors = Array.isArray(problem?.errors) ? problem.errors : [];
  }

  /** What to show a person: the detail plus each field error's message. */
  describe() {
    if (!this.errors.length) return this.detail;
    return `${this.detail}：${this.errors.map((e) => e.message || e.field).join('；')}`;
  }
}

export function errorText(err) {
  if (err instanceof ApiError) return err.describe();
  return err?.message || String(err);
}

async function problemOf(resp) {
  const type = resp.headers.get('content-type') || '';
  if (type.includes('json')) {
    try {
      return await resp.json();
    } catch {
      /* fall through */
    }
  }
  return { title: resp.statusText };
}

class Api {
  constructor() {
    this.session = null; // {access, refresh, expiresAt}
    this.refreshing = null;
    this.timer = null;
    this.onSignedOut = () => {};
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null');
      if (saved?.refresh) {
        this.session = saved;
        this.schedule();
      }
    } catch {
      sessionStorage.removeItem(STORE_KEY);
    }
  }

  get signedIn() {
    return !!this.session;
  }

  save(pair) {
    this.session = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      expiresAt: Date.now() + pair.expires_in * 1000,
    };
    sessionStorage.setItem(STORE_KEY, JSON.stringify(this.session));
    this.schedule();
  }

  /** Refresh a little before the access token runs out. */
  schedule() {
    clearTimeout(this.timer);
    if (!this.session) return;
    const left = this.session.expiresAt - Date.now();
    const wait = Math.max(5_000, left * 0.8);
    this.timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  clear() {
    clearTimeout(this.timer);
    this.session = null;
    sessionStorage.removeItem(STORE_KEY);
  }

  async login(login, password) {
    const resp = await fetch('/api/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login, password }),
    });
    if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
    this.save(await resp.json());
  }

  async logout() {
    const refresh = this.session?.refresh;
    this.clear();
    if (refresh) {
      await fetch('/api/v1/auth/logout', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: refresh }),
      }).catch(() => {});
    }
  }

  /** Rotates the refresh token; concurrent callers share one request. */
  refresh() {
    if (this.refreshing) return this.refreshing;
    const refresh = this.session?.refresh;
    if (!refresh) return Promise.reject(new ApiError(401, { code: 'unauthenticated', detail: '请先登录' }));
    this.refreshing = (async () => {
      try {
        const resp = await fetch('/api/v1/auth/refresh', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: refresh }),
        });
        if (resp.status === 401) {
          const problem = await problemOf(resp);
          this.clear();
          this.onSignedOut(problem?.detail || '登录已失效，请重新登录');
          throw new ApiError(401, problem);
        }
        if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
        this.save(await resp.json());
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  /** A usable access token, refreshed first when it is about to expire. */
  async token() {
    if (!this.session) throw new ApiError(401, { code: 'unauthenticated', detail: '请先登录' });
    if (this.session.expiresAt - Date.now() < 15_000) await this.refresh();
    return this.session.access;
  }

  url(path, query) {
    if (!query) return path;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '' && v !== false) params.set(k, String(v));
    }
    const s = params.toString();
    return s ? `${path}?${s}` : path;
  }

  /** Sends a request; answers the raw Response (for CSV) or throws ApiError. */
  async fetchRaw(method, path, { body, query, accept } = {}, retried = false) {
    const headers = { authorization: `Bearer ${await this.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (accept) headers.accept = accept;
    let resp;
    try {
      resp = await fetch(this.url(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new ApiError(0, { code: 'network', detail: `无法连接服务器：${e.message}` });
    }
    if (resp.status === 401 && !retried && this.session) {
      await this.refresh();
      return this.fetchRaw(method, path, { body, query, accept }, true);
    }
    if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
    return resp;
  }

  /**
   * Sends a file as the request body (its own media type; a file whose
   * type the browser does not know is sent as application/octet-stream).
   */
  async upload(path, file, query, retried = false) {
    const headers = {
      authorization: `Bearer ${await this.token()}`,
      'content-type': file.type || 'application/octet-stream',
    };
    let resp;
    try {
      resp = await fetch(this.url(path, query), { method: 'POST', headers, body: file });
    } catch (e) {
      throw new ApiError(0, { code: 'network', detail: `无法连接服务器：${e.message}` });
    }
    if (resp.status === 401 && !retried && this.session) {
      await this.refresh();
      return this.upload(path, file, query, true);
    }
    if (!resp.ok) throw new ApiError(resp.status, await problemOf(resp));
    return resp.json();
  }

  async request(method, path, opts = {}) {
    const resp = await this.fetchRaw(method, path, opts);
    if (resp.status === 204) return null;
    const text = await resp.text();
    return text ? JSON.parse(text) : null;
  }

  get(path, query) {
    return this.request('GET', path, { query });
  }

  post(path, body = {}) {
    return this.request('POST', path, { body });
  }

  patch(path, body) {
    return this.request('PATCH', path, { body });
  }
}

export const api = new Api();
