import { describe, expect, it } from 'vitest'
import { buildListing, draftFromListing, emptyDraft, patchBody, validateDraft } from '../src/lib/validate'
import { ATTRIBUTES, KINDS } from '../src/lib/kinds'

describe('validateDraft per kind', () => {
  it('builds the API body of a good equipment request', () => {
    const d = { ...emptyDraft('request', 'equipment'), title: '急需 300 吨注塑机夜班机时', quantityAmount: '1', quantityUnit: '台' }
    d.attributes = { equipment_type: '注塑机', mode: '共享机时', clamping_force_t: '300' }
    const { body, errors } = buildListing(d)
    expect(errors).toEqual({})
    expect(body).toEqual({
      side: 'request',
      kind: 'equipment',
      title: '急需 300 吨注塑机夜班机时',
      quantity: { amount: 1, unit: '台' },
      attributes: { equipment_type: '注塑机', mode: '共享机时', clamping_force_t: 300 },
    })
  })

  it('puts each mistake on the field path the server uses', () => {
    const d = { ...emptyDraft('offer', 'space'), title: '仓', quantityAmount: '-5', priceAmount: '12' }
    d.availableFrom = '2027-03-01'
    d.availableUntil = '2027-02-01'
    d.attributes = { area_m2: '0', fire_class: '己', floor: '1.5', ceiling_height_m: 'abc' }
    expect(validateDraft(d)).toEqual({
      title: '标题至少 2 个字',
      'quantity.amount': '应大于 0',
      'quantity.unit': '请选择单位',
      'price.unit': '请选择单位',
      available_until: '结束日期不能早于开始日期',
      'attributes.area_m2': '应大于 0',
      'attributes.fire_class': '应为 甲、乙、丙、丁、戊 之一',
      'attributes.floor': '请填写整数',
      'attributes.ceiling_height_m': '请填写数字',
    })
  })

  it('checks logistics dates and flags and workforce skills', () => {
    const d = { ...emptyDraft('offer', 'logistics'), title: '北仑→洋山 回程车' }
    d.attributes = { origin: '宁波北仑', destination: '上海洋山', departure_date: '2027-02-30', cold_chain: true, hazmat: false }
    expect(validateDraft(d)).toEqual({ 'attributes.departure_date': '日期格式应为 YYYY-MM-DD' })
    d.attributes.departure_date = '2027-02-28'
    expect(buildListing(d).body.attributes).toEqual({
      origin: '宁波北仑',
      destination: '上海洋山',
      departure_date: '2027-02-28',
      cold_chain: true,
    })
    const w = { ...emptyDraft('request', 'workforce'), title: '借调焊工两名' }
    w.attributes = { headcount: '2', skills: '氩弧焊，二保焊、 CO2焊' }
    expect(buildListing(w).body.attributes).toEqual({ headcount: 2, skills: ['氩弧焊', '二保焊', 'CO2焊'] })
    w.attributes.headcount = '0'
    expect(validateDraft(w)).toEqual({ 'attributes.headcount': '应在 1 到 100000 之间' })
  })

  it('offers only attribute keys the server knows for each kind', () => {
    const known: Record<string, string[]> = {
      space: ['area_m2', 'ceiling_height_m', 'floor_load_t_per_m2', 'power_kva', 'crane_t', 'floor', 'usage', 'fire_class'],
      equipment: ['equipment_type', 'brand', 'model', 'mode', 'clamping_force_t', 'travel_mm', 'tonnage_t'],
      material: ['material_name', 'grade', 'packaging'],
      logistics: ['origin', 'destination', 'vehicle_type', 'capacity_t', 'volume_m3', 'departure_date', 'cold_chain', 'hazmat'],
      workforce: ['job_type', 'headcount', 'skills', 'period_days'],
      service: ['service_type', 'certification'],
    }
    for (const k of KINDS) expect(ATTRIBUTES[k.value].map((a) => a.key).sort()).toEqual(known[k.value].sort())
  })

  it('round-trips a listing through the edit form', () => {
    const listing = {
      side: 'offer' as const,
      kind: 'workforce' as const,
      title: '共享焊工',
      description: '',
      quantity: { amount: 3, unit: '人' },
      price: null,
      available_from: '2027-01-01',
      available_until: null,
      urgency: 'normal' as const,
      attributes: { skills: ['氩弧焊', '二保焊'], headcount: 3 },
    }
    const { body, errors } = buildListing(draftFromListing(listing))
    expect(errors).toEqual({})
    expect(body.attributes).toEqual({ headcount: 3, skills: ['氩弧焊', '二保焊'] })
    const patch = patchBody(body)
    expect(patch).not.toHaveProperty('side')
    expect(patch.price).toBeNull()
    expect(patch.available_until).toBeNull()
    expect(patch.urgency).toBe('normal')
    expect(patchBody(buildListing({ ...draftFromListing(listing), urgency: 'urgent' }).body).urgency).toBe('urgent')
  })

  it('posts a request as a call for quotes closing at the end of a Beijing day', () => {
    const now = Date.parse('2026-12-05T10:00:00Z')
    const d = { ...emptyDraft('request', 'material'), title: '求购冷轧钢板 20 吨', callForQuotes: true, quotesCloseOn: '2026-12-20' }
    const { body, errors } = buildListing(d, now)
    expect(errors).toEqual({})
    expect(body.call_for_quotes).toEqual({ closes_at: '2026-12-20T23:59:59+08:00' })
    // Without a last day it stays open for quotes; an offer never carries it.
    expect(buildListing({ ...d, quotesCloseOn: '' }, now).body.call_for_quotes).toEqual({})
    expect(buildListing({ ...d, side: 'offer' }, now).body).not.toHaveProperty('call_for_quotes')
    // A past day, a bad date and an emergency are refused on their fields.
    expect(buildListing({ ...d, quotesCloseOn: '2026-12-04' }, now).errors['call_for_quotes.closes_at']).toBe('截止日期不能早于今天')
    expect(buildListing({ ...d, quotesCloseOn: '2026-13-01' }, now).errors['call_for_quotes.closes_at']).toBeTruthy()
    expect(buildListing({ ...d, urgency: 'emergency' }, now).errors.call_for_quotes).toBeTruthy()
    // Editing: the toggle comes back from the listing, and turning it off ends the call.
    const back = draftFromListing({
      side: 'request', kind: 'material', title: '求购冷轧钢板 20 吨', description: '', quantity: null, price: null,
      available_from: null, available_until: null, urgency: 'normal', attributes: {},
      call_for_quotes: { closes_at: '2026-12-20T15:59:59Z' },
    })
    expect([back.callForQuotes, back.quotesCloseOn]).toEqual([true, '2026-12-20'])
    expect(patchBody(buildListing({ ...back, callForQuotes: false }, now).body).call_for_quotes).toBeNull()
    expect(patchBody(buildListing(back, now).body).call_for_quotes).toEqual({ closes_at: '2026-12-20T23:59:59+08:00' })
  })
})
