import { useState } from 'react'
import Taro, { useDidShow } from '@tarojs/taro'
import { Button, Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadFirm, loadMe, requireSignIn, signOut } from '../../lib/session'
import type { Firm, Me } from '../../lib/types'
import { Banner, Field } from '../../components/ui'

export default function MePage() {
  const [me, setMe] = useState<Me | null>(null)
  const [firm, setFirm] = useState<Firm | null>(null)
  const [error, setError] = useState('')
  const [adding, setAdding] = useState(false)
  const [m, setM] = useState({ display_name: '', login: '', password: '' })
  const [errs, setErrs] = useState<Record<string, string>>({})

  useDidShow(() => {
    if (!requireSignIn()) return
    Promise.all([loadMe(true), loadFirm(true)])
      .then(([a, b]) => {
        setMe(a)
        setFirm(b)
      })
      .catch((e) => setError(e instanceof ApiError ? e.userMessage : String(e)))
  })

  const addColleague = async () => {
    if (!firm) return
    try {
      await api.post(`/api/v1/firms/${firm.id}/members`, { ...m, role: 'member' }, { idempotent: true })
      Taro.showToast({ title: '已添加同事', icon: 'success' })
      setAdding(false)
      setM({ display_name: '', login: '', password: '' })
      setErrs({})
    } catch (e) {
      if (e instanceof ApiError) {
        setErrs(e.fields)
        if (!Object.keys(e.fields).length) Taro.showToast({ title: e.userMessage, icon: 'none' })
      }
    }
  }

  return (
    <View className="page page-me" id="me">
      {error ? <Banner kind="error">{error}</Banner> : null}
      <View className="card">
        <Text className="card-title">{me?.user.display_name ?? ''}</Text>
        <Text className="muted small">{me?.user.phone ?? me?.user.email ?? ''}</Text>
        <Text className="muted small">{me?.firm?.role === 'admin' ? '企业管理员' : '企业成员'}</Text>
      </View>
      {firm ? (
        <View className="card" id="my-firm">
          <View className="row between">
            <Text className="card-title">{firm.name}</Text>
            <Text className={`tag ${firm.verified ? 'tag-ok' : 'tag-warn'}`}>{firm.verified ? '已认证' : '待社区认证'}</Text>
          </View>
          <View className="kv">
            <View className="kv-row">
              <Text className="kv-k">信用代码</Text>
              <Text className="kv-v">{firm.uscc}</Text>
            </View>
            <View className="kv-row">
              <Text className="kv-k">地址</Text>
              <Text className="kv-v">{firm.address}</Text>
            </View>
            <View className="kv-row">
              <Text className="kv-k">联系人</Text>
              <Text className="kv-v">
                {firm.contact_name} {firm.contact_phone}
              </Text>
            </View>
          </View>
        </View>
      ) : null}
      <View className="card menu">
        <View className="menu-row" onClick={() => go('/pages/notifications/index')}>
          <Text>通知</Text>
          <Text className="muted">›</Text>
        </View>
        <View className="menu-row" onClick={() => go('/pages/help/index')}>
          <Text>一键求助</Text>
          <Text className="muted">›</Text>
        </View>
        {me?.firm?.role === 'admin' ? (
          <View className="menu-row" onClick={() => setAdding(!adding)}>
            <Text>添加同事</Text>
            <Text className="muted">{adding ? '收起' : '›'}</Text>
          </View>
        ) : null}
      </View>
      {adding ? (
        <View className="card form">
          <Field name="display_name" label="姓名" value={m.display_name} onInput={(v) => setM({ ...m, display_name: v })} error={errs.display_name} />
          <Field name="login" label="手机号或邮箱" value={m.login} onInput={(v) => setM({ ...m, login: v })} error={errs.login} />
          <Field name="password" label="初始密码" value={m.password} onInput={(v) => setM({ ...m, password: v })} error={errs.password} password />
          <Button className="btn btn-primary btn-block" onClick={addColleague}>
            添加
          </Button>
        </View>
      ) : null}
      <Button className="btn btn-ghost btn-block" id="sign-out" onClick={() => void signOut()}>
        退出登录
      </Button>
    </View>
  )
}
