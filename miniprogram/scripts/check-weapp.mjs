#!/usr/bin/env node
// CI check of the mini-program build: dist/weapp/app.json lists every page of
// src/app.config.ts, each page's files exist, and the main package stays
// under WeChat's 2 MB limit.
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
const weapp = join(root, 'dist/weapp')
const problems = []

const appJson = join(weapp, 'app.json')
if (!existsSync(appJson)) {
  console.error('dist/weapp/app.json is missing: run `npm run build:weapp`')
  process.exit(1)
}
const app = JSON.parse(readFileSync(appJson, 'utf8'))
const source = readFileSync(join(root, 'src/app.config.ts'), 'utf8')
const pagesBlock = source.match(/pages:\s*\[([\s\S]*?)\]/)
if (!pagesBlock) {
  console.error('cannot find the pages list in src/app.config.ts')
  process.exit(1)
}
const declared = [...pagesBlock[1].matchAll(/'([^']+)'/g)].map((m) => m[1])
const built = [...(app.pages || []), ...(app.subPackages || []).flatMap((s) => s.pages.map((p) => `${s.root}/${p}`))]
for (const p of declared) {
  if (!built.includes(p)) problems.push(`app.json does not list ${p}`)
  for (const ext of ['js', 'json', 'wxml']) {
    if (!existsSync(join(weapp, `${p}.${ext}`))) problems.push(`missing ${p}.${ext}`)
  }
}
for (const p of built) if (!declared.includes(p)) problems.push(`app.json lists ${p}, which src/app.config.ts does not`)
for (const t of app.tabBar?.list || []) if (!built.includes(t.pagePath)) problems.push(`tab ${t.pagePath} is not a page`)

function walk(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory() ? walk(p) : [p]
  })
}
const subRoots = (app.subPackages || []).map((s) => s.root.replace(/\/?$/, '/'))
const main = walk(weapp)
  .filter((p) => !p.endsWith('.LICENSE.txt') && !p.endsWith('project.config.json'))
  .filter((p) => !subRoots.some((r) => p.slice(weapp.length + 1).startsWith(r)))
  .reduce((n, p) => n + statSync(p).size, 0)
const LIMIT = 2 * 1024 * 1024
if (main >= LIMIT) problems.push(`main package is ${main} bytes, over WeChat's ${LIMIT}`)

if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}
console.log(`weapp: ${declared.length} pages in app.json, main package ${(main / 1024).toFixed(1)} KB (< 2048 KB)`)
