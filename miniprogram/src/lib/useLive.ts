// Re-run a loader when live events of some types arrive (debounced), while
// the page is shown.
import { useEffect, useRef } from 'react'
import { useDidHide, useDidShow } from '@tarojs/taro'
import { ensureLive, live } from './platform'

export function useLiveReload(types: string[], reload: () => void, delayMs = 250): void {
  const shown = useRef(true)
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null)
  const fn = useRef(reload)
  fn.current = reload
  useDidShow(() => {
    shown.current = true
    ensureLive()
  })
  useDidHide(() => {
    shown.current = false
  })
  useEffect(() => {
    const offs = types.map((t) =>
      live.on(t, () => {
        if (!shown.current) return
        if (timer.current) clearTimeout(timer.current)
        timer.current = setTimeout(() => fn.current(), delayMs)
      }),
    )
    return () => offs.forEach((off) => off())
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [types.join(',')])
}
