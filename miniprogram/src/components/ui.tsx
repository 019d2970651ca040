// Small building blocks shared by the pages (Taro components, so they render
// in the mini-program and on H5 alike).
import { ReactNode } from 'react'
import { Input, Picker, Text, Textarea, View } from '@tarojs/components'
import type { Factor } from '../lib/types'
import { FACTOR_LABEL } from '../lib/kinds'
import { percent } from '../lib/format'

export function Field(props: {
  name: string
  label: string
  value: string
  onInput: (v: string) => void
  error?: string
  placeholder?: string
  type?: 'text' | 'number' | 'digit' | 'idcard'
  password?: boolean
  suffix?: ReactNode
  multiline?: boolean
  hint?: string
  maxlength?: number
}) {
  const { name, label, value, onInput, error, placeholder, type, password, suffix, multiline, hint, maxlength } = props
  return (
    <View className={`field field-${name.replace(/\./g, '-')}${error ? ' field-invalid' : ''}`}>
      <Text className="field-label">{label}</Text>
      <View className="field-row">
        {multiline ? (
          <Textarea
            className="field-input field-textarea"
            value={value}
            placeholder={placeholder}
            maxlength={maxlength ?? 2000}
            onInput={(e) => onInput(e.detail.value)}
          />
        ) : (
          <Input
            className="field-input"
            name={name}
            value={value}
            type={type ?? 'text'}
            password={password}
            placeholder={placeholder}
            maxlength={maxlength ?? 200}
            onInput={(e) => onInput(e.detail.value)}
          />
        )}
        {suffix ? <View className="field-suffix">{suffix}</View> : null}
      </View>
      {error ? (
        <Text className="field-error" data-field={name}>
          {error}
        </Text>
      ) : hint ? (
        <Text className="field-hint">{hint}</Text>
      ) : null}
    </View>
  )
}

export function Chips<T extends string>(props: {
  name: string
  options: { value: T; label: string }[]
  value: T | ''
  onChange: (v: T) => void
  small?: boolean
}) {
  return (
    <View className={`chips chips-${props.name}${props.small ? ' chips-small' : ''}`}>
      {props.options.map((o) => (
        <View
          key={o.value}
          className={`chip${props.value === o.value ? ' chip-on' : ''}`}
          data-value={o.value}
          onClick={() => props.onChange(o.value)}
        >
          {o.label}
        </View>
      ))}
    </View>
  )
}

export function ScoreBar({ score }: { score: number }) {
  const pct = Math.max(0, Math.min(100, Math.round(score * 100)))
  return (
    <View className="score">
      <View className="score-track">
        <View className="score-fill" style={{ width: `${pct}%` }} />
      </View>
      <Text className="score-num">{percent(score)}分</Text>
    </View>
  )
}

export function Reasons({ factors, all }: { factors: Factor[]; all?: boolean }) {
  return (
    <View className={`reasons${all ? ' reasons-all' : ''}`}>
      {factors.map((f) => (
        <View key={f.key} className="reason" data-factor={f.key}>
          {all ? (
            <View className="reason-bar">
              <View className="reason-fill" style={{ width: `${Math.round(f.value * 100)}%` }} />
            </View>
          ) : null}
          <Text className="reason-key">{FACTOR_LABEL[f.key] ?? f.key}</Text>
          <Text className="reason-text">{f.reason}</Text>
        </View>
      ))}
    </View>
  )
}

export function Empty({ children }: { children: ReactNode }) {
  return <View className="empty">{children}</View>
}

export function Banner({ kind, children }: { kind: 'error' | 'info' | 'ok'; children: ReactNode }) {
  return <View className={`banner banner-${kind}`}>{children}</View>
}

export function Section({ title, extra, children }: { title: string; extra?: ReactNode; children: ReactNode }) {
  return (
    <View className="section">
      <View className="section-head">
        <Text className="section-title">{title}</Text>
        {extra}
      </View>
      {children}
    </View>
  )
}

export function Badge({ n }: { n: number }) {
  if (!n) return null
  return <Text className="badge">{n > 99 ? '99+' : n}</Text>
}

/** A date (YYYY-MM-DD) through the platform's date picker, clearable. */
export function DateField(props: { name: string; label: string; value: string; onChange: (v: string) => void; error?: string }) {
  return (
    <View className={`field field-${props.name.replace(/\./g, '-')}${props.error ? ' field-invalid' : ''}`}>
      <Text className="field-label">{props.label}</Text>
      <View className="field-row">
        <View className="picker-wrap">
          <Picker mode="date" value={props.value || ''} onChange={(e) => props.onChange(String(e.detail.value))}>
            <View className="field-input picker-value">{props.value || '选择日期'}</View>
          </Picker>
        </View>
        {props.value ? (
          <Text className="link small" onClick={() => props.onChange('')}>
            清除
          </Text>
        ) : null}
      </View>
      {props.error ? <Text className="field-error">{props.error}</Text> : null}
    </View>
  )
}
