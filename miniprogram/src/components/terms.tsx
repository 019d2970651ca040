// The terms of a quote or an agreement: quantity + unit, price + unit, dates,
// place. Errors arrive by the server's field paths (`quantity.amount`,
// `price.unit`, `available_until`, `place` …) and are shown on their fields.
import { Text, View } from '@tarojs/components'
import type { Kind } from '../lib/kinds'
import { PRICE_UNITS, QUANTITY_UNITS } from '../lib/kinds'
import type { TermsDraft } from '../lib/deals'
import { Chips, DateField, Field } from './ui'

function withUnit(units: string[], current: string): string[] {
  return current && !units.includes(current) ? [...units, current] : units
}

/** The server's field paths each input answers for. */
const FIELD_PATHS: Record<keyof TermsDraft, string[]> = {
  quantityAmount: ['quantity.amount', 'quantity'],
  quantityUnit: ['quantity.unit', 'quantity'],
  priceAmount: ['price.amount', 'price'],
  priceUnit: ['price.unit', 'price'],
  availableFrom: ['available_from'],
  availableUntil: ['available_until'],
  place: ['place'],
}

export function TermsFields(props: {
  kind: Kind | string
  draft: TermsDraft
  onChange: (d: TermsDraft) => void
  errors: Record<string, string>
  /** A field's message goes once the field is changed. */
  onErrors?: (errors: Record<string, string>) => void
}) {
  const { draft, errors } = props
  const kind = (props.kind in QUANTITY_UNITS ? props.kind : 'service') as Kind
  const set = <K extends keyof TermsDraft>(k: K, v: TermsDraft[K]) => {
    props.onChange({ ...draft, [k]: v })
    const gone = FIELD_PATHS[k].filter((p) => p in errors)
    if (gone.length && props.onErrors) {
      const rest = { ...errors }
      for (const p of gone) delete rest[p]
      props.onErrors(rest)
    }
  }
  const qUnits = withUnit(QUANTITY_UNITS[kind], draft.quantityUnit)
  const pUnits = withUnit(PRICE_UNITS[kind], draft.priceUnit)
  return (
    <View className="terms-fields">
      <Field
        name="quantity.amount"
        label="数量"
        value={draft.quantityAmount}
        onInput={(v) => set('quantityAmount', v)}
        error={errors['quantity.amount'] || errors['quantity.unit'] || errors.quantity}
        type="digit"
        suffix={draft.quantityUnit ? <Text className="unit">{draft.quantityUnit}</Text> : undefined}
      />
      <Chips name="quantity-unit" small options={qUnits.map((u) => ({ value: u, label: u }))} value={draft.quantityUnit} onChange={(v) => set('quantityUnit', v)} />
      <Field
        name="price.amount"
        label="价格"
        value={draft.priceAmount}
        onInput={(v) => set('priceAmount', v)}
        error={errors['price.amount'] || errors['price.unit'] || errors.price}
        type="digit"
        suffix={draft.priceUnit ? <Text className="unit">{draft.priceUnit}</Text> : undefined}
      />
      <Chips name="price-unit" small options={pUnits.map((u) => ({ value: u, label: u }))} value={draft.priceUnit} onChange={(v) => set('priceUnit', v)} />
      <View className="row dates">
        <DateField name="available_from" label="开始" value={draft.availableFrom} onChange={(v) => set('availableFrom', v)} error={errors.available_from} />
        <DateField name="available_until" label="结束" value={draft.availableUntil} onChange={(v) => set('availableUntil', v)} error={errors.available_until} />
      </View>
      <Field name="place" label="交付地点" value={draft.place} onInput={(v) => set('place', v)} error={errors.place} placeholder="如：大港五路88号 2号车间" maxlength={200} />
    </View>
  )
}
