// Alerts outside the app: WeChat subscribe messages (订阅消息).
//
// WeChat sends one message per "allow" the user gives in
// wx.requestSubscribeMessage, and only lets the app ask from a tap. So a
// page loads the configured topics when it is shown (`AlertAsker.load`),
// and the tap that posts a listing or contacts a firm asks right away
// (`AlertAsker.ask`, not awaited before the action) for the topics that
// make sense at that moment; the answers go to the server, which counts
// the consents and sends the alerts.

import type { ApiClient } from './api'

export type Topic = 'match' | 'message' | 'brokered' | 'case'

export interface WechatSubscription {
  topic: Topic
  label: string
  template_id: string
  remaining: number
  enabled: boolean
}

export interface WechatSubscriptions {
  wechat_bound: boolean
  data: WechatSubscription[]
}

/** What wx.requestSubscribeMessage resolves with: template id → answer, plus errMsg. */
export type SubscribeResult = Record<string, unknown>

/** Asks the user (the platform's wx.requestSubscribeMessage). */
export type RequestSubscribe = (templateIds: string[]) => Promise<SubscribeResult>

/** WeChat takes at most three templates per request. */
export const MAX_TEMPLATES_PER_ASK = 3

/** Templates worth asking for: signed in through WeChat, the topic on, wanted now. */
export function templatesToAsk(subs: WechatSubscriptions | null, topics: Topic[]): string[] {
  if (!subs || !subs.wechat_bound) return []
  return subs.data
    .filter((s) => s.enabled && topics.includes(s.topic))
    .sort((a, b) => topics.indexOf(a.topic) - topics.indexOf(b.topic))
    .map((s) => s.template_id)
    .slice(0, MAX_TEMPLATES_PER_ASK)
}

const ANSWERS = new Set(['accept', 'reject', 'ban', 'filter'])

/** The answers for the asked templates, as the server takes them; null when there are none. */
export function answersOf(result: SubscribeResult, asked: string[]): Record<string, string> | null {
  const out: Record<string, string> = {}
  for (const id of asked) {
    const v = result[id]
    if (typeof v === 'string' && ANSWERS.has(v)) out[id] = v
  }
  return Object.keys(out).length ? out : null
}

/** One page's asker: load the topics when shown, ask from a tap. */
export class AlertAsker {
  private subs: WechatSubscriptions | null = null

  constructor(
    private readonly api: ApiClient,
    private readonly request: RequestSubscribe | null,
  ) {}

  /** Loads the configured topics (quietly: alerts are never in the way). */
  async load(): Promise<void> {
    if (!this.request || !this.api.signedIn()) return
    try {
      this.subs = await this.api.get<WechatSubscriptions>('/api/v1/me/wechat-subscriptions')
    } catch {
      this.subs = null
    }
  }

  /**
   * Asks for `topics` and reports the answers. Call it first thing in the
   * tap handler and do not await it before the action: WeChat refuses a
   * request that does not come straight from a tap.
   */
  async ask(topics: Topic[]): Promise<WechatSubscriptions | null> {
    const ids = templatesToAsk(this.subs, topics)
    if (!this.request || !ids.length) return null
    try {
      const result = await this.request(ids)
      const results = answersOf(result, ids)
      if (!results) return null
      this.subs = await this.api.post<WechatSubscriptions>('/api/v1/me/wechat-subscriptions', { results })
      return this.subs
    } catch {
      // Declined, not supported on this WeChat version, or offline: the app works without alerts.
      return null
    }
  }
}
