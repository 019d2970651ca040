import { defineConfig, type UserConfigExport } from '@tarojs/cli'
import TsconfigPathsPlugin from 'tsconfig-paths-webpack-plugin'

/**
 * Writes `first-load.json` into the H5 build: the files a first visit loads
 * (the entry's and those of the home page's chunk group), for
 * scripts/budget.mjs to weigh.
 */
class FirstLoadManifest {
  apply(compiler: any) {
    compiler.hooks.thisCompilation.tap('FirstLoadManifest', (compilation: any) => {
      compilation.hooks.processAssets.tap(
        { name: 'FirstLoadManifest', stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_REPORT },
        () => {
          const files = new Set<string>()
          for (const ep of compilation.entrypoints.values()) for (const f of ep.getFiles()) files.add(f)
          for (const group of compilation.chunkGroups) {
            const home = (group.origins || []).some((o: any) => String(o.request || '').includes('pages/home/index'))
            if (home) for (const f of group.getFiles()) files.add(f)
          }
          const list = [...files].filter((f) => /\.(js|css)$/.test(f)).sort()
          compilation.emitAsset('first-load.json', new compiler.webpack.sources.RawSource(JSON.stringify({ files: list }, null, 2)))
        },
      )
    })
  }
}

// One source, two targets: `taro build --type weapp` → dist/weapp (the folder
// WeChat DevTools opens), `taro build --type h5` → dist/h5 (served at /app).
export default defineConfig<'webpack5'>(async (merge) => {
  const base: UserConfigExport<'webpack5'> = {
    projectName: 'zhiqilian',
    date: '2026-12-5',
    // Styles are written in CSS px for a 375-wide phone: the mini-program
    // turns them into rpx (1px = 2rpx); the H5 keeps px.
    designWidth: 375,
    deviceRatio: { 375: 2, 640: 2.34 / 2, 750: 1, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: `dist/${process.env.TARO_ENV}`,
    plugins: [],
    defineConstants: {
      // The H5 talks to the origin that serves it; the mini-program needs the
      // park's HTTPS address (configured as a request domain in the admin console).
      API_BASE: JSON.stringify(process.env.TARO_ENV === 'h5' ? '' : process.env.ZQL_API_BASE || 'https://zhiqilian.example.com'),
    },
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: false },
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false },
      },
      webpackChain(chain) {
        chain.resolve.plugin('tsconfig-paths').use(TsconfigPathsPlugin)
      },
    },
    h5: {
      // Relative URLs and hash routing: the build works under /app/ on any host.
      publicPath: './',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      output: {
        filename: 'js/[name].[contenthash:8].js',
        chunkFilename: 'js/[name].[contenthash:8].js',
      },
      miniCssExtractPluginOption: {
        ignoreOrder: true,
        filename: 'css/[name].[contenthash:8].css',
        chunkFilename: 'css/[name].[contenthash:8].css',
      },
      postcss: {
        pxtransform: { enable: false, config: {} },
        autoprefixer: { enable: true, config: {} },
        cssModules: { enable: false },
      },
      webpackChain(chain) {
        chain.resolve.plugin('tsconfig-paths').use(TsconfigPathsPlugin)
        chain.plugin('first-load').use(FirstLoadManifest)
      },
    },
  }
  if (process.env.NODE_ENV === 'development') {
    return merge({}, base, { mini: {}, h5: {} })
  }
  return merge({}, base, { mini: {}, h5: {} })
})
