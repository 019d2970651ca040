// A parser for `text/event-stream` (the WHATWG "server-sent events"
// interpretation rules) fed one chunk at a time: the mini-program reads the
// stream with wx.request({enableChunked}) and chunks end anywhere — inside a
// line, between CR and LF, inside a UTF-8 sequence.

export interface SseEvent {
  /** `event:` field, `message` when absent. */
  type: string
  /** The `data:` lines joined with "\n". */
  data: string
  /** The last event id seen so far (the stream's, not only this event's). */
  lastEventId: string
}

export interface SseParserHooks {
  onEvent(ev: SseEvent): void
  /** A `retry:` field: the reconnection delay the server asks for, in ms. */
  onRetry?(ms: number): void
  /** A comment line (`: ping`), without the colon. */
  onComment?(text: string): void
}

export class SseParser {
  private buf = ''
  /** The previous chunk ended with CR: a leading LF now belongs to it. */
  private pendingCr = false
  private data: string[] = []
  private hasData = false
  private type = ''
  private lastId: string
  private readonly decoder = new Utf8Decoder()

  constructor(private readonly hooks: SseParserHooks, lastEventId = '') {
    this.lastId = lastEventId
  }

  get lastEventId(): string {
    return this.lastId
  }

  /** Feeds raw bytes (wx's onChunkReceived hands an ArrayBuffer). */
  pushBytes(bytes: ArrayBuffer | Uint8Array): void {
    this.push(this.decoder.decode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)))
  }

  /** Feeds decoded text. */
  push(text: string): void {
    if (!text) return
    if (this.pendingCr) {
      this.pendingCr = false
      if (text[0] === '\n') text = text.slice(1)
    }
    this.buf += text
    let start = 0
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i]
      if (c !== '\n' && c !== '\r') continue
      const line = this.buf.slice(start, i)
      if (c === '\r') {
        if (i + 1 < this.buf.length) {
          if (this.buf[i + 1] === '\n') i++
        } else {
          this.pendingCr = true
        }
      }
      start = i + 1
      this.line(line)
    }
    this.buf = this.buf.slice(start)
  }

  /** The stream ended: an event without its closing blank line is dropped (as the spec says). */
  end(): void {
    this.buf = ''
    this.pendingCr = false
    this.reset()
  }

  private reset(): void {
    this.data = []
    this.hasData = false
    this.type = ''
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch()
      return
    }
    if (line[0] === ':') {
      this.hooks.onComment?.(line.slice(1).replace(/^ /, ''))
      return
    }
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value[0] === ' ') value = value.slice(1)
    switch (field) {
      case 'event':
        this.type = value
        break
      case 'data':
        this.data.push(value)
        this.hasData = true
        break
      case 'id':
        if (!value.includes('\0')) this.lastId = value
        break
      case 'retry':
        if (/^[0-9]+$/.test(value)) this.hooks.onRetry?.(parseInt(value, 10))
        break
      default:
        // Unknown fields are ignored.
        break
    }
  }

  private dispatch(): void {
    if (!this.hasData) {
      // An event without data is not dispatched, but its id stands.
      this.reset()
      return
    }
    const ev: SseEvent = {
      type: this.type || 'message',
      data: this.data.join('\n'),
      lastEventId: this.lastId,
    }
    this.reset()
    this.hooks.onEvent(ev)
  }
}

/**
 * A streaming UTF-8 decoder: a multi-byte character split across chunks
 * is held back until its last byte arrives. (The mini-program has no
 * TextDecoder on every base library version.) Invalid bytes become U+FFFD.
 */
export class Utf8Decoder {
  private pending: number[] = []

  decode(bytes: Uint8Array): string {
    let all: ArrayLike<number> = bytes
    if (this.pending.length) {
      const joined = new Uint8Array(this.pending.length + bytes.length)
      joined.set(this.pending)
      joined.set(bytes, this.pending.length)
      all = joined
      this.pending = []
    }
    let out = ''
    let i = 0
    const n = all.length
    while (i < n) {
      const b = all[i]
      let need = 0
      let cp = 0
      if (b < 0x80) {
        out += String.fromCharCode(b)
        i++
        continue
      } else if (b >= 0xc2 && b < 0xe0) {
        need = 1
        cp = b & 0x1f
      } else if (b >= 0xe0 && b < 0xf0) {
        need = 2
        cp = b & 0x0f
      } else if (b >= 0xf0 && b < 0xf5) {
        need = 3
        cp = b & 0x07
      } else {
        out += '\ufffd'
        i++
        continue
      }
      if (i + need >= n) {
        // Not all continuation bytes are here yet: keep them for the next chunk
        // (if what we have so far is valid).
        let ok = true
        for (let k = i + 1; k < n; k++) if ((all[k] & 0xc0) !== 0x80) ok = false
        if (ok) {
          for (let k = i; k < n; k++) this.pending.push(all[k])
          break
        }
      }
      let valid = true
      for (let k = 1; k <= need; k++) {
        const c = all[i + k]
        if (c === undefined || (c & 0xc0) !== 0x80) {
          valid = false
          break
        }
        cp = (cp << 6) | (c & 0x3f)
      }
      if (!valid) {
        out += '\ufffd'
        i++
        continue
      }
      i += need + 1
      if (cp > 0xffff) {
        cp -= 0x10000
        out += String.fromCharCode(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff))
      } else {
        out += String.fromCharCode(cp)
      }
    }
    return out
  }
}
