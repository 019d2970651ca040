// Deals (docs/DEALS.md) through the app's one API client: quotes on a call
// for quotes, two-sided versioned agreements, contacts revealed at the first
// confirmation, ratings after completion, a firm's reputation. Errors are the
// client's ApiError (problem+json; 422 field errors by path such as
// `quantity.amount`, `price.unit`, `available_until`, `place`).
import type { ApiClient } from './api'
import type {
  Agreement,
  AgreementInput,
  Contact,
  Page,
  Quote,
  QuoteComparison,
  QuoteInput,
  RatingInput,
  Reputation,
  Terms,
} from './types'

const enc = encodeURIComponent

// Quotes

export function compareQuotes(api: ApiClient, requestId: string, sort?: string): Promise<QuoteComparison> {
  return api.get<QuoteComparison>(`/api/v1/listings/${enc(requestId)}/quotes`, { sort })
}

export function submitQuote(api: ApiClient, requestId: string, input: QuoteInput): Promise<Quote> {
  return api.post<Quote>(`/api/v1/listings/${enc(requestId)}/quotes`, input, { idempotent: true })
}

export function reviseQuote(api: ApiClient, quoteId: string, input: QuoteInput): Promise<Quote> {
  return api.patch<Quote>(`/api/v1/quotes/${enc(quoteId)}`, input)
}

export function withdrawQuote(api: ApiClient, quoteId: string): Promise<Quote> {
  return api.post<Quote>(`/api/v1/quotes/${enc(quoteId)}/withdraw`)
}

/** Accepting proposes the quote's terms as an agreement (`agreement_id`). */
export function acceptQuote(api: ApiClient, quoteId: string): Promise<Quote> {
  return api.post<Quote>(`/api/v1/quotes/${enc(quoteId)}/accept`, {}, { idempotent: true })
}

export function declineQuote(api: ApiClient, quoteId: string, reason: string): Promise<Quote> {
  return api.post<Quote>(`/api/v1/quotes/${enc(quoteId)}/decline`, { reason })
}

/** The requesting firm asks the quoting firm to revise, with a message. */
export function requestQuoteRevision(api: ApiClient, quoteId: string, message: string): Promise<Quote> {
  return api.post<Quote>(`/api/v1/quotes/${enc(quoteId)}/revision-request`, { message })
}

// Agreements

export function listAgreements(
  api: ApiClient,
  q: { match?: string; request?: string; status?: string; cursor?: string; limit?: number } = {},
): Promise<Page<Agreement>> {
  return api.get<Page<Agreement>>('/api/v1/agreements', q)
}

/** The running (not cancelled) agreement of a match, else the newest one, else null. */
export async function agreementForMatch(api: ApiClient, matchId: string): Promise<Agreement | null> {
  const page = await listAgreements(api, { match: matchId, limit: 20 })
  return page.items.find((a) => a.status !== 'cancelled') ?? page.items[0] ?? null
}

export function getAgreement(api: ApiClient, id: string): Promise<Agreement> {
  return api.get<Agreement>(`/api/v1/agreements/${enc(id)}`)
}

export function proposeAgreement(api: ApiClient, input: AgreementInput): Promise<Agreement> {
  return api.post<Agreement>('/api/v1/agreements', input, { idempotent: true })
}

/** New terms: a new version the other firm must confirm. */
export function reviseAgreement(api: ApiClient, id: string, terms: Terms): Promise<Agreement> {
  return api.post<Agreement>(`/api/v1/agreements/${enc(id)}/versions`, terms, { idempotent: true })
}

/** The other firm confirms the latest version (409 `stale_version` for an older one). */
export function confirmAgreement(api: ApiClient, id: string, version: number): Promise<Agreement> {
  return api.post<Agreement>(`/api/v1/agreements/${enc(id)}/confirm`, { version })
}

export function startAgreement(api: ApiClient, id: string): Promise<Agreement> {
  return api.post<Agreement>(`/api/v1/agreements/${enc(id)}/start`)
}

export function completeAgreement(api: ApiClient, id: string): Promise<Agreement> {
  return api.post<Agreement>(`/api/v1/agreements/${enc(id)}/complete`)
}

export function cancelAgreement(api: ApiClient, id: string, reason: string): Promise<Agreement> {
  return api.post<Agreement>(`/api/v1/agreements/${enc(id)}/cancel`, { reason })
}

export function rateAgreement(api: ApiClient, id: string, rating: RatingInput): Promise<Agreement> {
  return api.post<Agreement>(`/api/v1/agreements/${enc(id)}/ratings`, rating)
}

export function firmReputation(api: ApiClient, firmId: string): Promise<Reputation> {
  return api.get<Reputation>(`/api/v1/firms/${enc(firmId)}/reputation`)
}

// What the pages show

export const AGREEMENT_STATUS_LABEL: Record<string, string> = {
  proposed: '待确认',
  confirmed: '已成交',
  in_progress: '履约中',
  completed: '已完成',
  cancelled: '已取消',
}

export const QUOTE_STATUS_LABEL: Record<string, string> = {
  submitted: '已报价',
  accepted: '已接受',
  declined: '未采纳',
  withdrawn: '已撤回',
}

export const RATING_TAGS = ['准时', '质量', '沟通'] as const

export type DealStep = 'awaiting_me' | 'awaiting_them' | 'confirmed' | 'in_progress' | 'completed' | 'cancelled'

