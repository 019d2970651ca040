import { useState } from 'react'
import Taro, { useDidShow, usePullDownRefresh } from '@tarojs/taro'
import { Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadMe, myFirmId, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { ago, topReasons } from '../../lib/format'
import { KIND_LABEL, SIDE_LABEL, URGENCY_LABEL } from '../../lib/kinds'
import type { Listing, Me, MatchRecord, Page, Thread } from '../../lib/types'
import { Badge, Banner, Empty, Reasons, ScoreBar, Section } from '../../components/ui'

interface HomeData {
  me: Me
  matches: MatchRecord[]
  listings: Listing[]
  counts: Record<string, number>
  unread: number
  unreadNotes: number
  threads: Thread[]
}

export default function Home() {
  const [d, setD] = useState<HomeData | null>(null)
  const [error, setError] = useState('')

  const load = async () => {
    if (!requireSignIn()) return
    try {
      const me = await loadMe()
      const [records, mine, threads, notes] = await Promise.all([
        api.get<Page<MatchRecord>>('/api/v1/matches', { limit: 100 }),
        api.get<Page<Listing>>('/api/v1/listings', { mine: true, status: 'open', limit: 50 }),
        api.get<Page<Thread>>('/api/v1/threads', { limit: 50 }),
        api.get<{ unread_count: number }>('/api/v1/notifications', { unread: true, limit: 1 }),
      ])
      const counts: Record<string, number> = {}
      for (const r of records.items) {
        if (r.status === 'declined' || r.status === 'expired') continue
        for (const id of [r.request.id, r.offer.id]) counts[id] = (counts[id] ?? 0) + 1
      }
      const fresh = records.items.filter((r) => r.status === 'suggested').sort((a, b) => b.score - a.score)
      setD({
        me,
        matches: fresh.slice(0, 5),
        listings: mine.items,
        counts,
        unread: threads.items.reduce((n, t) => n + t.unread, 0),
        unreadNotes: notes.unread_count,
        threads: threads.items,
      })
      setError('')
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }

  useDidShow(() => void load())
  usePullDownRefresh(() => void load().finally(() => Taro.stopPullDownRefresh()))
  useLiveReload(['match.created', 'match.status_changed', 'message.created', 'thread.created', 'thread.updated', 'thread.read', 'notification', 'listing.created', 'listing.closed'], () => void load())

  const firmId = myFirmId()
  const urgent = d?.listings.filter((l) => l.urgency !== 'normal') ?? []

  return (
    <View className="page page-home" id="home">
      <View className="hero">
        <View>
          <Text className="hero-firm">{d?.me.firm?.name ?? '智企连'}</Text>
          {d && d.me.firm && !d.me.firm.verified ? <Text className="tag tag-warn">待社区认证</Text> : null}
        </View>
        <View className="hero-bell" id="go-notifications" onClick={() => go('/pages/notifications/index')}>
          <Text>通知</Text>
          <Badge n={d?.unreadNotes ?? 0} />
        </View>
      </View>
      <View className="actions-grid">
        <View className="action" id="post-request" onClick={() => go('/pages/post/index?side=request')}>
          <Text className="action-icon">求</Text>
          <Text>发布需求</Text>
        </View>
        <View className="action" id="post-offer" onClick={() => go('/pages/post/index?side=offer')}>
          <Text className="action-icon">供</Text>
          <Text>发布供应</Text>
        </View>
        <View className="action" id="go-chat" onClick={() => go('/pages/chat/index')}>
          <Text className="action-icon">聊</Text>
          <Text>消息</Text>
          <Badge n={d?.unread ?? 0} />
        </View>
        <View className="action action-sos" id="go-help" onClick={() => go('/pages/help/index')}>
          <Text className="action-icon">急</Text>
          <Text>一键求助</Text>
        </View>
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}

      {urgent.length ? (
        <Section title="我的紧急需求">
          {urgent.map((l) => {
            const brokered = d!.threads.filter((t) => t.subject.match?.request?.id === l.id && t.staff.length)
            const staff = brokered[0]?.staff[0]
            return (
              <View key={l.id} className="card urgent-card" data-listing-id={l.id} onClick={() => go(`/pages/help/index?id=${l.id}`)}>
                <View className="row">
                  <Text className={`tag tag-${l.urgency}`}>{URGENCY_LABEL[l.urgency]}</Text>
                  <Text className="card-title ellipsis">{l.title}</Text>
                </View>
                <Text className="muted small">
                  {staff
                    ? `${staff.name} 已为您牵线 ${brokered.length} 家 · ${ago(staff.joined_at)}`
                    : `已提交社区，等待工作人员处理 · ${ago(l.created_at)}`}
                </Text>
              </View>
            )
          })}
        </Section>
      ) : null}

      <Section title="新的匹配" extra={<Text className="muted small">按匹配度排序</Text>}>
        {d && !d.matches.length ? <Empty>发布需求或供应后，系统会自动为您匹配园区内的企业。</Empty> : null}
        {d?.matches.map((m) => {
          const mineIsRequest = m.request.firm_id === firmId
          const mine = mineIsRequest ? m.request : m.offer
          const other = mineIsRequest ? m.offer : m.request
          return (
            <View key={m.id} className="card match-card" data-match-id={m.id} onClick={() => go(`/pages/listing/index?id=${mine.id}`)}>
              <Text className="card-title ellipsis">{other.title}</Text>
              <Text className="muted small ellipsis">对应我的：{mine.title}</Text>
              <ScoreBar score={m.score} />
              <Reasons factors={topReasons(m.factors)} />
            </View>
          )
        })}
      </Section>

      <Section title="我发布的" extra={<Text className="link small" onClick={() => go('/pages/post/index')}>+ 发布</Text>}>
        {d && !d.listings.length ? <Empty>还没有发布。</Empty> : null}
        {d?.listings.map((l) => (
          <View key={l.id} className="card listing-card" data-listing-id={l.id} onClick={() => go(`/pages/listing/index?id=${l.id}`)}>
            <View className="row">
              <Text className={`tag tag-${l.side}`}>{SIDE_LABEL[l.side]}</Text>
              <Text className="tag">{KIND_LABEL[l.kind]}</Text>
              <Text className="card-title ellipsis">{l.title}</Text>
            </View>
            <Text className="muted small">
              {d.counts[l.id] ? `${d.counts[l.id]} 个匹配` : '暂无匹配'} · {ago(l.created_at)}
            </Text>
          </View>
        ))}
      </Section>
    </View>
  )
}
