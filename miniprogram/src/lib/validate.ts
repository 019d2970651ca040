// The post form's draft → the API's ListingInput, checked first by the same
// rules the server applies (listing_form.rs, attributes.rs) so most mistakes
// show before sending. Errors are keyed by the server's field paths
// (`quantity.amount`, `attributes.area_m2`), so a 422 from the server lands on
// the same fields.

import { ATTRIBUTES, AttrSpec, Kind, Side } from './kinds'

export interface Draft {
  side: Side
  kind: Kind
  title: string
  description: string
  quantityAmount: string
  quantityUnit: string
  priceAmount: string
  priceUnit: string
  availableFrom: string
  availableUntil: string
  urgency: 'normal' | 'urgent' | 'emergency'
  /** A request posted as a call for quotes (询价), with an optional last day (YYYY-MM-DD). */
  callForQuotes: boolean
  quotesCloseOn: string
  /** Attribute inputs as typed (numbers as text, flags as booleans). */
  attributes: Record<string, string | boolean>
}

export type FieldErrors = Record<string, string>

export function emptyDraft(side: Side = 'request', kind: Kind = 'equipment'): Draft {
  return {
    side,
    kind,
    title: '',
    description: '',
    quantityAmount: '',
    quantityUnit: '',
    priceAmount: '',
    priceUnit: '',
    availableFrom: '',
    availableUntil: '',
    urgency: 'normal',
    callForQuotes: false,
    quotesCloseOn: '',
    attributes: {},
  }
}

/** The end of a day in Beijing time, as the API's RFC 3339 instant. */
export function endOfDayBeijing(day: string): string {
  return `${day}T23:59:59+08:00`
}

/** Today in Beijing time (YYYY-MM-DD). */
export function todayBeijing(now = Date.now()): string {
  return new Date(now + 8 * 3600_000).toISOString().slice(0, 10)
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

function isDate(s: string): boolean {
  if (!DATE.test(s)) return false
  const d = new Date(`${s}T00:00:00Z`)
  return !isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
}

function chars(s: string): number {
  return Array.from(s).length
}

function parseNumber(s: string): number | null {
  const t = s.trim()
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null
  return Number(t)
}

function checkAttr(spec: AttrSpec, raw: string | boolean): { value?: unknown; error?: string } {
  if (spec.type === 'bool') return { value: raw === true }
  const s = String(raw).trim()
  switch (spec.type) {
    case 'number': {
      const n = parseNumber(s)
      if (n === null) return { error: '请填写数字' }
      if (n <= 0) return { error: '应大于 0' }
      if (spec.max !== undefined && n > spec.max) return { error: `不能超过 ${spec.max}` }
      return { value: n }
    }
    case 'int': {
      if (!/^-?\d+$/.test(s)) return { error: '请填写整数' }
      const n = Number(s)
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { error: `应在 ${spec.min} 到 ${spec.max} 之间` }
      }
      return { value: n }
    }
    case 'select':
      if (!spec.options?.includes(s)) return { error: `应为 ${spec.options?.join('、')} 之一` }
      return { value: s }
    case 'date':
      if (!isDate(s)) return { error: '日期格式应为 YYYY-MM-DD' }
      return { value: s }
    case 'skills': {
      const list = s
        .split(/[,，、;；\s]+/)
        .map((x) => x.trim())
        .filter(Boolean)
      if (list.length > 30) return { error: '最多 30 项技能' }
      if (list.some((x) => chars(x) > 50)) return { error: '每项技能最多 50 字' }
      return { value: list }
    }
    default:
      if (chars(s) > 200) return { error: '最多 200 字' }
      return { value: s }
  }
}

/** Checks a draft; returns the errors by field (empty when it can be sent). */
export function validateDraft(d: Draft): FieldErrors {
  return buildListing(d).errors
}

