// Who is signed in, and moving between pages.
import Taro from '@tarojs/taro'
import { api, live } from './platform'
import type { Firm, Me } from './types'

let me: Me | null = null
let firm: Firm | null = null
let notice = ''

api.setSignedOutHandler((reason) => {
  me = null
  firm = null
  live.reset()
  notice = reason === 'expired' ? '登录已过期，请重新登录' : ''
  void Taro.reLaunch({ url: '/pages/login/index' })
})

/** A message for the sign-in page (why the user is there), read once. */
export function takeNotice(): string {
  const n = notice
  notice = ''
  return n
}

export async function loadMe(force = false): Promise<Me> {
  if (!me || force) me = await api.get<Me>('/api/v1/me')
  return me
}

export async function loadFirm(force = false): Promise<Firm | null> {
  const m = await loadMe()
  if (!m.firm) return null
  if (!firm || force || firm.id !== m.firm.id) firm = await api.get<Firm>(`/api/v1/firms/${m.firm.id}`)
  return firm
}

export function myFirmId(): string | null {
  return me?.firm?.id ?? null
}

/** Sends a signed-out visitor to the sign-in page; true when signed in. */
export function requireSignIn(): boolean {
  if (api.signedIn()) return true
  void Taro.reLaunch({ url: '/pages/login/index' })
  return false
}

export async function signOut(): Promise<void> {
  live.reset()
  me = null
  firm = null
  await api.logout()
  void Taro.reLaunch({ url: '/pages/login/index' })
}

export function forget(): void {
  me = null
  firm = null
}

export const TABS = ['/pages/home/index', '/pages/search/index', '/pages/chat/index', '/pages/me/index']

export function go(url: string): void {
  const path = url.split('?')[0]
  if (TABS.includes(path)) void Taro.switchTab({ url: path })
  else void Taro.navigateTo({ url })
}
