import { useState } from 'react'
import Taro, { useLoad } from '@tarojs/taro'
import { Button, Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { checkUscc } from '../../lib/uscc'
import { forget } from '../../lib/session'
import { Banner, Chips, Field } from '../../components/ui'

interface Community {
  id: string
  name: string
  district: string
}

export default function Register() {
  const [communities, setCommunities] = useState<Community[]>([])
  const [f, setF] = useState({
    name: '',
    uscc: '',
    community_id: '',
    address: '',
    contact_name: '',
    contact_phone: '',
    login: '',
    password: '',
    display_name: '',
  })
  const [errors, setErrors] = useState<Record<string, string>>({})
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)

  useLoad(() => {
    api
      .request<{ items: Community[] }>('GET', '/api/v1/communities', { anonymous: true })
      .then((r) => {
        setCommunities(r.items)
        if (r.items.length === 1) setF((x) => ({ ...x, community_id: r.items[0].id }))
      })
      .catch((e) => setError(e instanceof ApiError ? e.userMessage : String(e)))
  })

  const set = (k: keyof typeof f) => (v: string) => {
    setF((x) => ({ ...x, [k]: v }))
    if (k === 'uscc') {
      // Checked as typed: silent while it is a good beginning.
      const r = checkUscc(v)
      setErrors((e) => ({ ...e, uscc: r.ok || r.partial ? '' : r.message }))
    } else if (errors[k]) setErrors((e) => ({ ...e, [k]: '' }))
  }

  const usccState = checkUscc(f.uscc)

  const submit = async () => {
    const e: Record<string, string> = {}
    if (f.name.trim().length < 2) e.name = '请填写企业全称'
    if (!usccState.ok) e.uscc = usccState.message
    if (!f.community_id) e.community_id = '请选择所在社区'
    if (f.address.trim().length < 2) e.address = '请填写地址'
    if (!f.contact_name.trim()) e.contact_name = '请填写联系人'
    if (f.contact_phone.trim().length < 5) e.contact_phone = '请填写联系电话'
    if (!f.login.trim()) e['admin.login'] = '请填写登录手机号或邮箱'
    if (!f.password) e['admin.password'] = '请设置密码'
    if (!f.display_name.trim()) e['admin.display_name'] = '请填写您的姓名'
    setErrors(e)
    if (Object.values(e).some(Boolean)) return
    setBusy(true)
    setError('')
    try {
      await api.request('POST', '/api/v1/firms/register', {
        anonymous: true,
        idempotent: true,
        body: {
          name: f.name.trim(),
          uscc: f.uscc.trim().toUpperCase(),
          community_id: f.community_id,
          address: f.address.trim(),
          contact_name: f.contact_name.trim(),
          contact_phone: f.contact_phone.trim(),
          admin: { login: f.login.trim(), password: f.password, display_name: f.display_name.trim() },
        },
      })
      await api.login(f.login.trim(), f.password)
      forget()
      Taro.showToast({ title: '入驻成功，待社区认证', icon: 'none' })
      void Taro.switchTab({ url: '/pages/home/index' })
    } catch (err) {
      if (err instanceof ApiError) {
        setErrors(err.fields)
        setError(err.userMessage)
      } else setError(String(err))
    } finally {
      setBusy(false)
    }
  }

  return (
    <View className="page page-register">
      <View className="card form" id="register-form">
        <Text className="card-title">企业信息</Text>
        <Field name="name" label="企业名称" value={f.name} onInput={set('name')} error={errors.name} placeholder="与营业执照一致" />
        <Field
          name="uscc"
          label="统一社会信用代码"
          value={f.uscc}
          onInput={set('uscc')}
          error={errors.uscc}
          maxlength={18}
          hint={usccState.ok ? '✓ 校验通过' : `${f.uscc.trim().length}/18`}
        />
        <View className={`field field-community_id${errors.community_id ? ' field-invalid' : ''}`}>
          <Text className="field-label">所在工业社区</Text>
          <Chips
            name="community"
            options={communities.map((c) => ({ value: c.id, label: c.name }))}
            value={f.community_id}
            onChange={set('community_id')}
          />
          {errors.community_id ? <Text className="field-error">{errors.community_id}</Text> : null}
        </View>
        <Field name="address" label="地址" value={f.address} onInput={set('address')} error={errors.address} />
        <Field name="contact_name" label="联系人" value={f.contact_name} onInput={set('contact_name')} error={errors.contact_name} />
        <Field name="contact_phone" label="联系电话" value={f.contact_phone} onInput={set('contact_phone')} error={errors.contact_phone} type="number" />
        <Text className="card-title">管理员账号</Text>
        <Field name="admin.display_name" label="您的姓名" value={f.display_name} onInput={set('display_name')} error={errors['admin.display_name']} />
        <Field name="admin.login" label="登录手机号或邮箱" value={f.login} onInput={set('login')} error={errors['admin.login']} />
        <Field name="admin.password" label="密码" value={f.password} onInput={set('password')} error={errors['admin.password']} password hint="至少 8 位，不能全为数字" />
        {error ? <Banner kind="error">{error}</Banner> : null}
        <Button className="btn btn-primary btn-block" id="register-submit" loading={busy} disabled={busy} onClick={submit}>
          提交入驻
        </Button>
        <Text className="muted small">提交后即可登录发布；社区工作人员认证后，其他企业才能看到您的信息。</Text>
      </View>
    </View>
  )
}
