// 成交: the agreement of one match. Propose terms, see the status and the
// version, confirm the other firm's proposal, see the other firm's contact
// once confirmed, mark in progress / completed, rate the other firm.
// Opened with `?match=<match id>` (from a listing's match or a thread) or
// `?id=<agreement id>` (from a notification or an accepted quote).
import { useState } from 'react'
import Taro, { useDidShow, useRouter } from '@tarojs/taro'
import { Button, Text, View } from '@tarojs/components'
import { api } from '../../lib/platform'
import { ApiError } from '../../lib/api'
import { go, loadMe, requireSignIn } from '../../lib/session'
import { useLiveReload } from '../../lib/useLive'
import { ago, amount } from '../../lib/format'
import {
  AGREEMENT_STATUS_LABEL,
  RATING_TAGS,
  TermsDraft,
  agreementForMatch,
  buildTerms,
  cancelAgreement,
  completeAgreement,
  confirmAgreement,
  dealView,
  draftFromTerms,
  emptyTerms,
  firmReputation,
  getAgreement,
  proposeAgreement,
  rateAgreement,
  reputationText,
  reviseAgreement,
  startAgreement,
  yuan,
} from '../../lib/deals'
import type { Agreement, Listing, MatchRecord, Reputation, Terms, Thread } from '../../lib/types'
import { Banner, Chips, Empty, Field, Section } from '../../components/ui'
import { TermsFields } from '../../components/terms'

function TermsRows({ t, total }: { t: Terms; total?: number | null }) {
  return (
    <View className="kv terms">
      <View className="kv-row">
        <Text className="kv-k">数量</Text>
        <Text className="kv-v term-quantity">{amount(t.quantity) || '—'}</Text>
      </View>
      <View className="kv-row">
        <Text className="kv-k">价格</Text>
        <Text className="kv-v term-price">{amount(t.price) || '—'}</Text>
      </View>
      {total !== undefined && total !== null ? (
        <View className="kv-row">
          <Text className="kv-k">合计</Text>
          <Text className="kv-v term-total">{yuan(total)}</Text>
        </View>
      ) : null}
      <View className="kv-row">
        <Text className="kv-k">时间</Text>
        <Text className="kv-v">
          {t.available_from ?? '即日'} 至 {t.available_until ?? '双方约定'}
        </Text>
      </View>
      <View className="kv-row">
        <Text className="kv-k">地点</Text>
        <Text className="kv-v">{t.place || '—'}</Text>
      </View>
    </View>
  )
}

const MATCH_STATUS_LABEL: Record<string, string> = {
  suggested: '推荐',
  contacted: '已联系',
  agreed: '已成交',
  declined: '不合适',
  expired: '已过期',
}

const STEP_TEXT: Record<string, string> = {
  awaiting_me: '对方提出了条款，请确认',
  awaiting_them: '已提交，等待对方确认',
  confirmed: '双方已确认，成交',
  in_progress: '履约中',
  completed: '已完成',
  cancelled: '已取消',
}

