import { describe, expect, it, vi } from 'vitest'
import { ApiClient, ApiError, HttpRequest, HttpResponse, KeyValueStore } from '../src/lib/api'
import {
  acceptQuote,
  agreementForMatch,
  buildTerms,
  cancelAgreement,
  compareQuotes,
  completeAgreement,
  confirmAgreement,
  dealView,
  declineQuote,
  draftFromTerms,
  emptyTerms,
  firmReputation,
  proposeAgreement,
  rateAgreement,
  reputationText,
  requestQuoteRevision,
  responseTime,
  reviseAgreement,
  startAgreement,
  submitQuote,
  withdrawQuote,
} from '../src/lib/deals'
import type { Agreement, Reputation } from '../src/lib/types'

function memoryStore(): KeyValueStore {
  const data = new Map<string, string>()
  return { get: (k) => data.get(k) ?? null, set: (k, v) => void data.set(k, v), remove: (k) => void data.delete(k) }
}

const ok = (data: unknown, status = 200): HttpResponse => ({ status, headers: {}, data })

/** A signed-in client on a fake server that answers every route with `answer`. */
async function client(answer: (req: HttpRequest) => HttpResponse) {
  const seen: HttpRequest[] = []
  const transport = vi.fn(async (req: HttpRequest) => {
    if (req.url.endsWith('/api/v1/auth/login')) {
      return ok({ access_token: 'A1', refresh_token: 'R1', expires_in: 900, refresh_expires_in: 86400 })
    }
    seen.push(req)
    return answer(req)
  })
  const api = new ApiClient({ base: '', transport, store: memoryStore() })
  await api.login('a', 'b')
  return { api, seen }
}

const path = (r: HttpRequest) => `${r.method} ${r.url}`

function agreement(over: Partial<Agreement> = {}): Agreement {
  return {
    id: 'ag1',
    match_id: 'm1',
    quote_id: null,
    request: { id: 'r1', title: '需求', firm_id: 'fa', status: 'open', quantity: null, remaining: null },
    offer: { id: 'o1', title: '供应', firm_id: 'fb', status: 'open', quantity: null, remaining: null },
    status: 'proposed',
    version: 1,
    confirmed_version: null,
    awaiting_firm_id: 'fb',
    proposed_by_firm_id: 'fa',
    terms: { quantity: { amount: 1, unit: '台' }, price: { amount: 180, unit: '元/小时' } },
    total_price_yuan: null,
    committed: {},
    versions: [],
    contacts: null,
    reveal: null,
    ratings: { window_closes_at: null, published: false, rated_firm_ids: [], items: [] },
    created_at: '2026-12-05T00:00:00Z',
    updated_at: '2026-12-05T00:00:00Z',
    ...over,
  }
}

