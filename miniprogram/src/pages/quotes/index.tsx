// 报价: the quotes on a request that calls for quotes (`?listing=<request id>`).
// The requesting firm compares them side by side (total, coverage of its
// quantity, match score, the quoting firm's reputation) and accepts one,
// which proposes its terms as an agreement. Another firm sees only its own
// quote, or quotes from one of its open offers.
import { useState } from 'react'
import Taro, { useDidShow, useRouter } from '@tarojs/taro'
import { Button, Input, Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadMe, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { ago, amount } from '../../lib/format'
import {
  QUOTE_STATUS_LABEL,
  TermsDraft,
  acceptQuote,
  buildTerms,
  compareQuotes,
  declineQuote,
  emptyTerms,
  reputationText,
  requestQuoteRevision,
  share,
  submitQuote,
  withdrawQuote,
  yuan,
} from '../../lib/deals'
import type { Listing, Page, Quote, QuoteComparison } from '../../lib/types'
import { Banner, Chips, DateField, Empty, Field, ScoreBar, Section } from '../../components/ui'
import { TermsFields } from '../../components/terms'

const SORTS = [
  { value: 'total_price', label: '总价低' },
  { value: '-coverage', label: '覆盖多' },
  { value: '-reputation', label: '信誉高' },
  { value: '-score', label: '匹配高' },
  { value: 'created', label: '最早' },
]

function QuoteCard(props: {
  q: Quote
  mine: boolean
  busy: string
  onAccept?: () => void
  onDecline?: () => void
  onWithdraw?: () => void
  onAskRevision?: (message: string) => Promise<boolean>
}) {
  const { q } = props
  const [asking, setAsking] = useState(false)
  const [message, setMessage] = useState('')
  const ask = async () => {
    if (!props.onAskRevision || !message.trim()) return
    if (await props.onAskRevision(message.trim())) {
      setAsking(false)
      setMessage('')
    }
  }
  return (
    <View className={`card quote quote-${q.status}`} data-quote-id={q.id} data-status={q.status}>
      <View className="row between">
        <Text className="card-title quote-firm">{q.firm.name}</Text>
        <Text className={`tag tag-quote-${q.status}`}>{QUOTE_STATUS_LABEL[q.status]}</Text>
      </View>
      <Text className="muted small quote-reputation">{reputationText(q.reputation)}</Text>
      <View className="quote-figures">
        <View className="figure">
          <Text className="figure-num quote-total">{yuan(q.total_price_yuan)}</Text>
          <Text className="figure-label">总价</Text>
        </View>
        <View className="figure">
          <Text className="figure-num quote-coverage">{share(q.coverage)}</Text>
          <Text className="figure-label">覆盖需求</Text>
        </View>
        <View className="figure">
          <Text className="figure-num">{q.reputation.has_history && q.reputation.ratings ? q.reputation.rating.toFixed(1) : '—'}</Text>
          <Text className="figure-label">信誉</Text>
        </View>
      </View>
      {q.match_score !== null ? <ScoreBar score={q.match_score} /> : null}
      <View className="kv">
        <View className="kv-row">
          <Text className="kv-k">数量</Text>
          <Text className="kv-v">{amount(q.quantity)}</Text>
        </View>
        <View className="kv-row">
          <Text className="kv-k">单价</Text>
          <Text className="kv-v">{amount(q.price)}</Text>
        </View>
        {q.available_from || q.available_until ? (
          <View className="kv-row">
            <Text className="kv-k">时间</Text>
            <Text className="kv-v">
              {q.available_from ?? '即日'} 至 {q.available_until ?? '双方约定'}
            </Text>
          </View>
        ) : null}
        {q.place ? (
          <View className="kv-row">
            <Text className="kv-k">地点</Text>
            <Text className="kv-v">{q.place}</Text>
          </View>
        ) : null}
        {q.terms ? (
          <View className="kv-row">
            <Text className="kv-k">说明</Text>
            <Text className="kv-v">{q.terms}</Text>
          </View>
        ) : null}
        {q.valid_until ? (
          <View className="kv-row">
            <Text className="kv-k">有效期至</Text>
            <Text className="kv-v">{q.valid_until.slice(0, 10)}</Text>
          </View>
        ) : null}
      </View>
      {q.decline_reason ? <Text className="muted small">未采纳原因：{q.decline_reason}</Text> : null}
      {q.revision_request ? (
        <Text className="small quote-revision-request">
          {props.mine ? '询价方请您修改：' : '已请对方修改：'}
          {q.revision_request.message}
        </Text>
      ) : null}
      <Text className="muted small">{ago(q.created_at)}报价</Text>
      {q.status === 'submitted' && !props.mine ? (
        <View className="row gap">
          <Button className="btn btn-primary quote-accept" loading={props.busy === `accept-${q.id}`} onClick={props.onAccept}>
            接受报价
          </Button>
          <Button className="btn btn-ghost quote-decline" onClick={props.onDecline}>
            不采纳
          </Button>
          {props.onAskRevision ? (
            <Button className="btn btn-ghost quote-ask-revision" onClick={() => setAsking(!asking)}>
              请修改
            </Button>
          ) : null}
        </View>
      ) : null}
      {asking ? (
        <View className="row gap quote-revision-form">
          <Input
            className="field-input"
            value={message}
            maxlength={500}
            placeholder="例如：单价请降到 8000 元/吨以内"
            onInput={(e) => setMessage(e.detail.value)}
          />
          <Button className="btn btn-primary quote-ask-send" loading={props.busy === `revision-${q.id}`} onClick={ask}>
            发送
          </Button>
        </View>
      ) : null}
      {q.status === 'submitted' && props.mine ? (
        <Button className="btn btn-ghost btn-block quote-withdraw" loading={props.busy === `withdraw-${q.id}`} onClick={props.onWithdraw}>
          撤回报价
        </Button>
      ) : null}
      {q.agreement_id ? (
        <Text className="link small quote-agreement" onClick={() => go(`/pages/deal/index?id=${q.agreement_id}`)}>
          查看成交条款 ›
        </Text>
      ) : null}
    </View>
  )
}

export default function QuotesPage() {
  const id = useRouter().params.listing ?? ''
  const [cmp, setCmp] = useState<QuoteComparison | null>(null)
  const [listing, setListing] = useState<Listing | null>(null)
  const [mine, setMine] = useState(false)
  const [myOffers, setMyOffers] = useState<Listing[]>([])
  const [sort, setSort] = useState('total_price')
  const [error, setError] = useState('')
  const [busy, setBusy] = useState('')
  const [offerId, setOfferId] = useState('')
  const [draft, setDraft] = useState<TermsDraft>(emptyTerms())
  const [note, setNote] = useState('')
  const [validUntil, setValidUntil] = useState('')
  const [errors, setErrors] = useState<Record<string, string>>({})

  const load = async (s = sort) => {
    if (!requireSignIn()) return
    try {
      const [me, l, c] = await Promise.all([loadMe(), api.get<Listing>(`/api/v1/listings/${id}`), compareQuotes(api, id, s)])
      setListing(l)
      setCmp(c)
      const own = !!me.firm && l.firm.id === me.firm.id
      setMine(own)
      if (!own) {
        const offers = await api.get<Page<Listing>>('/api/v1/listings', { mine: true, side: 'offer', status: 'open', limit: 50 })
        setMyOffers(offers.items)
        setOfferId((o) => o || offers.items[0]?.id || '')
        setDraft((d) =>
          d.quantityAmount
            ? d
            : { ...d, quantityAmount: l.remaining ? String(l.remaining.amount) : l.quantity ? String(l.quantity.amount) : '', quantityUnit: l.quantity?.unit ?? '', place: l.location?.address ?? '' },
        )
      }
      setError('')
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }
  useDidShow(() => void load())
  useLiveReload(['quote.created', 'quote.updated'], () => void load())

  const run = async (name: string, fn: () => Promise<unknown>) => {
    setBusy(name)
    try {
      await fn()
      setErrors({})
      await load()
      return true
    } catch (e) {
      if (e instanceof ApiError) {
        setErrors(e.fields)
        setError(e.status === 422 && Object.keys(e.fields).length ? '请修改标红的内容' : e.userMessage)
      } else setError(String(e))
      return false
    } finally {
      setBusy('')
    }
  }

  const accept = async (q: Quote) => {
    // Accepting only proposes the quote's terms: the quoting firm still confirms.
    setBusy(`accept-${q.id}`)
    try {
      const done = await acceptQuote(api, q.id)
      if (done.agreement_id) go(`/pages/deal/index?id=${done.agreement_id}`)
      else await load()
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    } finally {
      setBusy('')
    }
  }

  const decline = async (q: Quote) => {
    const r = await Taro.showModal({ title: '不采纳这条报价？', content: '对方会收到通知。', confirmText: '不采纳' })
    if (!r.confirm) return
    await run(`decline-${q.id}`, () => declineQuote(api, q.id, '已选择其他报价'))
  }

  const submit = async () => {
    const { terms, errors: errs } = buildTerms(draft)
    if (!offerId) errs.offer_id = '请先发布一条供应，再用它报价'
    if (!terms || errs.offer_id) {
      setErrors(errs)
      setError('请修改标红的内容')
      return
    }
    const sent = await run('submit', () =>
      submitQuote(api, id, { offer_id: offerId, ...terms, terms: note.trim() || null, valid_until: validUntil ? `${validUntil}T23:59:59+08:00` : null }),
    )
    if (sent) Taro.pageScrollTo({ scrollTop: 0, duration: 0 }).catch(() => undefined)
  }

  if (!cmp || !listing) return <View className="page">{error ? <Banner kind="error">{error}</Banner> : <Empty>加载中…</Empty>}</View>
  const r = cmp.request
  const myQuote = !mine ? cmp.items.find((q) => q.status !== 'withdrawn') : undefined
  const open = r.status === 'open' && (!r.quotes_close_at || new Date(r.quotes_close_at).getTime() > Date.now())
  return (
    <View className="page page-quotes" id="quotes" data-listing-id={id} data-count={cmp.items.length}>
      <View className="card">
        <Text className="tag tag-request">询价</Text>
        <Text className="listing-title link" onClick={() => go(`/pages/listing/index?id=${id}`)}>
          {r.title}
        </Text>
        <View className="kv">
          {r.quantity ? (
            <View className="kv-row">
              <Text className="kv-k">需求数量</Text>
              <Text className="kv-v">
                {amount(r.quantity)}
                {r.remaining && r.committed && r.committed.amount > 0 ? `（还需 ${amount(r.remaining)}）` : ''}
              </Text>
            </View>
          ) : null}
          <View className="kv-row">
            <Text className="kv-k">截止</Text>
            <Text className="kv-v">{r.quotes_close_at ? r.quotes_close_at.slice(0, 16).replace('T', ' ') : '不限'}{open ? '' : '（已截止）'}</Text>
          </View>
        </View>
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}

      {mine ? (
        <Section title="收到的报价" extra={<Text className="muted small">{cmp.items.length} 份</Text>}>
          <Chips name="sort" small options={SORTS} value={sort} onChange={(s) => { setSort(s); void load(s) }} />
          {cmp.items.length > 1 ? (
            <View className="quote-table" id="quote-table">
              <View className="qt-row qt-head">
                <Text className="qt-firm">企业</Text>
                <Text>单价</Text>
                <Text>总价</Text>
                <Text>覆盖</Text>
                <Text>信誉</Text>
              </View>
              {cmp.items.map((q, i) => (
                <View key={q.id} className={`qt-row qt-${q.status}`} data-quote-id={q.id}>
                  <Text className="qt-firm ellipsis">
                    {i + 1}. {q.firm.name}
                  </Text>
                  <Text>{q.price.amount}</Text>
                  <Text>{q.total_price_yuan === null ? '—' : Math.round(q.total_price_yuan)}</Text>
                  <Text>{share(q.coverage)}</Text>
                  <Text>{q.reputation.has_history && q.reputation.ratings ? q.reputation.rating.toFixed(1) : '新'}</Text>
                </View>
              ))}
            </View>
          ) : null}
          <View className="quote-list">
            {!cmp.items.length ? <Empty>还没有企业报价。匹配到的供应方会收到询价通知。</Empty> : null}
            {cmp.items.map((q) => (
              <QuoteCard
                key={q.id}
                q={q}
                mine={false}
                busy={busy}
                onAccept={() => accept(q)}
                onDecline={() => decline(q)}
                onAskRevision={(m) => run(`revision-${q.id}`, () => requestQuoteRevision(api, q.id, m))}
              />
            ))}
          </View>
        </Section>
      ) : myQuote ? (
        <Section title="我的报价">
          <QuoteCard q={myQuote} mine busy={busy} onWithdraw={() => run(`withdraw-${myQuote.id}`, () => withdrawQuote(api, myQuote.id))} />
        </Section>
      ) : open ? (
        <Section title="我要报价">
          <View className="card form" id="quote-form">
            <Text className="field-label">用哪条供应报价</Text>
            {myOffers.length ? (
              <Chips name="offer" small options={myOffers.map((o) => ({ value: o.id, label: o.title }))} value={offerId} onChange={setOfferId} />
            ) : (
              <Text className="muted small">您还没有在架的供应，请先发布。</Text>
            )}
            {errors.offer_id ? <Text className="field-error">{errors.offer_id}</Text> : null}
            <TermsFields kind={listing.kind} draft={draft} onChange={setDraft} errors={errors} onErrors={(e) => { setErrors(e); if (!Object.keys(e).length) setError('') }} />
            <Field name="terms" label="补充说明" value={note} onInput={setNote} error={errors.terms} multiline maxlength={2000} placeholder="含税、运费、付款方式等" />
            <DateField name="valid_until" label="报价有效期至" value={validUntil} onChange={setValidUntil} error={errors.valid_until} />
            <Button className="btn btn-primary btn-block" id="quote-submit" loading={busy === 'submit'} onClick={submit}>
              提交报价
            </Button>
          </View>
        </Section>
      ) : (
        <Empty>询价已截止。</Empty>
      )}
    </View>
  )
}
