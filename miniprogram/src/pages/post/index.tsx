import { useMemo, useState } from 'react'
import Taro, { useLoad, useRouter } from '@tarojs/taro'
import { Button, Switch, Text, View } from '@tarojs/components'
import { alertRequest, api } from '../../lib/platform'
import { AlertAsker } from '../../lib/alerts'
import { ApiError } from '../../lib/api'
import { loadFirm, requireSignIn } from '../../lib/session'
import { ATTRIBUTES, KINDS, Kind, PRICE_UNITS, QUANTITY_UNITS, SIDES, Side } from '../../lib/kinds'
import { Draft, FieldErrors, buildListing, draftFromListing, emptyDraft, patchBody } from '../../lib/validate'
import type { Listing } from '../../lib/types'
import { Banner, Chips, DateField, Field } from '../../components/ui'

/** Brings the first marked field into view (after the errors render). */
function showFirstError() {
  setTimeout(() => {
    Taro.pageScrollTo({ selector: '#post-form .field-invalid', offsetTop: -60, duration: 0 }).catch(() => undefined)
  }, 30)
}

export default function Post() {
  const router = useRouter()
  const editId = router.params.id
  const [draft, setDraft] = useState<Draft>(() =>
    emptyDraft((router.params.side as Side) || 'request', (router.params.kind as Kind) || 'equipment'),
  )
  const [errors, setErrors] = useState<FieldErrors>({})
  const [error, setError] = useState('')
  const [busy, setBusy] = useState(false)
  const [address, setAddress] = useState('')
  const [version, setVersion] = useState<number | null>(null)
  const alerts = useMemo(() => new AlertAsker(api, alertRequest), [])

  useLoad(() => {
    if (!requireSignIn()) return
    void alerts.load()
    loadFirm()
      .then((f) => setAddress(f?.address ?? ''))
      .catch(() => undefined)
    if (editId) {
      api
        .get<Listing>(`/api/v1/listings/${editId}`)
        .then((l) => {
          setDraft(draftFromListing(l))
          setVersion(l.version)
        })
        .catch((e) => setError(e instanceof ApiError ? e.userMessage : String(e)))
    }
  })

  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setDraft((d) => ({ ...d, [k]: v }))
    const path =
      k === 'quantityAmount'
        ? 'quantity.amount'
        : k === 'priceAmount'
          ? 'price.amount'
          : k === 'availableUntil'
            ? 'available_until'
            : k === 'quotesCloseOn'
              ? 'call_for_quotes.closes_at'
              : k === 'callForQuotes'
                ? 'call_for_quotes'
                : k
    if (errors[path as string]) setErrors((e) => ({ ...e, [path as string]: '' }))
  }
  const setAttr = (key: string, v: string | boolean) => {
    setDraft((d) => ({ ...d, attributes: { ...d.attributes, [key]: v } }))
    if (errors[`attributes.${key}`]) setErrors((e) => ({ ...e, [`attributes.${key}`]: '' }))
  }

  const submit = async () => {
    const { body, errors: found } = buildListing(draft)
    setErrors(found)
    setError('')
    if (Object.keys(found).length) {
      setError('请检查标红的内容')
      showFirstError()
      return
    }
    // Straight from the tap, as WeChat requires: alerts of matches (and of
    // the community's help for an urgent request) for a new listing.
    if (!editId) void alerts.ask(draft.side === 'request' && draft.urgency !== 'normal' ? ['case', 'match'] : ['match'])
    setBusy(true)
    try {
      const saved = editId
        ? await api.patch<Listing>(`/api/v1/listings/${editId}`, patchBody(body))
        : await api.post<Listing>('/api/v1/listings', body, { idempotent: true })
      Taro.showToast({ title: editId ? '已保存' : '已发布', icon: 'success' })
      if (editId) void Taro.navigateBack()
      else void Taro.redirectTo({ url: `/pages/listing/index?id=${saved.id}` })
    } catch (e) {
      if (e instanceof ApiError) {
        setErrors(e.fields)
        setError(e.userMessage)
        if (Object.keys(e.fields).length) showFirstError()
      } else setError(String(e))
    } finally {
      setBusy(false)
    }
  }

  const k = draft.kind
  const attrs = ATTRIBUTES[k]
  return (
    <View className="page page-post" id="post-form" data-version={version ?? ''}>
      <View className="card form">
        {editId ? null : (
          <>
            <Text className="field-label">类型</Text>
            <Chips name="side" options={SIDES} value={draft.side} onChange={(v) => set('side', v)} />
            <Text className="field-label">类别</Text>
            <Chips
              name="kind"
              options={KINDS.map((x) => ({ value: x.value, label: x.label }))}
              value={draft.kind}
              onChange={(v) => setDraft((d) => ({ ...d, kind: v, attributes: {}, quantityUnit: '', priceUnit: '' }))}
            />
            <Text className="muted small">{KINDS.find((x) => x.value === k)?.hint}</Text>
          </>
        )}
        <Field name="title" label="标题" value={draft.title} onInput={(v) => set('title', v)} error={errors.title} placeholder={draft.side === 'request' ? '如：急需 300 吨注塑机夜班机时' : '如：380T 注塑机夜班机时共享'} maxlength={100} />
        <Field name="description" label="说明" value={draft.description} onInput={(v) => set('description', v)} error={errors.description} multiline placeholder="规格、时间、交付方式等" />
      </View>

      <View className="card form">
        <Text className="card-title">规格</Text>
        {attrs.map((a) =>
          a.type === 'select' ? (
            <View key={a.key} className={`field field-attributes-${a.key}${errors[`attributes.${a.key}`] ? ' field-invalid' : ''}`}>
              <Text className="field-label">{a.label}</Text>
              <Chips name={a.key} small options={(a.options ?? []).map((o) => ({ value: o, label: o }))} value={String(draft.attributes[a.key] ?? '')} onChange={(v) => setAttr(a.key, v)} />
              {errors[`attributes.${a.key}`] ? <Text className="field-error">{errors[`attributes.${a.key}`]}</Text> : null}
            </View>
          ) : a.type === 'bool' ? (
            <View key={a.key} className={`field field-row-inline field-attributes-${a.key}`}>
              <Text className="field-label">{a.label}</Text>
              <Switch checked={draft.attributes[a.key] === true} color="#0b6e4f" onChange={(e) => setAttr(a.key, e.detail.value)} />
            </View>
          ) : a.type === 'date' ? (
            <DateField key={a.key} name={`attributes.${a.key}`} label={a.label} value={String(draft.attributes[a.key] ?? '')} onChange={(v) => setAttr(a.key, v)} error={errors[`attributes.${a.key}`]} />
          ) : (
            <Field
              key={a.key}
              name={`attributes.${a.key}`}
              label={a.label}
              value={String(draft.attributes[a.key] ?? '')}
              onInput={(v) => setAttr(a.key, v)}
              error={errors[`attributes.${a.key}`]}
              type={a.type === 'number' ? 'digit' : a.type === 'int' ? 'number' : 'text'}
              placeholder={a.placeholder}
              suffix={a.unit ? <Text className="unit">{a.unit}</Text> : undefined}
            />
          ),
        )}
      </View>

      <View className="card form">
        <Text className="card-title">数量与价格</Text>
        <Field name="quantity.amount" label="数量" value={draft.quantityAmount} onInput={(v) => set('quantityAmount', v)} error={errors['quantity.amount'] || errors['quantity.unit']} type="digit" />
        <Chips name="quantity-unit" small options={QUANTITY_UNITS[k].map((u) => ({ value: u, label: u }))} value={draft.quantityUnit} onChange={(v) => set('quantityUnit', v)} />
        <Field name="price.amount" label={draft.side === 'request' ? '预算' : '价格'} value={draft.priceAmount} onInput={(v) => set('priceAmount', v)} error={errors['price.amount'] || errors['price.unit']} type="digit" />
        <Chips name="price-unit" small options={PRICE_UNITS[k].map((u) => ({ value: u, label: u }))} value={draft.priceUnit} onChange={(v) => set('priceUnit', v)} />
      </View>

      <View className="card form">
        <Text className="card-title">时间与地点</Text>
        <DateField name="available_from" label={draft.side === 'request' ? '需要开始' : '可用开始'} value={draft.availableFrom} onChange={(v) => set('availableFrom', v)} error={errors.available_from} />
        <DateField name="available_until" label="截止" value={draft.availableUntil} onChange={(v) => set('availableUntil', v)} error={errors.available_until} />
        <Text className="muted small">地点：{address ? `默认为企业地址（${address}）` : '默认为企业地址'}</Text>
        {draft.side === 'request' ? (
          <>
            <Text className="field-label">紧急程度</Text>
            <Chips
              name="urgency"
              options={[
                { value: 'normal', label: '普通' },
                { value: 'urgent', label: '加急' },
                { value: 'emergency', label: '紧急（停产）' },
              ]}
              value={draft.urgency}
              onChange={(v) => set('urgency', v)}
            />
            {draft.urgency !== 'normal' ? <Text className="muted small">加急与紧急需求会进入社区工作人员的处理队列。</Text> : null}
            <View className={`field field-row-inline field-call_for_quotes${errors.call_for_quotes ? ' field-invalid' : ''}`}>
              <Text className="field-label">询价（收集多家报价后再选）</Text>
              <Switch id="call-for-quotes" checked={draft.callForQuotes} color="#0b6e4f" onChange={(e) => set('callForQuotes', e.detail.value)} />
            </View>
            {errors.call_for_quotes ? <Text className="field-error">{errors.call_for_quotes}</Text> : null}
            {draft.callForQuotes ? (
              <DateField
                name="call_for_quotes.closes_at"
                label="报价截止（不填则一直收）"
                value={draft.quotesCloseOn}
                onChange={(v) => set('quotesCloseOn', v)}
                error={errors['call_for_quotes.closes_at']}
              />
            ) : null}
          </>
        ) : null}
      </View>

      {error ? <Banner kind="error">{error}</Banner> : null}
      <View className="bottom-bar">
        <Button className="btn btn-primary btn-block" id="post-submit" loading={busy} disabled={busy} onClick={submit}>
          {editId ? '保存修改' : '发布'}
        </Button>
      </View>
    </View>
  )
}
