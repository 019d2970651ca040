import { useMemo, useState } from 'react'
import Taro, { useDidShow, useRouter } from '@tarojs/taro'
import { Button, Text, View } from '@tarojs/components'
import { alertRequest, api } from '../../lib/platform'
import { AlertAsker } from '../../lib/alerts'
import { ApiError } from '../../lib/api'
import { go, loadMe, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { amount, ago } from '../../lib/format'
import { ATTRIBUTES, KIND_LABEL, SIDE_LABEL, URGENCY_LABEL } from '../../lib/kinds'
import type { LiveMatch, Listing, MatchRecord, Page, Thread } from '../../lib/types'
import { Banner, Empty, Reasons, ScoreBar, Section } from '../../components/ui'

function Attributes({ l }: { l: Listing }) {
  const specs = ATTRIBUTES[l.kind] ?? []
  const rows = specs.filter((s) => l.attributes?.[s.key] !== undefined)
  if (!rows.length) return null
  return (
    <View className="kv">
      {rows.map((s) => {
        const v = l.attributes[s.key]
        const text = typeof v === 'boolean' ? (v ? '是' : '否') : Array.isArray(v) ? v.join('、') : String(v)
        return (
          <View key={s.key} className="kv-row">
            <Text className="kv-k">{s.label}</Text>
            <Text className="kv-v">
              {text}
              {s.unit ? ` ${s.unit}` : ''}
            </Text>
          </View>
        )
      })}
    </View>
  )
}

export default function ListingPage() {
  const id = useRouter().params.id ?? ''
  const [listing, setListing] = useState<Listing | null>(null)
  const [mine, setMine] = useState(false)
  const [matches, setMatches] = useState<LiveMatch[] | null>(null)
  const [records, setRecords] = useState<MatchRecord[]>([])
  const [error, setError] = useState('')
  const [busy, setBusy] = useState('')

  const load = async () => {
    if (!requireSignIn()) return
    try {
      const [me, l] = await Promise.all([loadMe(), api.get<Listing>(`/api/v1/listings/${id}`)])
      setListing(l)
      const own = !!me.firm && l.firm.id === me.firm.id
      setMine(own)
      if (own) {
        // Live matches while open; the stored records (contacted, agreed) always,
        // so a request that agreements fulfilled still leads to its deals.
        const [m, r] = await Promise.all([
          l.status === 'open' ? api.get<{ items: LiveMatch[] }>(`/api/v1/listings/${id}/matches`, { limit: 20 }) : Promise.resolve({ items: [] }),
          api.get<Page<MatchRecord>>('/api/v1/matches', { listing: id, limit: 100 }),
        ])
        setMatches(m.items)
        setRecords(r.items)
      }
      setError('')
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }
  const alerts = useMemo(() => new AlertAsker(api, alertRequest), [])
  useDidShow(() => {
    void load()
    void alerts.load()
  })
  useLiveReload(['match.created', 'match.status_changed', 'listing.closed', 'agreement.proposed', 'agreement.confirmed', 'quote.created'], () => void load())

  const recordFor = (other: Listing) =>
    records.find((r) => (listing!.side === 'request' ? r.offer.id === other.id : r.request.id === other.id))

  const contact = async (other: Listing) => {
    // Straight from the tap, as WeChat requires: alerts of the answer.
    void alerts.ask(['message'])
    setBusy(`contact-${other.id}`)
    try {
      const rec = recordFor(other)
      const thread = rec
        ? await api.post<Thread>('/api/v1/threads', { match_id: rec.id }, { idempotent: true })
        : await api.post<Thread>('/api/v1/threads', { listing_id: other.id }, { idempotent: true })
      if (rec && rec.status === 'suggested') {
        await api.patch(`/api/v1/matches/${rec.id}`, { status: 'contacted' }).catch(() => undefined)
      }
      go(`/pages/thread/index?id=${thread.id}`)
    } catch (e) {
      Taro.showToast({ title: e instanceof ApiError ? e.userMessage : String(e), icon: 'none' })
    } finally {
      setBusy('')
    }
  }

  const decline = async (rec: MatchRecord) => {
    const ok = await Taro.showModal({ title: '标记为不合适？', content: '此匹配将不再出现在新的匹配中。', confirmText: '不合适' })
    if (!ok.confirm) return
    try {
      await api.patch(`/api/v1/matches/${rec.id}`, { status: 'declined' })
      await load()
    } catch (e) {
      Taro.showToast({ title: e instanceof ApiError ? e.userMessage : String(e), icon: 'none' })
    }
  }

  const close = async () => {
    const ok = await Taro.showModal({ title: '关闭这条发布？', content: '关闭后不再被搜索和匹配。', confirmText: '关闭' })
    if (!ok.confirm) return
    try {
      await api.post(`/api/v1/listings/${id}/close`)
      await load()
    } catch (e) {
      Taro.showToast({ title: e instanceof ApiError ? e.userMessage : String(e), icon: 'none' })
    }
  }

  if (!listing) return <View className="page">{error ? <Banner kind="error">{error}</Banner> : <Empty>加载中…</Empty>}</View>
  const l = listing
  const visible = (matches ?? []).filter((m) => recordFor(m.listing)?.status !== 'declined')
  // Agreed pairs no longer among the live matches (the listing closed or was fulfilled).
  const shownIds = new Set(visible.map((m) => m.listing.id))
  const agreedElsewhere = records.filter((r) => r.status === 'agreed' && !shownIds.has(l.side === 'request' ? r.offer.id : r.request.id))
  return (
    <View className="page page-listing" id="listing" data-listing-id={l.id} data-status={l.status}>
      <View className="card">
        <View className="row">
          <Text className={`tag tag-${l.side}`}>{SIDE_LABEL[l.side]}</Text>
          <Text className="tag">{KIND_LABEL[l.kind]}</Text>
          {l.urgency !== 'normal' ? <Text className={`tag tag-${l.urgency}`}>{URGENCY_LABEL[l.urgency]}</Text> : null}
          {l.status === 'closed' ? <Text className="tag tag-closed">已关闭</Text> : null}
          {l.status === 'fulfilled' ? <Text className="tag tag-agreed">已满足</Text> : null}
          {l.call_for_quotes ? <Text className="tag tag-request">询价中</Text> : null}
        </View>
        <Text className="listing-title">{l.title}</Text>
        <Text className="muted small">
          {l.firm.name}
          {l.firm.verified ? ' · 已认证' : ''} · {l.community.name} · {ago(l.created_at)}
        </Text>
        {l.description ? <Text className="listing-desc">{l.description}</Text> : null}
        <View className="kv">
          {l.quantity ? (
            <View className="kv-row">
              <Text className="kv-k">数量</Text>
              <Text className="kv-v">
                {amount(l.quantity)}
                {l.committed && l.committed.amount > 0 && l.remaining ? `（已成交 ${amount(l.committed)}，还剩 ${amount(l.remaining)}）` : ''}
              </Text>
            </View>
          ) : null}
          {l.price ? (
            <View className="kv-row">
              <Text className="kv-k">{l.side === 'request' ? '预算' : '价格'}</Text>
              <Text className="kv-v">{amount(l.price)}</Text>
            </View>
          ) : null}
          {l.available_from || l.available_until ? (
            <View className="kv-row">
              <Text className="kv-k">时间</Text>
              <Text className="kv-v">
                {l.available_from ?? '即日'} 至 {l.available_until ?? '长期'}
              </Text>
            </View>
          ) : null}
          {l.location?.address ? (
            <View className="kv-row">
              <Text className="kv-k">地点</Text>
              <Text className="kv-v">{l.location.address}</Text>
            </View>
          ) : null}
        </View>
        <Attributes l={l} />
        {mine && l.status === 'open' ? (
          <View className="row gap">
            <Button className="btn btn-ghost" id="edit-listing" onClick={() => go(`/pages/post/index?id=${l.id}`)}>
              修改
            </Button>
            <Button className="btn btn-ghost" id="close-listing" onClick={close}>
              关闭
            </Button>
          </View>
        ) : null}
        {l.call_for_quotes && (mine || l.status === 'open') ? (
          <Button className={`btn ${mine ? 'btn-ghost' : 'btn-primary'} btn-block`} id="go-quotes" onClick={() => go(`/pages/quotes/index?listing=${l.id}`)}>
            {mine ? '查看报价' : '我要报价'}
          </Button>
        ) : null}
        {!mine && l.status === 'open' ? (
          <Button className="btn btn-primary btn-block" id="contact-listing" loading={busy === `contact-${l.id}`} onClick={() => contact(l)}>
            联系对方
          </Button>
        ) : null}
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}

      {mine && agreedElsewhere.length ? (
        <Section title="已成交">
          {agreedElsewhere.map((r) => {
            const other = l.side === 'request' ? r.offer : r.request
            return (
              <View key={r.id} className="card match match-agreed" data-listing-id={other.id} data-match-id={r.id} data-status={r.status}>
                <View className="row between">
                  <Text className="card-title ellipsis">{other.title}</Text>
                  <Text className="tag tag-agreed match-status">已成交</Text>
                </View>
                <Button className="btn btn-primary btn-block btn-deal" onClick={() => go(`/pages/deal/index?match=${r.id}`)}>
                  查看成交
                </Button>
              </View>
            )
          })}
        </Section>
      ) : null}

      {mine && l.status === 'open' ? (
        <Section title={l.side === 'request' ? '能满足您的供应' : '需要您的企业'} extra={<Text className="muted small">{visible.length} 个匹配</Text>}>
          {matches && !visible.length ? <Empty>暂时没有合适的对象，新的发布会自动匹配并通知您。</Empty> : null}
          {visible.map((m) => {
            const rec = recordFor(m.listing)
            return (
              <View key={m.listing.id} className="card match" data-listing-id={m.listing.id} data-status={rec?.status ?? ''}>
                <View className="row between">
                  <Text className="card-title ellipsis">{m.listing.title}</Text>
                  {rec?.status === 'agreed' ? <Text className="tag tag-agreed match-status">已成交</Text> : rec?.status === 'contacted' ? <Text className="tag match-status">已联系</Text> : null}
                </View>
                <Text className="muted small">
                  {m.listing.firm.name}
                  {m.listing.firm.verified ? ' · 已认证' : ''} · {m.listing.community.name}
                  {m.partial ? ' · 可满足部分数量' : ''}
                </Text>
                <ScoreBar score={m.score} />
                <Reasons factors={m.factors} all />
                <View className="row gap">
                  <Button className="btn btn-primary btn-contact" loading={busy === `contact-${m.listing.id}`} onClick={() => contact(m.listing)}>
                    {rec && rec.status !== 'suggested' ? '进入对话' : '联系'}
                  </Button>
                  {rec && rec.status !== 'declined' && rec.status !== 'expired' ? (
                    <Button className={`btn ${rec.status === 'agreed' ? 'btn-primary' : 'btn-ghost'} btn-deal`} onClick={() => go(`/pages/deal/index?match=${rec.id}`)}>
                      {rec.status === 'agreed' ? '查看成交' : '成交'}
                    </Button>
                  ) : null}
                  {rec && (rec.status === 'suggested' || rec.status === 'contacted') ? (
                    <Button className="btn btn-ghost btn-decline" onClick={() => decline(rec)}>
                      不合适
                    </Button>
                  ) : null}
                </View>
              </View>
            )
          })}
        </Section>
      ) : null}
    </View>
  )
}
