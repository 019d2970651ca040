// One event client for both targets over GET /api/v1/events: it keeps the
// last event id, reconnects after a drop (honouring the server's retry hint,
// else backing off), resumes with Last-Event-ID so nothing is missed or
// doubled, and reopens with fresh credentials when the server ends the
// stream with `event: expired`. What differs per platform is the transport:
// EventSource with a stream ticket on H5, wx.request({enableChunked}) read
// through SseParser in the mini-program.

import { ApiClient, ApiError } from './api'
import { SseEvent, SseParser } from './sse'

/** The event types GET /api/v1/events sends (openapi.yaml). */
export const EVENT_TYPES = [
  'ready',
  'expired',
  'message.created',
  'thread.created',
  'thread.updated',
  'thread.read',
  'match.created',
  'match.status_changed',
  'listing.created',
  'listing.closed',
  'notification',
  'notification.read',
  'case.opened',
  'case.updated',
  'quote.created',
  'quote.updated',
  'agreement.proposed',
  'agreement.confirmed',
  'agreement.completed',
  'agreement.cancelled',
  'rating.published',
] as const

export interface StreamHandlers {
  onEvent(ev: SseEvent): void
  onRetry(ms: number): void
  /** The stream ended or failed; `status` when the server refused it. */
  onClose(err?: { status?: number; message?: string }): void
}

export interface StreamTransport {
  /** Opens the stream after `lastEventId`; resolves to a function that closes it. */
  open(lastEventId: string, h: StreamHandlers): Promise<() => void>
}

export type LiveState = 'connecting' | 'open' | 'closed'

export interface EventClientOptions {
  minDelayMs?: number
  maxDelayMs?: number
  setTimer?: (fn: () => void, ms: number) => unknown
  clearTimer?: (t: unknown) => void
  /** Stop for good (e.g. signed out) instead of reconnecting. */
  shouldStop?: () => boolean
}

type Listener = (data: unknown, ev: SseEvent) => void

export class EventClient {
  private listeners = new Map<string, Set<Listener>>()
  private stateListeners = new Set<(s: LiveState) => void>()
  private closeFn: (() => void) | null = null
  private timer: unknown = null
  private running = false
  private delay: number
  private retryHint: number | null = null
  private lastId = ''
  private generation = 0
  state: LiveState = 'closed'

  constructor(
    private readonly transport: StreamTransport,
    private readonly o: EventClientOptions = {},
  ) {
    this.delay = o.minDelayMs ?? 1000
  }

  get lastEventId(): string {
    return this.lastId
  }

  /** Subscribes to one event type (or '*'); returns the unsubscribe function. */
  on(type: string, fn: Listener): () => void {
    let set = this.listeners.get(type)
    if (!set) this.listeners.set(type, (set = new Set()))
    set.add(fn)
    return () => set!.delete(fn)
  }

  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn)
    return () => this.stateListeners.delete(fn)
  }

  start(): void {
    if (this.running) return
    this.running = true
    void this.connect()
  }

  stop(): void {
    this.running = false
    this.generation++
    if (this.timer !== null) (this.o.clearTimer ?? clearTimeout)(this.timer as ReturnType<typeof setTimeout>)
    this.timer = null
    this.closeFn?.()
    this.closeFn = null
    this.setState('closed')
  }

  /** Forgets the position (another user signs in on this device). */
  reset(): void {
    this.stop()
    this.lastId = ''
  }

  private setState(s: LiveState): void {
    if (this.state === s) return
    this.state = s
    for (const fn of this.stateListeners) fn(s)
  }

  private async connect(): Promise<void> {
    if (!this.running) return
    if (this.o.shouldStop?.()) {
      this.stop()
      return
    }
    const gen = ++this.generation
    this.setState('connecting')
    const mine = () => gen === this.generation && this.running
    try {
      const close = await this.transport.open(this.lastId, {
        onEvent: (ev) => {
          if (!mine()) return
          this.deliver(ev)
        },
        onRetry: (ms) => {
          if (mine()) this.retryHint = ms
        },
        onClose: (err) => {
          if (!mine()) return
          this.closeFn = null
          this.scheduleReconnect(err?.status === 401 ? 0 : undefined)
        },
      })
      if (mine()) this.closeFn = close
      else close()
    } catch (e) {
      if (!mine()) return
      if (e instanceof ApiError && e.code === 'session_expired') {
        this.stop()
        return
      }
      this.scheduleReconnect()
    }
  }

  private deliver(ev: SseEvent): void {
    // Never hand out an event twice (ids are increasing numbers). The
    // stream's control events (`ready`, `expired`) may carry no id of their
    // own, so the parser reports the last one seen: they are exempt.
    const control = ev.type === 'ready' || ev.type === 'expired'
    if (!control && ev.lastEventId && this.lastId && /^\d+$/.test(ev.lastEventId) && /^\d+$/.test(this.lastId)) {
      if (!idAfter(ev.lastEventId, this.lastId)) return
    }
    if (ev.lastEventId) this.lastId = ev.lastEventId
    if (ev.type === 'ready') {
      this.delay = this.o.minDelayMs ?? 1000
      this.setState('open')
    }
    if (ev.type === 'expired') {
      // The credential the stream was opened with ran out: reopen at once
      // (the transport gets a fresh token or ticket).
      this.generation++
      this.closeFn?.()
      this.closeFn = null
      this.scheduleReconnect(0)
      return
    }
    let data: unknown = ev.data
    try {
      data = JSON.parse(ev.data)
    } catch {
      // Not JSON: hand over the text.
    }
    for (const key of [ev.type, '*']) {
      for (const fn of this.listeners.get(key) ?? []) {
        try {
          fn(data, ev)
        } catch (err) {
          console.error('event listener failed', err)
        }
      }
    }
  }

  private scheduleReconnect(ms?: number): void {
    if (!this.running) return
    this.setState('connecting')
    const wait = ms ?? this.retryHint ?? this.delay
    if (ms === undefined && this.retryHint === null) {
      this.delay = Math.min(this.delay * 2, this.o.maxDelayMs ?? 30_000)
    }
    const set = this.o.setTimer ?? ((fn: () => void, t: number) => setTimeout(fn, t))
    this.timer = set(() => {
      this.timer = null
      void this.connect()
    }, wait)
  }
}