export default function DealPage() {
  const params = useRouter().params
  const [matchId, setMatchId] = useState(params.match ?? '')
  const [agreement, setAgreement] = useState<Agreement | null>(null)
  const [match, setMatch] = useState<MatchRecord | null>(null)
  const [request, setRequest] = useState<Listing | null>(null)
  const [offer, setOffer] = useState<Listing | null>(null)
  const [rep, setRep] = useState<Reputation | null>(null)
  const [myFirm, setMyFirm] = useState<string | null>(null)
  const [loaded, setLoaded] = useState(false)
  const [error, setError] = useState('')
  const [busy, setBusy] = useState('')
  // The terms form: open for a first proposal, or to revise.
  const [editing, setEditing] = useState(false)
  const [draft, setDraft] = useState<TermsDraft>(emptyTerms())
  const [errors, setErrors] = useState<Record<string, string>>({})
  // Cancelling asks for a reason; rating for a score, tags and a comment.
  const [cancelling, setCancelling] = useState(false)
  const [reason, setReason] = useState('')
  const [score, setScore] = useState('')
  const [tags, setTags] = useState<string[]>([])
  const [comment, setComment] = useState('')

  const load = async () => {
    if (!requireSignIn()) return
    try {
      const me = await loadMe()
      setMyFirm(me.firm?.id ?? null)
      let a: Agreement | null = null
      let mid = matchId
      if (params.id) {
        a = await getAgreement(api, params.id)
        mid = a.match_id
      } else if (mid) {
        a = await agreementForMatch(api, mid)
      }
      setMatchId(mid)
      const m = await api.get<MatchRecord>(`/api/v1/matches/${mid}`)
      setMatch(m)
      const [r, o] = await Promise.all([
        api.get<Listing>(`/api/v1/listings/${m.request.id}`).catch(() => null),
        api.get<Listing>(`/api/v1/listings/${m.offer.id}`).catch(() => null),
      ])
      setRequest(r)
      setOffer(o)
      setAgreement(a)
      const other = m.request.firm_id === me.firm?.id ? m.offer.firm_id : m.request.firm_id
      firmReputation(api, other).then(setRep).catch(() => undefined)
      if (!a) {
        // A first proposal starts from the request's quantity and the offer's price and place.
        setEditing(true)
        setDraft((d) =>
          d.quantityAmount || d.priceAmount
            ? d
            : {
                ...emptyTerms(),
                quantityAmount: r?.quantity ? String(r.quantity.amount) : '',
                quantityUnit: r?.quantity?.unit ?? '',
                priceAmount: o?.price ? String(o.price.amount) : '',
                priceUnit: o?.price?.unit ?? '',
                availableFrom: r?.available_from ?? '',
                availableUntil: r?.available_until ?? '',
                place: r?.location?.address ?? '',
              },
        )
      }
      setError('')
      setLoaded(true)
    } catch (e) {
      setError(e instanceof ApiError ? e.userMessage : String(e))
    }
  }
  useDidShow(() => void load())
  useLiveReload(
    ['agreement.proposed', 'agreement.confirmed', 'agreement.completed', 'agreement.cancelled', 'rating.published', 'match.status_changed'],
    () => void load(),
  )

  /** Runs one action; a refusal shows the server's words (on their fields for a 422). */
  const act = async (name: string, fn: () => Promise<Agreement>) => {
    setBusy(name)
    try {
      const a = await fn()
      setAgreement(a)
      setError('')
      setErrors({})
      // The match moves with the agreement (agreed at the first confirmation).
      void load()
      return true
    } catch (e) {
      if (e instanceof ApiError) {
        setErrors(e.fields)
        setError(e.status === 422 && Object.keys(e.fields).length ? '请修改标红的内容' : e.userMessage)
        // Someone else moved it on (a newer version, a confirmation): show what is current.
        if (e.status === 409) void load()
      } else setError(String(e))
      return false
    } finally {
      setBusy('')
    }
  }

  const submitTerms = async () => {
    const { terms, errors: errs } = buildTerms(draft)
    if (!terms) {
      setErrors(errs)
      setError('请修改标红的内容')
      return
    }
    const ok = await act('terms', () =>
      agreement && agreement.status !== 'cancelled' ? reviseAgreement(api, agreement.id, terms) : proposeAgreement(api, { match_id: matchId, ...terms }),
    )
    if (ok) {
      setEditing(false)
      // The terms as sent, from the top of the page.
      Taro.pageScrollTo({ scrollTop: 0, duration: 0 }).catch(() => undefined)
    }
  }

  const openThread = async () => {
    try {
      const t = await api.post<Thread>('/api/v1/threads', { match_id: matchId }, { idempotent: true })
      go(`/pages/thread/index?id=${t.id}`)
    } catch (e) {
      Taro.showToast({ title: e instanceof ApiError ? e.userMessage : String(e), icon: 'none' })
    }
  }

  if (!loaded) return <View className="page">{error ? <Banner kind="error">{error}</Banner> : <Empty>加载中…</Empty>}</View>

  const a = agreement
  const v = a ? dealView(a, myFirm) : null
  const iAmRequester = match ? match.request.firm_id === myFirm : true
  const other = iAmRequester ? offer : request
  const kind = match?.request.kind ?? request?.kind ?? 'service'

  return (
    <View className="page page-deal" id="deal" data-match-id={matchId} data-loaded="1">
      <View className="card deal-head">
        <View className="row between">
          <Text className="muted small">{match ? `匹配 ${Math.round(match.score * 100)} 分` : ''}</Text>
          {match ? (
            <Text className={`tag match-status${match.status === 'agreed' ? ' tag-agreed' : ''}`} data-match-status={match.status}>
              {MATCH_STATUS_LABEL[match.status] ?? match.status}
            </Text>
          ) : null}
        </View>
        <Text className="card-title other-firm">{other?.firm.name ?? '对方企业'}</Text>
        {rep ? <Text className="muted small reputation">{reputationText(rep)}</Text> : null}
        <View className="kv">
          <View className="kv-row">
            <Text className="kv-k">需求</Text>
            <Text className="kv-v link" onClick={() => match && go(`/pages/listing/index?id=${match.request.id}`)}>
              {match?.request.title}
            </Text>
          </View>
          <View className="kv-row">
            <Text className="kv-k">供应</Text>
            <Text className="kv-v link" onClick={() => match && go(`/pages/listing/index?id=${match.offer.id}`)}>
              {match?.offer.title}
            </Text>
          </View>
        </View>
        <Text className="link small" id="deal-thread" onClick={openThread}>
          进入对话 ›
        </Text>
      </View>
      {error ? <Banner kind="error">{error}</Banner> : null}

      {a && v ? (
        <View className={`card agreement agreement-${v.step}`} id="agreement" data-status={a.status} data-version={a.version} data-step={v.step}>
          <View className="row between">
            <Text className="card-title">成交条款</Text>
            <Text className={`tag status-tag tag-deal-${a.status}`}>{AGREEMENT_STATUS_LABEL[a.status]}</Text>
          </View>
          <Text className="muted small agreement-version">
            第 {a.version} 版{a.confirmed_version ? ` · 已确认第 ${a.confirmed_version} 版` : ''} · {a.proposed_by_firm_id === myFirm ? '我方' : '对方'}提出 · {ago(a.updated_at)}
          </Text>
          <Text className={`step step-${v.step}`}>{STEP_TEXT[v.step]}</Text>
          <TermsRows t={a.terms} total={a.total_price_yuan} />
          {a.status === 'cancelled' && a.cancel_reason ? <Text className="muted small">取消原因：{a.cancel_reason}</Text> : null}
          {a.status === 'cancelled' && !editing ? (
            <Button
              className="btn btn-ghost btn-block"
              id="agreement-again"
              onClick={() => {
                setDraft(draftFromTerms(a.terms))
                setErrors({})
                setEditing(true)
              }}
            >
              重新提出条款
            </Button>
          ) : null}
          {a.versions.length > 1 ? (
            <View className="versions">
              {a.versions
                .slice()
                .reverse()
                .map((x) => (
                  <Text key={x.version} className="muted small version-row">
                    第 {x.version} 版 · {x.proposed_by_firm === myFirm ? '我方' : '对方'}提出 {ago(x.proposed_at)}
                    {x.confirmed_at ? ` · 已确认` : ''}：{amount(x.terms.quantity)}，{amount(x.terms.price)}
                  </Text>
                ))}
            </View>
          ) : null}
          {!editing ? (
            <View className="row gap">
              {v.canConfirm ? (
                <Button className="btn btn-primary" id="agreement-confirm" loading={busy === 'confirm'} onClick={async () => {
                    if (await act('confirm', () => confirmAgreement(api, a.id, a.version))) Taro.pageScrollTo({ scrollTop: 0, duration: 0 }).catch(() => undefined)
                  }}>
                  确认第 {a.version} 版
                </Button>
              ) : null}
              {v.canStart ? (
                <Button className="btn btn-primary" id="agreement-start" loading={busy === 'start'} onClick={() => act('start', () => startAgreement(api, a.id))}>
                  开始履约
                </Button>
              ) : null}
              {v.canComplete ? (
                <Button className={`btn ${v.canStart ? 'btn-ghost' : 'btn-primary'}`} id="agreement-complete" loading={busy === 'complete'} onClick={() => act('complete', () => completeAgreement(api, a.id))}>
                  标记完成
                </Button>
              ) : null}
              {v.canRevise ? (
                <Button
                  className="btn btn-ghost"
                  id="agreement-revise"
                  onClick={() => {
                    setDraft(draftFromTerms(a.terms))
                    setErrors({})
                    setEditing(true)
                  }}
                >
                  修改条款
                </Button>
              ) : null}
            </View>
          ) : null}
          {v.canCancel && !editing ? (
            cancelling ? (
              <View className="cancel-form">
                <Field name="reason" label="取消原因（对方可见）" value={reason} onInput={setReason} error={errors.reason} maxlength={500} />
                <View className="row gap">
                  <Button className="btn btn-ghost" onClick={() => setCancelling(false)}>
                    不取消
                  </Button>
                  <Button
                    className="btn btn-danger"
                    id="agreement-cancel-confirm"
                    disabled={!reason.trim()}
                    loading={busy === 'cancel'}
                    onClick={async () => {
                      if (await act('cancel', () => cancelAgreement(api, a.id, reason.trim()))) setCancelling(false)
                    }}
                  >
                    确认取消
                  </Button>
                </View>
              </View>
            ) : (
              <Text className="link small cancel-link" id="agreement-cancel" onClick={() => setCancelling(true)}>
                取消成交
              </Text>
            )
          ) : null}
        </View>
      ) : null}

      {a && v?.otherContact ? (
        <View className="card contacts" id="contacts" data-firm-id={v.otherContact.firm_id}>
          <Text className="card-title">对方联系方式</Text>
          <Text className="muted small">双方确认成交后，联系方式已互相公开{a.reveal ? `（${ago(a.reveal.revealed_at)}）` : ''}</Text>
          <View className="kv">
            <View className="kv-row">
              <Text className="kv-k">企业</Text>
              <Text className="kv-v contact-firm">{v.otherContact.firm_name}</Text>
            </View>
            <View className="kv-row">
              <Text className="kv-k">联系人</Text>
              <Text className="kv-v contact-name">{v.otherContact.contact_name}</Text>
            </View>
            <View className="kv-row">
              <Text className="kv-k">电话</Text>
              <Text className="kv-v link contact-phone" onClick={() => Taro.makePhoneCall({ phoneNumber: v.otherContact!.contact_phone }).catch(() => undefined)}>
                {v.otherContact.contact_phone}
              </Text>
            </View>
          </View>
        </View>
      ) : a && !a.contacts && a.status !== 'cancelled' ? (
        <Text className="muted small center hint-contacts">双方确认成交后，可看到对方的联系人和电话。</Text>
      ) : null}

      {editing ? (
        <Section title={a && a.status !== 'cancelled' ? `修改条款（将成为第 ${a.version + 1} 版）` : '提出成交条款'}>
          <View className="card form" id="terms-form">
            <Text className="muted small">提交后需对方确认；确认后双方可看到彼此的联系方式。</Text>
            <TermsFields kind={kind} draft={draft} onChange={setDraft} errors={errors} onErrors={(e) => { setErrors(e); if (!Object.keys(e).length) setError('') }} />
            <View className="row gap">
              {a ? (
                <Button className="btn btn-ghost" onClick={() => setEditing(false)}>
                  返回
                </Button>
              ) : null}
              <Button className="btn btn-primary" id="terms-submit" loading={busy === 'terms'} onClick={submitTerms}>
                {a && a.status !== 'cancelled' ? '提交新版本' : '提交给对方确认'}
              </Button>
            </View>
          </View>
        </Section>
      ) : null}

      {a && v && a.status === 'completed' ? (
        <Section title="评价对方">
          {v.canRate ? (
            <View className="card form" id="rating-form">
              <Text className="field-label">评分</Text>
              <Chips name="score" options={[1, 2, 3, 4, 5].map((n) => ({ value: String(n), label: `${n} 星` }))} value={score} onChange={setScore} />
              {errors.score ? <Text className="field-error">{errors.score}</Text> : null}
              <Text className="field-label">标签（可多选）</Text>
              <View className="chips chips-tags">
                {RATING_TAGS.map((t) => (
                  <View key={t} className={`chip${tags.includes(t) ? ' chip-on' : ''}`} data-value={t} onClick={() => setTags((old) => (old.includes(t) ? old.filter((x) => x !== t) : [...old, t]))}>
                    {t}
                  </View>
                ))}
              </View>
              <Field name="comment" label="评语（选填）" value={comment} onInput={setComment} error={errors.comment} multiline maxlength={500} placeholder="交付、质量、沟通如何？" />
              <Button
                className="btn btn-primary btn-block"
                id="rating-submit"
                disabled={!score}
                loading={busy === 'rate'}
                onClick={() => act('rate', () => rateAgreement(api, a.id, { score: Number(score), tags, comment: comment.trim() || null }))}
              >
                提交评价
              </Button>
            </View>
          ) : null}
          {a.ratings.items.map((r) => (
            <View key={r.rater_firm_id} className="card rating" data-rater={r.rater_firm_id}>
              <Text className="small muted">{r.rater_firm_id === myFirm ? '我方的评价' : '对方的评价'}</Text>
              <Text className="stars">{'★'.repeat(r.score) + '☆'.repeat(5 - r.score)}</Text>
              {r.tags.length ? <Text className="small">{r.tags.join(' · ')}</Text> : null}
              {r.comment ? <Text className="small">{r.comment}</Text> : null}
            </View>
          ))}
          {v.rated && !a.ratings.published ? <Text className="muted small center">双方都评价后（或 30 天后）评价同时公开。</Text> : null}
        </Section>
      ) : null}
    </View>
  )
}
