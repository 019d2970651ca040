import { useEffect, useRef, useState } from 'react'
import Taro, { useDidHide, useDidShow, useRouter } from '@tarojs/taro'
import { Button, Text, Textarea, View } from '@tarojs/components'
import { api, ensureLive, live } from '../../lib/platform'
import { ApiError, uniqueId } from '../../lib/api'
import { go, loadMe, requireSignIn } from '../../lib/session'
import { clock } from '../../lib/format'
import type { Message, Thread } from '../../lib/types'
import { Banner } from '../../components/ui'

interface Pending {
  client_msg_id: string
  text: string
  failed: boolean
}

export default function ThreadPage() {
  const id = useRouter().params.id ?? ''
  const [thread, setThread] = useState<Thread | null>(null)
  const [msgs, setMsgs] = useState<Message[]>([])
  const [pending, setPending] = useState<Pending[]>([])
  const [text, setText] = useState('')
  const [error, setError] = useState('')
  const [me, setMe] = useState('')
  const [loaded, setLoaded] = useState(false)
  const shown = useRef(true)
  const readSent = useRef(0)
  // Where my read marker stood when I opened the thread: "new messages" start after it.
  const [readAtOpen, setReadAtOpen] = useState<number | null>(null)

  const merge = (incoming: Message[]) => {
    setMsgs((old) => {
      const bySeq = new Map(old.map((m) => [m.seq, m]))
      for (const m of incoming) bySeq.set(m.seq, m)
      return [...bySeq.values()].sort((a, b) => a.seq - b.seq)
    })
    const ids = new Set(incoming.map((m) => m.client_msg_id).filter(Boolean))
    setPending((p) => p.filter((x) => !ids.has(x.client_msg_id)))
  }

  const markRead = (seq: number) => {
    if (!shown.current || seq <= readSent.current) return
    readSent.current = seq
    api.post(`/api/v1/threads/${id}/read`, { seq }).catch(() => undefined)
  }

  const load = async () => {
    if (!requireSignIn()) return
    try {
      const [m, t, page] = await Promise.all([
        loadMe(),
        api.get<Thread>(`/api/v1/threads/${id}`),
        api.get<{ items: Message[]; last_seq: number }>(`/api/v1/threads/${id}/messages`, { limit: 100 }),
      ])
      setMe(m.user.id)
      setThread(t)
      setReadAtOpen((r) => (r === null ? t.last_read_seq : r))
      merge(page.items)
      setLoaded(true)
      markRead(page.last_seq)
      setError('')
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }

  useDidShow(() => {
    shown.current = true
    ensureLive()
    void load()
  })
  useDidHide(() => {
    shown.current = false
  })

  useEffect(() => {
    const offs = [
      live.on('message.created', (d) => {
        const m = d as Message
        if (m.thread_id !== id) return
        merge([m])
        markRead(m.seq)
      }),
      live.on('thread.updated', (d) => {
        const u = d as { thread_id: string }
        if (u.thread_id === id) api.get<Thread>(`/api/v1/threads/${id}`).then(setThread).catch(() => undefined)
      }),
      // Back after a drop: catch up on what the stream may have missed.
      live.on('ready', () => void load()),
    ]
    return () => offs.forEach((off) => off())
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [id])

  // The newest message stays in view, above the composer.
  useEffect(() => {
    if (!shown.current) return
    const t = setTimeout(() => Taro.pageScrollTo({ scrollTop: 1e6, duration: 0 }).catch(() => undefined), 30)
    return () => clearTimeout(t)
  }, [msgs.length, pending.length])

  const send = async (p: Pending) => {
    try {
      const m = await api.post<Message>(`/api/v1/threads/${id}/messages`, { client_msg_id: p.client_msg_id, text: p.text })
      merge([m])
    } catch (e) {
      setPending((list) => list.map((x) => (x.client_msg_id === p.client_msg_id ? { ...x, failed: true } : x)))
      if (e instanceof ApiError && e.code === 'thread_closed') setError('对话已关闭')
    }
  }

  const submit = () => {
    const t = text.trim()
    if (!t) return
    // The id is chosen here and kept for retries: the server stores a message once per id.
    const p: Pending = { client_msg_id: uniqueId('m'), text: t, failed: false }
    setPending((list) => [...list, p])
    setText('')
    void send(p)
  }

  const retry = (p: Pending) => {
    setPending((list) => list.map((x) => (x.client_msg_id === p.client_msg_id ? { ...x, failed: false } : x)))
    void send(p)
  }

  const subjectListing = thread?.subject.listing?.id ?? thread?.subject.match?.request?.id
  return (
    <View className="page page-thread" id="thread" data-thread-id={id} data-loaded={loaded ? '1' : undefined}>
      <View className="thread-head">
        <Text className="thread-firm">{thread?.other_firm?.name ?? ''}</Text>
        <Text
          className="muted small ellipsis link-plain"
          onClick={() => subjectListing && go(`/pages/listing/index?id=${subjectListing}`)}
        >
          关于：{thread?.title ?? ''}
        </Text>
        {thread?.subject.match && thread.my_role === 'firm' ? (
          <Text className="link small" id="thread-deal" onClick={() => go(`/pages/deal/index?match=${thread.subject.match!.id}`)}>
            {thread.subject.match.status === 'agreed' ? '已成交 · 查看成交条款与联系方式 ›' : '成交条款 ›'}
          </Text>
        ) : null}
        {thread?.staff.length ? <Text className="tag tag-staff">社区 {thread.staff.map((s) => s.name).join('、')} 参与</Text> : null}
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}
      <View className="messages">
        {msgs.map((m) => [
          readAtOpen !== null && readAtOpen > 0 && m.seq === readAtOpen + 1 ? (
            <View key={`new-${m.seq}`} className="read-marker" data-last-read={readAtOpen}>
              <Text>以下为新消息</Text>
            </View>
          ) : null,
          m.kind === 'system' ? (
            <View key={m.seq} id={`m-${m.seq}`} className="msg msg-system" data-seq={m.seq}>
              <Text className="msg-text">{m.text}</Text>
            </View>
          ) : (
            <View key={m.seq} id={`m-${m.seq}`} className={`msg ${m.author?.user_id === me ? 'msg-mine' : 'msg-theirs'}${m.author?.role === 'staff' ? ' msg-staff' : ''}`} data-seq={m.seq}>
              {m.author?.user_id !== me ? (
                <Text className="msg-author">
                  {m.author?.name}
                  {m.author?.role === 'staff' ? '（社区）' : ''}
                </Text>
              ) : null}
              <View className="bubble">
                <Text className="msg-text">{m.text}</Text>
              </View>
              <Text className="msg-time">{clock(m.created_at)}</Text>
            </View>
          ),
        ])}
        {pending.map((p) => (
          <View key={p.client_msg_id} id={`p-${p.client_msg_id}`} className="msg msg-mine msg-pending">
            <View className="bubble">
              <Text className="msg-text">{p.text}</Text>
            </View>
            {p.failed ? (
              <Text className="msg-failed" onClick={() => retry(p)}>
                发送失败，点此重试
              </Text>
            ) : (
              <Text className="msg-time">发送中…</Text>
            )}
          </View>
        ))}
      </View>
      <View className="composer">
        <Textarea className="composer-input" value={text} autoHeight maxlength={4000} placeholder="输入消息" onInput={(e) => setText(e.detail.value)} disabled={thread?.status === 'closed'} />
        <Button className="btn btn-primary composer-send" id="send" disabled={!text.trim() || thread?.status === 'closed'} onClick={submit}>
          发送
        </Button>
      </View>
    </View>
  )
}
