import { describe, expect, it } from 'vitest'
import { SseEvent, SseParser, Utf8Decoder } from '../src/lib/sse'

function collect(lastId = '') {
  const events: SseEvent[] = []
  const retries: number[] = []
  const comments: string[] = []
  const p = new SseParser(
    { onEvent: (e) => events.push(e), onRetry: (ms) => retries.push(ms), onComment: (c) => comments.push(c) },
    lastId,
  )
  return { p, events, retries, comments }
}

const STREAM =
  'id: 41\nevent: ready\ndata: {}\n\n' +
  ': ping\n\n' +
  'retry: 3000\n' +
  'id: 42\nevent: message.created\ndata: {"text":"你好，今晚八点上机"}\n\n' +
  'id: 43\nevent: thread.read\ndata: {"thread_id":"t1",\ndata: "last_read_seq":7}\n\n'

describe('SseParser', () => {
  it('parses events, comments, retry hints and ids', () => {
    const { p, events, retries, comments } = collect()
    p.push(STREAM)
    expect(events.map((e) => [e.type, e.lastEventId])).toEqual([
      ['ready', '41'],
      ['message.created', '42'],
      ['thread.read', '43'],
    ])
    expect(JSON.parse(events[1].data).text).toBe('你好，今晚八点上机')
    expect(events[2].data).toBe('{"thread_id":"t1",\n"last_read_seq":7}')
    expect(retries).toEqual([3000])
    expect(comments).toEqual(['ping'])
    expect(p.lastEventId).toBe('43')
  })

  it('gives the same events however the stream is cut into chunks', () => {
    const whole = collect()
    whole.p.push(STREAM)
    for (let size = 1; size <= 7; size++) {
      const c = collect()
      for (let i = 0; i < STREAM.length; i += size) c.p.push(STREAM.slice(i, i + size))
      expect(c.events).toEqual(whole.events)
    }
  })

  it('handles CRLF and lone CR line endings, also split between chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n')
    const cr = STREAM.replace(/\n/g, '\r')
    const want = collect()
    want.p.push(STREAM)
    for (const text of [crlf, cr]) {
      const c = collect()
      // Cut right after every CR.
      for (const part of text.split(/(?<=\r)/)) c.p.push(part)
      expect(c.events).toEqual(want.events)
    }
  })

  it('decodes UTF-8 split inside a character across byte chunks', () => {
    const bytes = new TextEncoder().encode(STREAM)
    const want = collect()
    want.p.push(STREAM)
    for (let size = 1; size <= 5; size++) {
      const c = collect()
      for (let i = 0; i < bytes.length; i += size) c.p.pushBytes(bytes.slice(i, i + size))
      expect(c.events).toEqual(want.events)
    }
  })

  it('does not dispatch an event without data, but keeps its id', () => {
    const { p, events } = collect()
    p.push('id: 7\n\nid: 8\ndata: x\n\n')
    expect(events).toEqual([{ type: 'message', data: 'x', lastEventId: '8' }])
    p.push('id: 9\n\n')
    expect(p.lastEventId).toBe('9')
  })

  it('drops an unfinished event when the stream ends', () => {
    const { p, events } = collect('5')
    p.push('id: 6\ndata: half')
    p.end()
    p.push('data: next\n\n')
    expect(events).toEqual([{ type: 'message', data: 'next', lastEventId: '6' }])
  })

  it('ignores unknown fields, bad retry values and ids with NUL', () => {
    const { p, events, retries } = collect('1')
    p.push('foo: bar\nretry: soon\nid: 2\0x\ndata\n\n')
    expect(retries).toEqual([])
    expect(events).toEqual([{ type: 'message', data: '', lastEventId: '1' }])
  })
})

describe('Utf8Decoder', () => {
  it('decodes four-byte characters split anywhere and marks bad bytes', () => {
    const text = 'a𠀀b中'
    const bytes = new TextEncoder().encode(text)
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new Utf8Decoder()
      expect(d.decode(bytes.slice(0, cut)) + d.decode(bytes.slice(cut))).toBe(text)
    }
    expect(new Utf8Decoder().decode(new Uint8Array([0x61, 0xff, 0x62]))).toBe('a\ufffdb')
  })
})