/** Where an agreement stands for my firm, and the other firm's contact once revealed. */
export function dealView(a: Agreement, myFirm: string | null) {
  const iAmRequester = a.request.firm_id === myFirm
  const otherFirmId = iAmRequester ? a.offer.firm_id : a.request.firm_id
  let step: DealStep
  if (a.status === 'cancelled' || a.status === 'completed' || a.status === 'in_progress') step = a.status
  else if (a.awaiting_firm_ids?.length || a.awaiting_firm_id) {
    // A version staff proposed waits on both firms until one confirms.
    const waiting = a.awaiting_firm_ids ?? [a.awaiting_firm_id as string]
    step = !!myFirm && waiting.includes(myFirm) ? 'awaiting_me' : 'awaiting_them'
  }
  else step = 'confirmed'
  const contacts = a.contacts
  const other: Contact | null = contacts ? ((iAmRequester ? contacts.offer_firm : contacts.request_firm) ?? null) : null
  const mine: Contact | null = contacts ? ((iAmRequester ? contacts.request_firm : contacts.offer_firm) ?? null) : null
  const rated = !!myFirm && a.ratings.items.some((r) => r.rater_firm_id === myFirm)
  return {
    step,
    iAmRequester,
    otherFirmId,
    otherContact: other,
    myContact: mine,
    canConfirm: step === 'awaiting_me' && (a.status === 'proposed' || a.status === 'confirmed' || a.status === 'in_progress'),
    canStart: a.status === 'confirmed',
    canComplete: a.status === 'confirmed' || a.status === 'in_progress',
    canCancel: a.status !== 'completed' && a.status !== 'cancelled',
    canRevise: a.status === 'proposed' || a.status === 'confirmed',
    canRate: a.status === 'completed' && !rated,
    rated,
  }
}

/** The terms form as typed: strings, as the inputs hold them. */
export interface TermsDraft {
  quantityAmount: string
  quantityUnit: string
  priceAmount: string
  priceUnit: string
  availableFrom: string
  availableUntil: string
  place: string
}

export function emptyTerms(): TermsDraft {
  return { quantityAmount: '', quantityUnit: '', priceAmount: '', priceUnit: '', availableFrom: '', availableUntil: '', place: '' }
}

export function draftFromTerms(t: Terms | null | undefined): TermsDraft {
  return {
    quantityAmount: t?.quantity ? String(t.quantity.amount) : '',
    quantityUnit: t?.quantity?.unit ?? '',
    priceAmount: t?.price ? String(t.price.amount) : '',
    priceUnit: t?.price?.unit ?? '',
    availableFrom: t?.available_from ?? '',
    availableUntil: t?.available_until ?? '',
    place: t?.place ?? '',
  }
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/**
 * The terms to send, or errors by the server's field paths (the same paths a
 * 422 names, so both land on the same fields). The server checks again
 * (units it knows, quantities against the listings).
 */
export function buildTerms(d: TermsDraft): { terms: Terms | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {}
  const terms: Terms = {}
  const num = (s: string) => (s.trim() === '' ? NaN : Number(s.trim()))
  const q = num(d.quantityAmount)
  if (d.quantityAmount.trim() === '') errors['quantity.amount'] = '请填写数量'
  else if (!Number.isFinite(q) || q <= 0) errors['quantity.amount'] = '数量须为大于 0 的数'
  else if (!d.quantityUnit) errors['quantity.unit'] = '请选择数量单位'
  else terms.quantity = { amount: q, unit: d.quantityUnit }
  const p = num(d.priceAmount)
  if (d.priceAmount.trim() === '') errors['price.amount'] = '请填写价格'
  else if (!Number.isFinite(p) || p < 0) errors['price.amount'] = '价格须为不小于 0 的数'
  else if (!d.priceUnit) errors['price.unit'] = '请选择价格单位'
  else terms.price = { amount: p, unit: d.priceUnit }
  if (d.availableFrom && !DATE.test(d.availableFrom)) errors.available_from = '日期格式须为 YYYY-MM-DD'
  else terms.available_from = d.availableFrom || null
  if (d.availableUntil && !DATE.test(d.availableUntil)) errors.available_until = '日期格式须为 YYYY-MM-DD'
  else terms.available_until = d.availableUntil || null
  if (d.availableFrom && d.availableUntil && DATE.test(d.availableFrom) && DATE.test(d.availableUntil) && d.availableUntil < d.availableFrom) {
    errors.available_until = '结束日期不能早于开始日期'
  }
  if (d.place.length > 200) errors.place = '地点最多 200 字'
  else terms.place = d.place.trim() || null
  return Object.keys(errors).length ? { terms: null, errors } : { terms, errors }
}

/** 12,345.5 元 */
export function yuan(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—'
  return `${n.toLocaleString('zh-CN', { maximumFractionDigits: 2 })} 元`
}

/** 0.8 → 80%; null → — */
export function share(n: number | null | undefined): string {
  return n === null || n === undefined ? '—' : `${Math.round(n * 100)}%`
}

/** ★ 4.3（5 条评价） or 暂无评价 */
export function reputationText(r: Reputation | null | undefined): string {
  if (!r) return ''
  if (!r.has_history) return '新企业 · 暂无成交记录'
  const rate = r.completion_rate === null ? '' : ` · 完成率 ${share(r.completion_rate)}`
  const stars = r.ratings ? `★ ${r.rating.toFixed(1)}（${r.ratings} 条评价）` : '暂无评价'
  const reply = r.median_response_secs === null || r.median_response_secs === undefined ? '' : ` · 一般 ${responseTime(r.median_response_secs)}内回复`
  return `${stars} · 成交 ${r.confirmed_deals} 笔${rate}${reply}`
}

/** 45 → 1 分钟; 5400 → 2 小时; 200000 → 3 天 */
export function responseTime(secs: number): string {
  if (secs < 3600) return `${Math.max(1, Math.ceil(secs / 60))} 分钟`
  if (secs < 86400) return `${Math.ceil(secs / 3600)} 小时`
  return `${Math.ceil(secs / 86400)} 天`
}
