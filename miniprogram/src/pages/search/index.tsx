import { useState } from 'react'
import { useDidShow, useReachBottom } from '@tarojs/taro'
import { Button, Input, Picker, Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadFirm, requireSignIn } from '../../lib/session'
import { highlightSegments } from '../../lib/format'
import { KINDS, KIND_LABEL, SIDE_LABEL } from '../../lib/kinds'
import type { Listing } from '../../lib/types'
import { Banner, Chips, Empty } from '../../components/ui'

interface Hit {
  listing: Listing
  score: number
  distance_km: number | null
  highlights: { title: string; description: string }
}
interface SearchPage {
  items: Hit[]
  total: number
  next_cursor: string | null
}

function Highlighted({ html, className }: { html: string; className: string }) {
  return (
    <Text className={className}>
      {highlightSegments(html).map((s, i) =>
        s.hit ? (
          <Text key={i} className="hl">
            {s.text}
          </Text>
        ) : (
          s.text
        ),
      )}
    </Text>
  )
}

const RADII = [
  { value: '', label: '不限' },
  { value: '3', label: '3 公里' },
  { value: '10', label: '10 公里' },
  { value: '30', label: '30 公里' },
]

export default function Search() {
  const [q, setQ] = useState('')
  const [side, setSide] = useState<'' | 'offer' | 'request'>('')
  const [kind, setKind] = useState('')
  const [radius, setRadius] = useState('')
  const [day, setDay] = useState('')
  const [hits, setHits] = useState<Hit[] | null>(null)
  const [total, setTotal] = useState(0)
  const [cursor, setCursor] = useState<string | null>(null)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [near, setNear] = useState('')

  useDidShow(() => {
    if (!requireSignIn()) return
    loadFirm()
      .then((f) => f && f.lat !== null && f.lon !== null && setNear(`${f.lat},${f.lon}`))
      .catch(() => undefined)
  })

  const query = (after: string | null) => ({
    q: q.trim() || undefined,
    side: side || undefined,
    kind: kind || undefined,
    near: near || undefined,
    radius_km: radius && near ? radius : undefined,
    available_on: day || undefined,
    sort: radius && near && !q.trim() ? 'distance' : undefined,
    cursor: after ?? undefined,
    limit: 20,
  })

  const run = async (more: boolean) => {
    if (busy || (more && !cursor)) return
    setBusy(true)
    try {
      const r = await api.get<SearchPage>('/api/v1/listings/search', query(more ? cursor : null))
      setHits((old) => (more && old ? [...old, ...r.items] : r.items))
      setTotal(r.total)
      setCursor(r.next_cursor)
      setError('')
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    } finally {
      setBusy(false)
    }
  }
  useReachBottom(() => void run(true))

  return (
    <View className="page page-search" id="search">
      <View className="card form search-form">
        <View className="row gap">
          <Input className="field-input search-input" name="q" value={q} placeholder="搜索：注塑机、冷库、回程车…" confirmType="search" onInput={(e) => setQ(e.detail.value)} onConfirm={() => run(false)} />
          <Button className="btn btn-primary" id="search-submit" onClick={() => run(false)}>
            搜索
          </Button>
        </View>
        <Chips name="side" small options={[{ value: '' as const, label: '全部' }, { value: 'offer' as const, label: '供应' }, { value: 'request' as const, label: '需求' }]} value={side} onChange={setSide} />
        <Chips name="kind" small options={[{ value: '', label: '全部类别' }, ...KINDS.map((k) => ({ value: k.value as string, label: k.label }))]} value={kind} onChange={setKind} />
        {near ? <Chips name="radius" small options={RADII} value={radius} onChange={setRadius} /> : null}
        <View className="row gap">
          <Picker mode="date" value={day} onChange={(e) => setDay(String(e.detail.value))}>
            <Text className="chip">{day ? `${day} 可用` : '可用日期：不限'}</Text>
          </Picker>
          {day ? (
            <Text className="link small" onClick={() => setDay('')}>
              清除
            </Text>
          ) : null}
        </View>
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}
      {hits ? <Text className="muted small result-count">共 {total} 条</Text> : null}
      {hits && !hits.length ? <Empty>没有找到。换个说法试试，或去掉一些筛选。</Empty> : null}
      <View id="hits">
        {hits?.map((h) => (
          <View key={h.listing.id} className="card hit" data-listing-id={h.listing.id} onClick={() => go(`/pages/listing/index?id=${h.listing.id}`)}>
            <View className="row">
              <Text className={`tag tag-${h.listing.side}`}>{SIDE_LABEL[h.listing.side]}</Text>
              <Text className="tag">{KIND_LABEL[h.listing.kind]}</Text>
              {h.distance_km !== null ? <Text className="muted small">{h.distance_km.toFixed(1)} 公里</Text> : null}
            </View>
            <Highlighted className="card-title" html={h.highlights.title} />
            <Highlighted className="muted small clamp2" html={h.highlights.description} />
            <Text className="muted small">{h.listing.firm.name}</Text>
          </View>
        ))}
      </View>
      {busy ? <Empty>加载中…</Empty> : hits && cursor ? <Empty>上拉加载更多</Empty> : hits && hits.length ? <Empty>没有更多了</Empty> : null}
    </View>
  )
}
