#!/usr/bin/env node
// Weighs the builds against their budgets and prints the figures:
// H5 first load (the files dist/h5/first-load.json lists: the entry and the
// home page's chunks), JavaScript + CSS gzipped, ≤ 350 KB; the mini-program's
// main package ≤ 2 MB and the whole package ≤ 8 MB (dist/weapp).
// Exits non-zero when a budget is exceeded. Run after `npm run build`.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const root = new URL('..', import.meta.url).pathname
const KB = 1024
const budgets = { h5FirstLoadGzip: 350 * KB, weappMain: 2 * 1024 * KB, weappTotal: 8 * 1024 * KB }
let failed = false

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}
const kb = (n) => `${(n / KB).toFixed(1)} KB`

const h5 = join(root, 'dist/h5')
if (!existsSync(join(h5, 'first-load.json'))) {
  console.error('no dist/h5/first-load.json: run `npm run build:h5` first')
  process.exit(2)
}
const { files } = JSON.parse(readFileSync(join(h5, 'first-load.json'), 'utf8'))
let raw = 0
let gz = 0
const rows = []
for (const f of files) {
  const bytes = readFileSync(join(h5, f))
  const z = gzipSync(bytes, { level: 6 }).length
  raw += bytes.length
  gz += z
  rows.push(`  ${f.padEnd(34)} ${kb(bytes.length).padStart(10)} ${kb(z).padStart(10)} gz`)
}
const allH5 = walk(h5).filter((p) => /\.(js|css)$/.test(p))
const allGz = allH5.reduce((n, p) => n + gzipSync(readFileSync(p)).length, 0)
console.log('H5 first load (entry + home page):')
console.log(rows.join('\n'))
console.log(`  total: ${kb(raw)} raw, ${kb(gz)} gzipped (budget ${kb(budgets.h5FirstLoadGzip)})`)
console.log(`  every JS/CSS file of the H5 build: ${allH5.length} files, ${kb(allGz)} gzipped`)
if (gz > budgets.h5FirstLoadGzip) {
  console.error('  OVER BUDGET')
  failed = true
}

const weapp = join(root, 'dist/weapp')
if (existsSync(join(weapp, 'app.json'))) {
  const app = JSON.parse(readFileSync(join(weapp, 'app.json'), 'utf8'))
  const subRoots = (app.subPackages || app.subpackages || []).map((s) => s.root.replace(/\/?$/, '/'))
  const all = walk(weapp).filter((p) => !p.endsWith('project.config.json') && !p.endsWith('.LICENSE.txt'))
  const rel = (p) => p.slice(weapp.length + 1)
  const total = all.reduce((n, p) => n + statSync(p).size, 0)
  const main = all.filter((p) => !subRoots.some((r) => rel(p).startsWith(r))).reduce((n, p) => n + statSync(p).size, 0)
  console.log('Mini-program (dist/weapp, before WeChat DevTools compresses it):')
  console.log(`  main package: ${kb(main)} (budget ${kb(budgets.weappMain)})`)
  console.log(`  total: ${kb(total)} in ${all.length} files, ${subRoots.length} subpackages (budget ${kb(budgets.weappTotal)})`)
  if (main > budgets.weappMain || total > budgets.weappTotal) {
    console.error('  OVER BUDGET')
    failed = true
  }
} else {
  console.log('no dist/weapp/app.json: run `npm run build:weapp` to weigh the mini-program')
}
process.exit(failed ? 1 : 0)
