// The app's single API client and event client, bound to the platform:
// Taro.request and Taro storage on both targets; the live stream through
// EventSource + ticket on H5 and wx.request({enableChunked}) in WeChat.

import Taro from '@tarojs/taro'
import { ApiClient, HttpRequest, HttpResponse, KeyValueStore } from './api'
import { ChunkedRequest, EventClient, StreamTransport, chunkedTransport, eventSourceTransport } from './events'
import type { RequestSubscribe, SubscribeResult } from './alerts'

const store: KeyValueStore = {
  get: (k) => {
    const v = Taro.getStorageSync(k)
    return typeof v === 'string' && v !== '' ? v : null
  },
  set: (k, v) => Taro.setStorageSync(k, v),
  remove: (k) => Taro.removeStorageSync(k),
}

async function taroTransport(req: HttpRequest): Promise<HttpResponse> {
  const res = await Taro.request({
    url: req.url,
    method: req.method as 'GET',
    header: req.headers,
    data: req.body as Record<string, unknown> | undefined,
    dataType: 'json',
    timeout: 20_000,
  })
  return { status: res.statusCode, headers: (res.header || {}) as Record<string, string>, data: res.data }
}

export const api = new ApiClient({ base: API_BASE, transport: taroTransport, store })

/** wx.request with enableChunked: the event stream in the mini-program. */
interface WxRequestTask {
  abort(): void
  onHeadersReceived(fn: (res: { statusCode?: number }) => void): void
  onChunkReceived(fn: (res: { data: ArrayBuffer }) => void): void
}
interface WxLike {
  request(o: Record<string, unknown>): WxRequestTask
}

const wxChunked: ChunkedRequest = (o) => {
  const wxApi = (globalThis as unknown as { wx: WxLike }).wx
  const task = wxApi.request({
    url: o.url,
    header: o.headers,
    method: 'GET',
    enableChunked: true,
    responseType: 'arraybuffer',
    timeout: 24 * 3600 * 1000,
    success: (res: { statusCode: number }) => {
      o.onHeaders(res.statusCode)
      o.onDone()
    },
    fail: (err: { errMsg?: string }) => o.onDone(err.errMsg || 'request failed'),
  })
  task.onHeadersReceived((res) => {
    if (typeof res.statusCode === 'number') o.onHeaders(res.statusCode)
  })
  task.onChunkReceived((res) => o.onChunk(res.data))
  return () => task.abort()
}

function transport(): StreamTransport {
  if (process.env.TARO_ENV === 'h5') {
    return eventSourceTransport(api, (url) => new EventSource(url))
  }
  return chunkedTransport(api, wxChunked)
}

export const live = new EventClient(transport(), { shouldStop: () => !api.signedIn() })

/** Starts the live stream once signed in (pages call this when shown). */
export function ensureLive(): void {
  if (api.signedIn()) live.start()
}

/** wx.requestSubscribeMessage in the mini-program; H5 has no subscribe messages. */
export const alertRequest: RequestSubscribe | null =
  process.env.TARO_ENV === 'weapp'
    ? async (tmplIds) => (await Taro.requestSubscribeMessage({ tmplIds, entityIds: [] })) as unknown as SubscribeResult
    : null
