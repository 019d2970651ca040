import { useState } from 'react'
import Taro, { useLoad } from '@tarojs/taro'
import { Button, Text, View } from '@tarojs/components'
import { api, live } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { forget, loadMe, takeNotice } from '../../lib/session'
import { Banner, Field } from '../../components/ui'

const WEAPP = process.env.TARO_ENV === 'weapp'

function wxCode(): Promise<string> {
  return Taro.login().then((r) => r.code)
}

export default function Login() {
  const [login, setLogin] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState('')
  const [fields, setFields] = useState<Record<string, string>>({})
  const [busy, setBusy] = useState(false)
  const [notice, setNotice] = useState('')
  // Mini-program: this WeChat is not bound to an account yet.
  const [binding, setBinding] = useState(false)

  const enter = async () => {
    forget()
    live.reset()
    const me = await loadMe(true)
    if (!me.firm) {
      setError('此账号不属于任何企业。社区工作人员请使用电脑端管理台。')
      await api.logout()
      return
    }
    void Taro.switchTab({ url: '/pages/home/index' })
  }

  useLoad(() => {
    setNotice(takeNotice())
    if (api.signedIn()) {
      void enter().catch(() => undefined)
      return
    }
    if (WEAPP) {
      setBusy(true)
      wxCode()
        .then((code) => api.wechatLogin(code))
        .then(enter)
        .catch((e) => {
          if (e instanceof ApiError && e.code === 'wechat_binding_required') setBinding(true)
          else if (e instanceof ApiError) setError(e.userMessage)
        })
        .finally(() => setBusy(false))
    }
  })

  const submit = async () => {
    setError('')
    const f: Record<string, string> = {}
    if (!login.trim()) f.login = '请输入手机号或邮箱'
    if (!password) f.password = '请输入密码'
    setFields(f)
    if (Object.keys(f).length) return
    setBusy(true)
    try {
      await api.login(login.trim(), password)
      if (WEAPP) {
        // First time on this WeChat: bind it, so next time wx.login alone signs in.
        try {
          await api.wechatLogin(await wxCode(), true)
        } catch (e) {
          if (e instanceof ApiError && e.code === 'wechat_already_bound') {
            Taro.showToast({ title: '该账号已绑定其他微信', icon: 'none' })
          }
        }
      }
      await enter()
    } catch (e) {
      if (e instanceof ApiError) {
        setFields(e.fields)
        setError(e.code === 'invalid_credentials' ? '账号或密码不正确' : e.userMessage)
      } else setError(String(e))
    } finally {
      setBusy(false)
    }
  }

  return (
    <View className="page page-login">
      <View className="brand">
        <Text className="brand-name">智企连</Text>
        <Text className="brand-sub">园区供需对接 · 内循环</Text>
      </View>
      {notice ? <Banner kind="info">{notice}</Banner> : null}
      {binding ? <Banner kind="info">首次在微信中使用：请用账号密码登录一次，之后微信将自动登录。</Banner> : null}
      <View className="card form" id="login-form">
        <Field name="login" label="手机号或邮箱" value={login} onInput={setLogin} error={fields.login} placeholder="13800000001" />
        <Field name="password" label="密码" value={password} onInput={setPassword} error={fields.password} password />
        {error ? <Banner kind="error">{error}</Banner> : null}
        <Button className="btn btn-primary btn-block" id="login-submit" loading={busy} disabled={busy} onClick={submit}>
          登录
        </Button>
      </View>
      <View className="center-link" id="go-register" onClick={() => Taro.navigateTo({ url: '/pages/register/index' })}>
        还没有账号？<Text className="link">企业入驻</Text>
      </View>
    </View>
  )
}
