import { describe, expect, it } from 'vitest'
import { ApiClient, HttpRequest, KeyValueStore } from '../src/lib/api'
import {
  ChunkedRequestOptions,
  EventClient,
  EventSourceLike,
  chunkedTransport,
  eventSourceTransport,
  idAfter,
} from '../src/lib/events'

function signedInApi(): ApiClient {
  const data = new Map<string, string>()
  const store: KeyValueStore = { get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) }
  let ticket = 0
  const transport = async (req: HttpRequest) => {
    if (req.url.endsWith('/auth/login'))
      return { status: 200, headers: {}, data: { access_token: 'A', refresh_token: 'R', expires_in: 900, refresh_expires_in: 9000 } }
    if (req.url.endsWith('/events/ticket')) return { status: 200, headers: {}, data: { ticket: `T${++ticket}`, expires_in: 60 } }
    return { status: 404, headers: {}, data: {} }
  }
  const api = new ApiClient({ base: 'https://park.example', transport, store })
  return api
}

/** Manual timers: run what is due when told. */
function timers() {
  const q: { fn: () => void; ms: number }[] = []
  return {
    q,
    set: (fn: () => void, ms: number) => {
      q.push({ fn, ms })
      return q.length
    },
    clear: () => {},
    async runNext() {
      const t = q.shift()
      t?.fn()
      await flush()
      return t?.ms
    },
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0))

/** A fake wx.request({enableChunked}) whose connections the test drives. */
function fakeWx() {
  const conns: (ChunkedRequestOptions & { aborted: boolean })[] = []
  const request = (o: ChunkedRequestOptions) => {
    const c = { ...o, aborted: false }
    conns.push(c)
    return () => {
      c.aborted = true
    }
  }
  return { conns, request }
}

const enc = (s: string) => new TextEncoder().encode(s).buffer

describe('EventClient over chunked requests (mini-program)', () => {
  it('delivers events cut anywhere and resumes with Last-Event-ID after a drop', async () => {
    const api = signedInApi()
    await api.login('a', 'b')
    const wx = fakeWx()
    const t = timers()
    const client = new EventClient(chunkedTransport(api, wx.request), { setTimer: t.set, clearTimer: t.clear })
    const got: unknown[] = []
    const states: string[] = []
    client.on('message.created', (d) => got.push(d))
    client.onState((s) => states.push(s))
    client.start()
    await flush()
    expect(wx.conns).toHaveLength(1)
    const c1 = wx.conns[0]
    expect(c1.url).toBe('https://park.example/api/v1/events')
    expect(c1.headers.Authorization).toBe('Bearer A')
    expect(c1.headers['Last-Event-ID']).toBeUndefined()
    c1.onHeaders(200)
    const text = 'retry: 2500\nid: 10\nevent: ready\ndata: {}\n\n: ping\n\nid: 11\nevent: message.created\ndata: {"seq":1,"text":"到了吗"}\n\n'
    const bytes = new Uint8Array(enc(text))
    for (let i = 0; i < bytes.length; i += 3) c1.onChunk(bytes.slice(i, i + 3))
    expect(got).toEqual([{ seq: 1, text: '到了吗' }])
    expect(client.state).toBe('open')
    // The network drops: the client waits as the server asked, then resumes.
    c1.onDone('request:fail')
    expect(client.state).toBe('connecting')
    expect(await t.runNext()).toBe(2500)
    expect(wx.conns).toHaveLength(2)
    const c2 = wx.conns[1]
    expect(c2.headers['Last-Event-ID']).toBe('11')
    c2.onHeaders(200)
    // A replayed event (same id) is not delivered twice.
    c2.onChunk(enc('id: 11\nevent: ready\ndata: {}\n\nid: 11\nevent: message.created\ndata: {"seq":1}\n\nid: 12\nevent: message.created\ndata: {"seq":2}\n\n'))
    expect(got).toEqual([{ seq: 1, text: '到了吗' }, { seq: 2 }])
    expect(states).toEqual(['connecting', 'open', 'connecting', 'open'])
    client.stop()
    expect(c2.aborted).toBe(true)
  })

  it('reopens at once when the stream says its credential expired', async () => {
    const api = signedInApi()
    await api.login('a', 'b')
    const wx = fakeWx()
    const t = timers()
    const client = new EventClient(chunkedTransport(api, wx.request), { setTimer: t.set, clearTimer: t.clear })
    client.start()
    await flush()
    wx.conns[0].onHeaders(200)
    wx.conns[0].onChunk(enc('id: 5\nevent: ready\ndata: {}\n\nevent: expired\ndata: {}\n\n'))
    expect(wx.conns[0].aborted).toBe(true)
    expect(await t.runNext()).toBe(0)
    expect(wx.conns[1].headers['Last-Event-ID']).toBe('5')
  })

  it('backs off (doubling) when refused without a retry hint', async () => {
    const api = signedInApi()
    await api.login('a', 'b')
    const wx = fakeWx()
    const t = timers()
    const client = new EventClient(chunkedTransport(api, wx.request), { setTimer: t.set, clearTimer: t.clear, minDelayMs: 1000 })
    client.start()
    await flush()
    const waits: (number | undefined)[] = []
    for (let i = 0; i < 3; i++) {
      const c = wx.conns.at(-1)!
      c.onHeaders(503)
      c.onChunk(enc('{"code":"overloaded"}'))
      c.onDone()
      waits.push(await t.runNext())
    }
    expect(waits).toEqual([1000, 2000, 4000])
  })
})

describe('EventClient over EventSource (H5)', () => {
  it('opens with a fresh ticket and the last event id after an error', async () => {
    const api = signedInApi()
    await api.login('a', 'b')
    const made: (EventSourceLike & { url: string; fire(type: string, data: string, id: string): void; closed: boolean })[] = []
    const factory = (url: string) => {
      const handlers = new Map<string, (e: { data: string; lastEventId: string }) => void>()
      const es = {
        url,
        closed: false,
        readyState: 0,
        onerror: null as ((e: Event) => void) | null,
        addEventListener: (type: string, fn: (e: { data: string; lastEventId: string }) => void) => void handlers.set(type, fn),
        close() {
          es.closed = true
        },
        fire: (type: string, data: string, id: string) => handlers.get(type)?.({ data, lastEventId: id }),
      }
      made.push(es)
      return es
    }
    const t = timers()
    const client = new EventClient(eventSourceTransport(api, factory), { setTimer: t.set, clearTimer: t.clear })
    const threads: unknown[] = []
    client.on('thread.created', (d) => threads.push(d))
    client.start()
    await flush()
    expect(made[0].url).toBe('https://park.example/api/v1/events?ticket=T1')
    made[0].fire('ready', '{}', '20')
    made[0].fire('thread.created', '{"id":"th1"}', '21')
    expect(threads).toEqual([{ id: 'th1' }])
    made[0].onerror?.(new Event("error"))
    expect(made[0].closed).toBe(true)
    await t.runNext()
    expect(made[1].url).toBe('https://park.example/api/v1/events?ticket=T2&last_event_id=21')
  })
})

describe('idAfter', () => {
  it('compares decimal ids of any length', () => {
    expect(idAfter('10', '9')).toBe(true)
    expect(idAfter('9', '10')).toBe(false)
    expect(idAfter('12345678901234567890', '12345678901234567889')).toBe(true)
    expect(idAfter('5', '5')).toBe(false)
  })
})