/** `a` > `b` for decimal ids of any length (no BigInt on every mini-program base library). */
export function idAfter(a: string, b: string): boolean {
  const x = a.replace(/^0+/, '')
  const y = b.replace(/^0+/, '')
  return x.length !== y.length ? x.length > y.length : x > y
}

/** What the mini-program's wx.request({enableChunked}) offers, abstracted for tests. */
export interface ChunkedRequestOptions {
  url: string
  headers: Record<string, string>
  onHeaders(status: number): void
  onChunk(bytes: ArrayBuffer | Uint8Array): void
  onDone(err?: string): void
}
export type ChunkedRequest = (o: ChunkedRequestOptions) => () => void

/** The stream read in chunks with the Authorization header and Last-Event-ID (mini-program). */
export function chunkedTransport(api: ApiClient, request: ChunkedRequest): StreamTransport {
  return {
    async open(lastEventId, h) {
      const token = await api.accessToken()
      const headers: Record<string, string> = { Accept: 'text/event-stream', Authorization: `Bearer ${token}` }
      if (lastEventId) headers['Last-Event-ID'] = lastEventId
      let status = 0
      let closed = false
      const parser = new SseParser(
        { onEvent: (ev) => status === 200 && h.onEvent(ev), onRetry: (ms) => h.onRetry(ms) },
        lastEventId,
      )
      const finish = (err?: { status?: number; message?: string }) => {
        if (closed) return
        closed = true
        parser.end()
        h.onClose(err)
      }
      const abort = request({
        url: api.url('/api/v1/events'),
        headers,
        onHeaders: (s) => {
          status = s
        },
        onChunk: (bytes) => {
          if (status === 0) status = 200
          if (status === 200) parser.pushBytes(bytes)
        },
        onDone: (err) => finish(status !== 200 && status !== 0 ? { status } : err ? { message: err } : undefined),
      })
      return () => {
        closed = true
        abort()
      }
    },
  }
}

/** What we use of EventSource (the browser's, or a fake in tests). */
export interface EventSourceLike {
  addEventListener(type: string, fn: (e: { data: string; lastEventId: string }) => void): void
  onerror: ((e: Event) => void) | null
  close(): void
  readyState: number
}
export type EventSourceFactory = (url: string) => EventSourceLike

/** EventSource opened with a stream ticket (H5: EventSource cannot send headers). */
export function eventSourceTransport(api: ApiClient, make: EventSourceFactory): StreamTransport {
  return {
    async open(lastEventId, h) {
      const { ticket } = await api.post<{ ticket: string }>('/api/v1/events/ticket')
      const es = make(api.url('/api/v1/events', { ticket, last_event_id: lastEventId || undefined }))
      for (const type of EVENT_TYPES) {
        es.addEventListener(type, (e) => h.onEvent({ type, data: e.data, lastEventId: e.lastEventId }))
      }
      es.onerror = () => {
        // EventSource would retry by itself with the same (soon stale) ticket:
        // close it and let the client reopen with a new ticket from where it was.
        es.close()
        h.onClose()
      }
      return () => es.close()
    },
  }
}
