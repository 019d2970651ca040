// Small display helpers shared by the pages.
import type { Factor } from './types'

/** 5 分钟前 / 3 小时前 / 12-05 14:30 */
export function ago(iso: string, now = Date.now()): string {
  const t = new Date(iso).getTime()
  const s = Math.max(0, Math.round((now - t) / 1000))
  if (s < 60) return '刚刚'
  if (s < 3600) return `${Math.floor(s / 60)} 分钟前`
  if (s < 86400) return `${Math.floor(s / 3600)} 小时前`
  const d = new Date(t)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`
}

export function clock(iso: string): string {
  const d = new Date(iso)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${p(d.getHours())}:${p(d.getMinutes())}`
}

export function percent(score: number): string {
  return `${Math.round(score * 100)}`
}

/** The factors that weighed most in a score, strongest first. */
export function topReasons(factors: Factor[], n = 2): Factor[] {
  return [...factors].sort((a, b) => b.value * b.weight - a.value * a.weight).slice(0, n)
}

export function amount(a: { amount: number; unit: string } | null | undefined): string {
  return a ? `${a.amount} ${a.unit}` : ''
}

/** Search highlights: HTML-escaped text with <em>…</em>, as segments to render without HTML. */
export function highlightSegments(html: string): { text: string; hit: boolean }[] {
  const out: { text: string; hit: boolean }[] = []
  const re = /<em>(.*?)<\/em>/g
  let last = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(html))) {
    if (m.index > last) out.push({ text: unescape(html.slice(last, m.index)), hit: false })
    out.push({ text: unescape(m[1]), hit: true })
    last = m.index + m[0].length
  }
  if (last < html.length) out.push({ text: unescape(html.slice(last)), hit: false })
  return out
}

function unescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&')
}
