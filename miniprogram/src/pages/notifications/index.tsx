import { useState } from 'react'
import Taro, { useDidShow, useReachBottom, useRouter } from '@tarojs/taro'
import { Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadMe, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { ago } from '../../lib/format'
import type { MatchRecord, Notification } from '../../lib/types'
import { Banner, Empty } from '../../components/ui'

interface NotePage {
  items: Notification[]
  next_cursor: string | null
  unread_count: number
}

export default function Notifications() {
  const [items, setItems] = useState<Notification[] | null>(null)
  const [cursor, setCursor] = useState<string | null>(null)
  const [unread, setUnread] = useState(0)
  const [error, setError] = useState('')
  // A subscribe message opens this page with the notification to follow.
  const router = useRouter()
  const [toOpen, setToOpen] = useState(router.params.open ?? '')

  const load = async (more = false) => {
    if (!requireSignIn()) return
    try {
      const r = await api.get<NotePage>('/api/v1/notifications', { limit: 30, cursor: more ? cursor : undefined })
      setItems((old) => (more && old ? [...old, ...r.items] : r.items))
      setCursor(r.next_cursor)
      setUnread(r.unread_count)
      if (!more && toOpen) {
        setToOpen('')
        const n = r.items.find((i) => i.id === toOpen)
        if (n) void open(n)
      }
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }
  useDidShow(() => void load())
  useReachBottom(() => cursor && void load(true))
  useLiveReload(['notification', 'notification.read'], () => void load())

  /** Where a notification leads: the thread, or my listing of the match. */
  const open = async (n: Notification) => {
    if (!n.read_at) api.post(`/api/v1/notifications/${n.id}/read`).catch(() => undefined)
    try {
      if (n.thread_id || n.subject.type === 'thread') return go(`/pages/thread/index?id=${n.thread_id ?? n.subject.id}`)
      if (n.subject.type === 'match') {
        const [me, m] = await Promise.all([loadMe(), api.get<MatchRecord>(`/api/v1/matches/${n.subject.id}`)])
        const mine = m.request.firm_id === me.firm?.id ? m.request : m.offer
        return go(`/pages/listing/index?id=${mine.id}`)
      }
      if (n.subject.type === 'agreement') return go(`/pages/deal/index?id=${n.subject.id}`)
      if (n.subject.type === 'quote') {
        const q = await api.get<{ request_id: string }>(`/api/v1/quotes/${n.subject.id}`)
        return go(`/pages/quotes/index?listing=${q.request_id}`)
      }
      if (n.subject.type === 'listing') return go(`/pages/listing/index?id=${n.subject.id}`)
      if (n.subject.type === 'firm') return go('/pages/me/index')
      return go('/pages/home/index')
    } catch (e) {
      Taro.showToast({ title: e instanceof ApiError ? e.userMessage : String(e), icon: 'none' })
    }
  }

  const readAll = async () => {
    await api.post('/api/v1/notifications/read-all').catch(() => undefined)
    void load()
  }

  return (
    <View className="page page-notifications" id="notifications">
      <View className="row between pad">
        <Text className="muted small">{unread} 条未读</Text>
        {unread ? (
          <Text className="link small" onClick={readAll}>
            全部已读
          </Text>
        ) : null}
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}
      {items && !items.length ? <Empty>暂无通知</Empty> : null}
      {items?.map((n) => (
        <View key={n.id} className={`card note${n.read_at ? '' : ' note-unread'}`} data-notification-id={n.id} onClick={() => open(n)}>
          <View className="row between">
            <Text className="card-title">{n.title}</Text>
            <Text className="muted small">{ago(n.created_at)}</Text>
          </View>
          <Text className="note-body">
            {n.body}
            {n.count > 1 ? `（${n.count} 条）` : ''}
          </Text>
        </View>
      ))}
    </View>
  )
}
