import { PropsWithChildren } from 'react'
import { useLaunch } from '@tarojs/taro'
import { ensureLive } from './lib/platform'
import './lib/session'
import './app.css'

function App({ children }: PropsWithChildren) {
  useLaunch(() => ensureLive())
  return children
}

export default App
