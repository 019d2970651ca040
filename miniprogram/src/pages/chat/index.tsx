import { useState } from 'react'
import Taro, { useDidShow, usePullDownRefresh } from '@tarojs/taro'
import { Text, View } from '@tarojs/components'
import { api, live } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { ago } from '../../lib/format'
import type { Page, Thread } from '../../lib/types'
import { Badge, Banner, Empty } from '../../components/ui'

export default function Chat() {
  const [threads, setThreads] = useState<Thread[] | null>(null)
  const [error, setError] = useState('')
  const [state, setState] = useState(live.state)

  const load = async () => {
    if (!requireSignIn()) return
    try {
      const r = await api.get<Page<Thread>>('/api/v1/threads', { limit: 50 })
      setThreads(r.items)
      setError('')
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }
  useDidShow(() => {
    void load()
    setState(live.state)
  })
  usePullDownRefresh(() => void load().finally(() => Taro.stopPullDownRefresh()))
  useLiveReload(['thread.created', 'thread.updated', 'message.created', 'thread.read'], () => {
    setState(live.state)
    void load()
  }, 150)

  return (
    <View className="page page-chat" id="threads" data-loaded={threads ? '1' : undefined} data-live={state}>
      {error ? <Banner kind="error">{error}</Banner> : null}
      {threads && !threads.length ? <Empty>还没有对话。在匹配结果中点“联系”即可发起。</Empty> : null}
      {threads?.map((t) => (
        <View key={t.id} className={`thread-row${t.unread ? ' thread-unread' : ''}`} data-thread-id={t.id} onClick={() => go(`/pages/thread/index?id=${t.id}`)}>
          <View className="avatar">{(t.other_firm?.name ?? '社').slice(0, 1)}</View>
          <View className="thread-main">
            <View className="row between">
              <Text className="thread-firm ellipsis">{t.other_firm?.name ?? t.firms.map((f) => f.name).join(' / ')}</Text>
              <Text className="muted small">{t.last_message ? ago(t.last_message.created_at) : ago(t.created_at)}</Text>
            </View>
            <Text className="thread-title ellipsis">{t.title}</Text>
            <View className="row between">
              <Text className="muted small ellipsis thread-preview">
                {t.last_message
                  ? t.last_message.kind === 'system'
                    ? `[系统] ${t.last_message.preview}`
                    : `${t.last_message.author_name ?? ''}：${t.last_message.preview}`
                  : '尚无消息'}
              </Text>
              <Badge n={t.unread} />
            </View>
            {t.staff.length ? <Text className="tag tag-staff">社区 {t.staff.map((s) => s.name).join('、')} 参与</Text> : null}
          </View>
        </View>
      ))}
    </View>
  )
}
