import { describe, expect, it, vi } from 'vitest'
import { ApiClient, HttpRequest, HttpResponse, KeyValueStore } from '../src/lib/api'
import { AlertAsker, WechatSubscriptions, answersOf, templatesToAsk } from '../src/lib/alerts'

/** Storage holding a live session, as after a sign-in. */
function signedInStore(): KeyValueStore {
  const data = new Map<string, string>()
  const now = Date.now()
  data.set('zql.tokens', JSON.stringify({ access: 'A', refresh: 'R', accessExpiresAt: now + 600_000, refreshExpiresAt: now + 86_400_000 }))
  return { get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) }
}

const subs = (over: Partial<WechatSubscriptions> = {}): WechatSubscriptions => ({
  wechat_bound: true,
  data: [
    { topic: 'match', label: '新的匹配', template_id: 'T-match', remaining: 0, enabled: true },
    { topic: 'message', label: '新消息', template_id: 'T-msg', remaining: 2, enabled: true },
    { topic: 'brokered', label: '社区牵线', template_id: 'T-brk', remaining: 0, enabled: false },
    { topic: 'case', label: '求助进展', template_id: 'T-case', remaining: 0, enabled: true },
  ],
  ...over,
})

describe('templatesToAsk', () => {
  it('asks only for enabled topics wanted now, in the order asked, at most three', () => {
    expect(templatesToAsk(subs(), ['case', 'match'])).toEqual(['T-case', 'T-match'])
    expect(templatesToAsk(subs(), ['brokered'])).toEqual([])
    expect(templatesToAsk(subs(), ['message', 'match', 'case', 'brokered'])).toEqual(['T-msg', 'T-match', 'T-case'])
  })

  it('asks nothing of a user who did not sign in through WeChat, or before loading', () => {
    expect(templatesToAsk(subs({ wechat_bound: false }), ['message'])).toEqual([])
    expect(templatesToAsk(null, ['message'])).toEqual([])
  })
})

describe('answersOf', () => {
  it('keeps the asked templates with a known answer and drops errMsg', () => {
    const r = { errMsg: 'requestSubscribeMessage:ok', 'T-msg': 'accept', 'T-case': 'reject', 'T-other': 'accept', 'T-match': 42 }
    expect(answersOf(r, ['T-msg', 'T-case', 'T-match'])).toEqual({ 'T-msg': 'accept', 'T-case': 'reject' })
    expect(answersOf({ errMsg: 'requestSubscribeMessage:ok' }, ['T-msg'])).toBeNull()
  })
})

describe('AlertAsker', () => {
  function server(bound = true) {
    const seen: HttpRequest[] = []
    const transport = vi.fn(async (req: HttpRequest): Promise<HttpResponse> => {
      seen.push(req)
      if (req.method === 'GET') return { status: 200, headers: {}, data: subs({ wechat_bound: bound }) }
      return { status: 200, headers: {}, data: subs() }
    })
    const api = new ApiClient({ base: '', transport, store: signedInStore() })
    return { api, seen }
  }

  it('asks from the tap and reports the answers to the server', async () => {
    const { api, seen } = server()
    expect(api.signedIn()).toBe(true)
    const request = vi.fn(async (ids: string[]) => Object.fromEntries([['errMsg', 'requestSubscribeMessage:ok'], ...ids.map((i) => [i, 'accept'])]))
    const asker = new AlertAsker(api, request)
    await asker.load()
    await asker.ask(['message'])
    expect(request).toHaveBeenCalledWith(['T-msg'])
    const post = seen.find((r) => r.method === 'POST')!
    expect(post.url).toBe('/api/v1/me/wechat-subscriptions')
    expect(post.body).toEqual({ results: { 'T-msg': 'accept' } })
  })

  it('never asks on H5, for an unbound user, or when WeChat fails', async () => {
    const h5 = new AlertAsker(server().api, null)
    await h5.load()
    expect(await h5.ask(['message'])).toBeNull()

    const { api, seen } = server(false)
    const request = vi.fn(async () => ({}))
    const unbound = new AlertAsker(api, request)
    await unbound.load()
    expect(await unbound.ask(['message'])).toBeNull()
    expect(request).not.toHaveBeenCalled()
    expect(seen.filter((r) => r.method === 'POST')).toHaveLength(0)

    const failing = new AlertAsker(server().api, async () => {
      throw new Error('requestSubscribeMessage:fail can only be invoked by user TAP gesture')
    })
    await failing.load()
    expect(await failing.ask(['case'])).toBeNull()
  })
})