describe('deal calls', () => {
  it('send each quote call to its route, with the bearer token and an Idempotency-Key where it creates', async () => {
    const { api, seen } = await client(() => ok({ id: 'q1', items: [] }))
    await compareQuotes(api, 'r 1', '-coverage')
    await submitQuote(api, 'r1', { offer_id: 'o1', quantity: { amount: 2, unit: '吨' }, price: { amount: 3000, unit: '元/吨' } })
    await acceptQuote(api, 'q1')
    await declineQuote(api, 'q1', '价格偏高')
    await withdrawQuote(api, 'q1')
    await requestQuoteRevision(api, 'q1', '单价请再降一些')
    expect(seen.map(path)).toEqual([
      'GET /api/v1/listings/r%201/quotes?sort=-coverage',
      'POST /api/v1/listings/r1/quotes',
      'POST /api/v1/quotes/q1/accept',
      'POST /api/v1/quotes/q1/decline',
      'POST /api/v1/quotes/q1/withdraw',
      'POST /api/v1/quotes/q1/revision-request',
    ])
    expect(seen[5].body).toEqual({ message: '单价请再降一些' })
    expect(seen.every((r) => r.headers.Authorization === 'Bearer A1')).toBe(true)
    expect(seen[1].headers['Idempotency-Key']).toMatch(/^idem-/)
    expect(seen[1].body).toMatchObject({ offer_id: 'o1', quantity: { amount: 2, unit: '吨' } })
    expect(seen[3].body).toEqual({ reason: '价格偏高' })
    expect(seen[0].headers['Idempotency-Key']).toBeUndefined()
  })

  it('send each agreement call to its route with its body', async () => {
    const { api, seen } = await client(() => ok(agreement()))
    await proposeAgreement(api, { match_id: 'm1', quantity: { amount: 1, unit: '台' }, price: { amount: 180, unit: '元/小时' } })
    await reviseAgreement(api, 'ag1', { price: { amount: 170, unit: '元/小时' } })
    await confirmAgreement(api, 'ag1', 2)
    await startAgreement(api, 'ag1')
    await completeAgreement(api, 'ag1')
    await cancelAgreement(api, 'ag1', '对方无法按期交付')
    await rateAgreement(api, 'ag1', { score: 5, tags: ['准时', '沟通'], comment: '很好' })
    await firmReputation(api, 'fb')
    expect(seen.map(path)).toEqual([
      'POST /api/v1/agreements',
      'POST /api/v1/agreements/ag1/versions',
      'POST /api/v1/agreements/ag1/confirm',
      'POST /api/v1/agreements/ag1/start',
      'POST /api/v1/agreements/ag1/complete',
      'POST /api/v1/agreements/ag1/cancel',
      'POST /api/v1/agreements/ag1/ratings',
      'GET /api/v1/firms/fb/reputation',
    ])
    expect(seen[0].body).toMatchObject({ match_id: 'm1' })
    expect(seen[0].headers['Idempotency-Key']).toBeTruthy()
    expect(seen[2].body).toEqual({ version: 2 })
    expect(seen[5].body).toEqual({ reason: '对方无法按期交付' })
    expect(seen[6].body).toEqual({ score: 5, tags: ['准时', '沟通'], comment: '很好' })
  })

  it('finds the running agreement of a match, skipping a cancelled one', async () => {
    const { api, seen } = await client(() =>
      ok({ items: [agreement({ id: 'old', status: 'cancelled' }), agreement({ id: 'live' })], next_cursor: null }),
    )
    expect((await agreementForMatch(api, 'm1'))!.id).toBe('live')
    expect(seen[0].url).toBe('/api/v1/agreements?match=m1&limit=20')
    const none = await client(() => ok({ items: [], next_cursor: null }))
    expect(await agreementForMatch(none.api, 'm1')).toBeNull()
  })

  it('turn a 422 into field messages and a 409 into its code', async () => {
    const { api } = await client((req) =>
      req.url.endsWith('/confirm')
        ? { status: 409, headers: {}, data: { code: 'stale_version', detail: '条款已更新，请确认最新版本' } }
        : {
            status: 422,
            headers: { 'Content-Type': 'application/problem+json' },
            data: {
              code: 'validation_failed',
              detail: '输入有误',
              errors: [
                { field: 'quantity.unit', code: 'unknown_unit', message: '未知单位' },
                { field: 'available_until', code: 'before_start', message: '结束不能早于开始' },
              ],
            },
          },
    )
    const e = await proposeAgreement(api, { match_id: 'm1' }).catch((x) => x)
    expect(e).toBeInstanceOf(ApiError)
    expect(e.status).toBe(422)
    expect(e.fields).toEqual({ 'quantity.unit': '未知单位', available_until: '结束不能早于开始' })
    const c = await confirmAgreement(api, 'ag1', 1).catch((x) => x)
    expect([c.status, c.code, c.userMessage]).toEqual([409, 'stale_version', '条款已更新，请确认最新版本'])
  })
})

