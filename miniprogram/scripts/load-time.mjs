#!/usr/bin/env node
// First-visit load times under Chromium's "Fast 4G" throttling with a 4×
// CPU slowdown (the DevTools protocol), cache disabled, at 390×844:
//   - the firm app's sign-in page (/app/) until its form is shown,
//   - the firm app's home (/app/, signed in) until the firm's data is shown,
//   - the staff console's sign-in page (/console) until its form is shown.
// Usage: node scripts/load-time.mjs http://127.0.0.1:8080 LOGIN PASSWORD [runs]
// (bench/app-load.sh starts a server with a firm and runs this.)
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'

const [base, login, password, runsArg] = process.argv.slice(2)
if (!base || !login || !password) {
  console.error('usage: node scripts/load-time.mjs BASE_URL LOGIN PASSWORD [runs]')
  process.exit(2)
}
const runs = parseInt(runsArg || '3', 10)
// DevTools' "Fast 4G" preset: 165 ms latency, 9 Mbit/s down and 1.5 Mbit/s up (× 0.9).
const FAST_4G = { offline: false, latency: 165, downloadThroughput: (9e6 / 8) * 0.9, uploadThroughput: (1.5e6 / 8) * 0.9 }
const CPU_SLOWDOWN = 4
const chromium = process.env.ZQL_CHROMIUM || '/usr/bin/chromium'

const profile = mkdtempSync(join(tmpdir(), 'zql-load-'))
const browser = spawn(
  chromium,
  ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-dev-shm-usage', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
  { stdio: 'ignore' },
)
const portFile = join(profile, 'DevToolsActivePort')
for (let i = 0; i < 200 && !existsSync(portFile); i++) await new Promise((r) => setTimeout(r, 100))
const [port, path] = readFileSync(portFile, 'utf8').trim().split('\n')
const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`)
await new Promise((r, j) => {
  ws.once('open', r)
  ws.once('error', j)
})
let nextId = 1
const pending = new Map()
ws.on('message', (raw) => {
  const m = JSON.parse(raw.toString())
  if (m.id && pending.has(m.id)) {
    const { resolve, reject } = pending.get(m.id)
    pending.delete(m.id)
    m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result)
  }
})
const send = (method, params = {}, sessionId) =>
  new Promise((resolve, reject) => {
    const id = nextId++
    pending.set(id, { resolve, reject })
    ws.send(JSON.stringify({ id, method, params, sessionId }))
  })

async function page() {
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' })
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true })
  const s = (m, p) => send(m, p, sessionId)
  await s('Page.enable')
  await s('Network.enable')
  await s('Network.setCacheDisabled', { cacheDisabled: true })
  await s('Network.emulateNetworkConditions', FAST_4G)
  await s('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN })
  await s('Emulation.setDeviceMetricsOverride', { width: 390, height: 844, deviceScaleFactor: 2, mobile: true })
  return { s, close: () => send('Target.closeTarget', { targetId }) }
}

/** ms from navigation start until `ready` (a JS expression) is true. */
async function measure(url, ready, before) {
  const p = await page()
  if (before) await p.s('Page.addScriptToEvaluateOnNewDocument', { source: before })
  const t0 = Date.now()
  await p.s('Page.navigate', { url })
  for (;;) {
    const { result } = await p.s('Runtime.evaluate', { expression: `!!(${ready})`, returnByValue: true })
    if (result.value === true) break
    if (Date.now() - t0 > 60_000) throw new Error(`${url}: not ready after 60 s`)
    await new Promise((r) => setTimeout(r, 25))
  }
  const ms = Date.now() - t0
  const { result } = await p.s('Runtime.evaluate', {
    expression: `JSON.stringify(performance.getEntriesByType('resource').filter(e => /\\.(js|css)$/.test(e.name)).reduce((n, e) => n + e.transferSize, 0))`,
    returnByValue: true,
  })
  await p.close()
  return { ms, bytes: Number(result.value) }
}

const res = await fetch(`${base}/api/v1/auth/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ login, password }),
})
if (!res.ok) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`)
const pair = await res.json()
const tokens = {
  access: pair.access_token,
  refresh: pair.refresh_token,
  accessExpiresAt: Date.now() + pair.expires_in * 1000,
  refreshExpiresAt: Date.now() + pair.refresh_expires_in * 1000,
}
// Taro's H5 storage keeps {data} as JSON under the key.
const signedIn = `localStorage.setItem('zql.tokens', ${JSON.stringify(JSON.stringify({ data: JSON.stringify(tokens) }))})`

const cases = [
  ['firm app: sign-in page', `${base}/app/`, "document.querySelector('#login-form input')"],
  ['firm app: home, signed in', `${base}/app/`, "document.querySelector('#home .hero-firm') && document.querySelector('#home .listing-card, #home .empty')", signedIn],
  ['staff console: sign-in page', `${base}/console`, "document.querySelector('#login-form input')"],
]
console.log(`Fast 4G (165 ms, 9/1.5 Mbit/s), CPU ${CPU_SLOWDOWN}× slower, cache disabled, 390×844; ${runs} runs each`)
let over = false
for (const [name, url, ready, before] of cases) {
  const times = []
  let bytes = 0
  for (let i = 0; i < runs; i++) {
    const r = await measure(url, ready, before)
    times.push(r.ms)
    bytes = r.bytes
  }
  times.sort((a, b) => a - b)
  const median = times[Math.floor(times.length / 2)]
  console.log(`  ${name.padEnd(28)} median ${(median / 1000).toFixed(2)} s (runs: ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s); JS+CSS transferred ${(bytes / 1024).toFixed(1)} KB`)
  if (name.includes('home') && median > 2500) over = true
}
ws.close()
browser.kill()
await new Promise((r) => browser.once('exit', r))
try {
  rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 })
} catch {
  // Chromium's helpers may still be writing; the folder is in the temp dir.
}
if (over) console.log('  home over the 2.5 s budget')
process.exit(over ? 1 : 0)