/** The ListingInput body of a draft, and what is wrong with it. */
export function buildListing(d: Draft, now = Date.now()): { body: Record<string, unknown>; errors: FieldErrors } {
  const errors: FieldErrors = {}
  const body: Record<string, unknown> = { side: d.side, kind: d.kind }

  const title = d.title.trim()
  if (!title) errors.title = '请填写标题'
  else if (chars(title) < 2) errors.title = '标题至少 2 个字'
  else if (chars(title) > 100) errors.title = '标题最多 100 个字'
  body.title = title

  const description = d.description.trim()
  if (chars(description) > 2000) errors.description = '描述最多 2000 个字'
  if (description) body.description = description

  for (const [key, amount, unit] of [
    ['quantity', d.quantityAmount, d.quantityUnit],
    ['price', d.priceAmount, d.priceUnit],
  ] as const) {
    const a = amount.trim()
    const u = unit.trim()
    if (!a && !u) continue
    const n = parseNumber(a)
    if (!a) errors[`${key}.amount`] = '请填写数量'
    else if (n === null) errors[`${key}.amount`] = '请填写数字'
    else if (n <= 0) errors[`${key}.amount`] = '应大于 0'
    if (!u) errors[`${key}.unit`] = '请选择单位'
    else if (chars(u) > 16) errors[`${key}.unit`] = '单位最多 16 个字'
    if (n !== null) body[key] = { amount: n, unit: u }
  }

  if (d.availableFrom && !isDate(d.availableFrom)) errors.available_from = '日期格式应为 YYYY-MM-DD'
  if (d.availableUntil && !isDate(d.availableUntil)) errors.available_until = '日期格式应为 YYYY-MM-DD'
  if (d.availableFrom && d.availableUntil && isDate(d.availableFrom) && isDate(d.availableUntil)) {
    if (d.availableUntil < d.availableFrom) errors.available_until = '结束日期不能早于开始日期'
  }
  if (d.availableFrom) body.available_from = d.availableFrom
  if (d.availableUntil) body.available_until = d.availableUntil
  if (d.urgency !== 'normal') body.urgency = d.urgency
  if (d.side === 'request' && d.callForQuotes) {
    if (d.urgency === 'emergency') errors.call_for_quotes = '紧急需求由社区工作人员直接撮合，不走询价'
    const close = d.quotesCloseOn.trim()
    if (close && !isDate(close)) errors['call_for_quotes.closes_at'] = '日期格式应为 YYYY-MM-DD'
    else if (close && close < todayBeijing(now)) errors['call_for_quotes.closes_at'] = '截止日期不能早于今天'
    body.call_for_quotes = close ? { closes_at: endOfDayBeijing(close) } : {}
  }

  const attrs: Record<string, unknown> = {}
  for (const spec of ATTRIBUTES[d.kind]) {
    const raw = d.attributes[spec.key]
    if (raw === undefined || raw === '' || (spec.type === 'bool' && raw !== true)) continue
    const r = checkAttr(spec, raw)
    if (r.error) errors[`attributes.${spec.key}`] = r.error
    else attrs[spec.key] = r.value
  }
  if (Object.keys(attrs).length) body.attributes = attrs
  return { body, errors }
}

/** A listing from the API back into a draft (editing). */
export function draftFromListing(l: {
  side: Side
  kind: Kind
  title: string
  description: string
  quantity: { amount: number; unit: string } | null
  price: { amount: number; unit: string } | null
  available_from: string | null
  available_until: string | null
  urgency: Draft['urgency']
  call_for_quotes?: { closes_at: string | null } | null
  attributes: Record<string, unknown>
}): Draft {
  const attributes: Record<string, string | boolean> = {}
  for (const [k, v] of Object.entries(l.attributes || {})) {
    attributes[k] = typeof v === 'boolean' ? v : Array.isArray(v) ? v.join('，') : String(v)
  }
  return {
    side: l.side,
    kind: l.kind,
    title: l.title,
    description: l.description || '',
    quantityAmount: l.quantity ? String(l.quantity.amount) : '',
    quantityUnit: l.quantity?.unit ?? '',
    priceAmount: l.price ? String(l.price.amount) : '',
    priceUnit: l.price?.unit ?? '',
    availableFrom: l.available_from ?? '',
    availableUntil: l.available_until ?? '',
    urgency: l.urgency,
    callForQuotes: !!l.call_for_quotes,
    quotesCloseOn: l.call_for_quotes?.closes_at ? todayBeijing(Date.parse(l.call_for_quotes.closes_at)) : '',
    attributes,
  }
}

/** The fields a PATCH may carry (side and kind cannot change). */
export function patchBody(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body }
  delete out.side
  delete out.kind
  for (const k of ['quantity', 'price', 'available_from', 'available_until']) if (!(k in out)) out[k] = null
  if (!('attributes' in out)) out.attributes = {}
  if (!('description' in out)) out.description = ''
  // Back to normal is a change too (the create body leaves normal out).
  if (!('urgency' in out)) out.urgency = 'normal'
  // So is ending a call for quotes.
  if (body.side === 'request' && !('call_for_quotes' in out)) out.call_for_quotes = null
  return out
}