describe('dealView', () => {
  it('tells the proposer to wait and the other firm to confirm', () => {
    const a = agreement()
    expect(dealView(a, 'fa')).toMatchObject({ step: 'awaiting_them', canConfirm: false, iAmRequester: true, otherFirmId: 'fb' })
    expect(dealView(a, 'fb')).toMatchObject({ step: 'awaiting_me', canConfirm: true, iAmRequester: false, otherFirmId: 'fa' })
    expect(dealView(a, 'fa').otherContact).toBeNull()
  })

  it('asks both firms to confirm a version staff proposed, until one has', () => {
    const a = agreement({ proposed_by_staff: 'u-staff', awaiting_firm_id: 'fa', awaiting_firm_ids: ['fa', 'fb'] })
    expect(dealView(a, 'fa')).toMatchObject({ step: 'awaiting_me', canConfirm: true })
    expect(dealView(a, 'fb')).toMatchObject({ step: 'awaiting_me', canConfirm: true })
    const half = agreement({ proposed_by_staff: 'u-staff', awaiting_firm_id: 'fb', awaiting_firm_ids: ['fb'] })
    expect(dealView(half, 'fa')).toMatchObject({ step: 'awaiting_them', canConfirm: false })
    expect(dealView(half, 'fb')).toMatchObject({ step: 'awaiting_me', canConfirm: true })
  })

  it('shows each firm the other firm’s contact once confirmed', () => {
    const a = agreement({
      status: 'confirmed',
      awaiting_firm_id: null,
      confirmed_version: 1,
      contacts: {
        request_firm: { firm_id: 'fa', firm_name: 'A', contact_name: '李工', contact_phone: '0574-1' },
        offer_firm: { firm_id: 'fb', firm_name: 'B', contact_name: '王经理', contact_phone: '0574-2' },
      },
    })
    expect(dealView(a, 'fa')).toMatchObject({ step: 'confirmed', canStart: true, canComplete: true, canRate: false })
    expect(dealView(a, 'fa').otherContact!.contact_name).toBe('王经理')
    expect(dealView(a, 'fb').otherContact!.contact_name).toBe('李工')
  })

  it('lets each firm rate once after completion', () => {
    const done = agreement({ status: 'completed', awaiting_firm_id: null })
    expect(dealView(done, 'fa')).toMatchObject({ step: 'completed', canRate: true, canCancel: false, canStart: false })
    const rated = agreement({
      status: 'completed',
      awaiting_firm_id: null,
      ratings: {
        window_closes_at: null,
        published: false,
        rated_firm_ids: ['fb'],
        items: [{ rater_firm_id: 'fa', ratee_firm_id: 'fb', score: 5, tags: [], comment: '', created_at: '', published_at: null }],
      },
    })
    expect(dealView(rated, 'fa')).toMatchObject({ canRate: false, rated: true })
  })
})

describe('terms form', () => {
  it('asks for quantity and price with their units, by the server’s field paths', () => {
    expect(buildTerms(emptyTerms()).errors).toEqual({ 'quantity.amount': '请填写数量', 'price.amount': '请填写价格' })
    const d = { ...emptyTerms(), quantityAmount: '2', priceAmount: 'abc', availableFrom: '2026-12-10', availableUntil: '2026-12-01' }
    expect(buildTerms(d).errors).toEqual({
      'quantity.unit': '请选择数量单位',
      'price.amount': '价格须为不小于 0 的数',
      available_until: '结束日期不能早于开始日期',
    })
  })

  it('builds the terms and reads them back', () => {
    const d = {
      quantityAmount: '1',
      quantityUnit: '台',
      priceAmount: '180',
      priceUnit: '元/小时',
      availableFrom: '2026-12-10',
      availableUntil: '',
      place: ' 大港五路88号 ',
    }
    const { terms, errors } = buildTerms(d)
    expect(errors).toEqual({})
    expect(terms).toEqual({
      quantity: { amount: 1, unit: '台' },
      price: { amount: 180, unit: '元/小时' },
      available_from: '2026-12-10',
      available_until: null,
      place: '大港五路88号',
    })
    expect(draftFromTerms(terms)).toEqual({ ...d, place: '大港五路88号' })
  })

  it('describes a reputation', () => {
    const r: Reputation = {
      firm_id: 'f',
      completed_deals: 3,
      confirmed_deals: 4,
      completion_rate: 0.75,
      ratings: 3,
      average_rating: 4.7,
      rating: 4.36,
      park_mean_rating: 4,
      reliability: 0.8,
      has_history: true,
    }
    expect(reputationText(r)).toBe('★ 4.4（3 条评价） · 成交 4 笔 · 完成率 75%')
    expect(reputationText({ ...r, has_history: false })).toBe('新企业 · 暂无成交记录')
    expect(reputationText({ ...r, ratings: 0, completion_rate: 0 })).toBe('暂无评价 · 成交 4 笔 · 完成率 0%')
    expect(reputationText({ ...r, median_response_secs: 5400, responses: 3 })).toBe('★ 4.4（3 条评价） · 成交 4 笔 · 完成率 75% · 一般 2 小时内回复')
    expect([responseTime(45), responseTime(600), responseTime(200000)]).toEqual(['1 分钟', '10 分钟', '3 天'])
  })
})
