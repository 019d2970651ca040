import { useState } from 'react'
import Taro, { useDidShow, useRouter } from '@tarojs/taro'
import { Button, Text, Textarea, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadMe, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { ago } from '../../lib/format'
import type { Kind } from '../../lib/kinds'
import type { Listing, Page, Thread } from '../../lib/types'
import { Banner } from '../../components/ui'

/** What a firm most often needs at once when production stops. */
const NEEDS: { key: string; kind: Kind; label: string; title: string }[] = [
  { key: 'machine', kind: 'equipment', label: '设备故障停产', title: '设备故障停产，急需外协设备或机时' },
  { key: 'forklift', kind: 'equipment', label: '急借叉车', title: '急借叉车' },
  { key: 'space', kind: 'space', label: '急需仓库场地', title: '急需临时仓库场地' },
  { key: 'truck', kind: 'logistics', label: '急需运力', title: '急需车辆运力' },
  { key: 'people', kind: 'workforce', label: '急需人手', title: '急需临时用工' },
  { key: 'test', kind: 'service', label: '急需检测维修', title: '急需检测或维修服务' },
]

export default function Help() {
  const params = useRouter().params
  const [id, setId] = useState(params.id ?? '')
  const [need, setNeed] = useState('')
  const [note, setNote] = useState('')
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState('')
  const [listing, setListing] = useState<Listing | null>(null)
  const [threads, setThreads] = useState<Thread[]>([])

  const load = async (which = id) => {
    if (!requireSignIn() || !which) return
    try {
      const [l, t] = await Promise.all([
        api.get<Listing>(`/api/v1/listings/${which}`),
        api.get<Page<Thread>>('/api/v1/threads', { limit: 50 }),
      ])
      setListing(l)
      setThreads(t.items.filter((x) => x.subject.match?.request?.id === which || x.subject.listing?.id === which))
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }
  useDidShow(() => void load())
  useLiveReload(['thread.created', 'thread.updated', 'message.created', 'notification', 'match.created', 'listing.closed'], () => void load())

  const send = async () => {
    const n = NEEDS.find((x) => x.key === need)
    if (!n) return
    setBusy(true)
    setError('')
    try {
      const me = await loadMe()
      const l = await api.post<Listing>(
        '/api/v1/listings',
        {
          side: 'request',
          kind: n.kind,
          title: n.title,
          description: note.trim() || `${me.firm?.name ?? ''}通过一键求助提交，请社区尽快协调。`,
          urgency: 'emergency',
        },
        { idempotent: true },
      )
      setId(l.id)
      setListing(l)
      Taro.pageScrollTo({ scrollTop: 0, duration: 0 }).catch(() => undefined)
      void load(l.id)
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    } finally {
      setBusy(false)
    }
  }

  if (id && listing) {
    const brokered = threads.filter((t) => t.staff.length)
    const first = brokered.map((t) => t.staff[0]).sort((a, b) => a.joined_at.localeCompare(b.joined_at))[0]
    const step = listing.status === 'closed' ? 3 : first ? 2 : 1
    return (
      <View className="page page-help" id="help-status" data-listing-id={listing.id} data-step={step}>
        <View className="card sos-card">
          <Text className="tag tag-emergency">紧急求助</Text>
          <Text className="listing-title">{listing.title}</Text>
          <Text className="muted small">提交于 {ago(listing.created_at)}</Text>
        </View>
        <View className="card timeline">
          <View className="step step-done">
            <Text className="step-dot" />
            <View>
              <Text className="step-title">已提交到社区工作人员处理队列</Text>
              <Text className="muted small">{listing.community.name} · {ago(listing.created_at)}</Text>
            </View>
          </View>
          <View className={`step${first ? ' step-done' : ' step-wait'}`}>
            <Text className="step-dot" />
            <View>
              <Text className="step-title">{first ? `${first.name} 已为您牵线 ${brokered.length} 家企业` : '等待社区工作人员联系对接…'}</Text>
              {first ? <Text className="muted small">{ago(first.joined_at)}</Text> : <Text className="muted small">对接后会出现在下方，并通知您</Text>}
            </View>
          </View>
          {listing.status === 'closed' ? (
            <View className="step step-done">
              <Text className="step-dot" />
              <Text className="step-title">需求已关闭</Text>
            </View>
          ) : null}
        </View>
        {threads.map((t) => (
          <View key={t.id} className="card thread-link" data-thread-id={t.id} onClick={() => go(`/pages/thread/index?id=${t.id}`)}>
            <Text className="card-title">{t.other_firm?.name}</Text>
            <Text className="muted small ellipsis">{t.last_message?.preview ?? t.title}</Text>
          </View>
        ))}
        <View className="row gap">
          <Button className="btn btn-ghost" onClick={() => go(`/pages/listing/index?id=${listing.id}`)}>
            查看匹配
          </Button>
          <Button className="btn btn-ghost" onClick={() => Taro.switchTab({ url: '/pages/home/index' })}>
            返回首页
          </Button>
        </View>
      </View>
    )
  }

  return (
    <View className="page page-help" id="help">
      <Banner kind="info">停产、断料、缺人？选择您需要的帮助，社区工作人员会立即收到并为您对接园区企业。</Banner>
      <View className="needs">
        {NEEDS.map((n) => (
          <View key={n.key} className={`need${need === n.key ? ' need-on' : ''}`} data-need={n.key} onClick={() => setNeed(n.key)}>
            {n.label}
          </View>
        ))}
      </View>
      <View className="card form">
        <Text className="field-label">补充说明（可不填）</Text>
        <Textarea className="field-input field-textarea" value={note} maxlength={2000} placeholder="如：一台注塑机液压故障，订单明早交货" onInput={(e) => setNote(e.detail.value)} />
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}
      <Button className="btn btn-sos btn-block" id="help-send" disabled={!need || busy} loading={busy} onClick={send}>
        立即求助
      </Button>
    </View>
  )
}
