/// <reference types="@tarojs/taro" />

declare module '*.css'

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production'
    TARO_ENV: 'weapp' | 'h5' | string
  }
}

/** Where the mini-program sends API requests (build-time, `ZQL_API_BASE`); empty on H5 (same origin). */
declare const API_BASE: string
