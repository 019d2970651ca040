// 统一社会信用代码 (GB 32100-2015), checked as the user types: the same
// rules and messages as the server (matcher/src/uscc.rs).

const CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY'
/** Weights of positions 1..=17 (3^(i-1) mod 31). */
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

export type UsccCheck =
  | { ok: true; code: string }
  | { ok: false; code: 'invalid_format' | 'invalid_check_character'; message: string; partial: boolean }

/** The check character for 17 characters of the alphabet, or null. */
export function checkCharacter(body: string): string | null {
  if (body.length !== 17) return null
  let sum = 0
  for (let i = 0; i < 17; i++) {
    const v = CHARSET.indexOf(body[i])
    if (v < 0) return null
    sum += v * WEIGHTS[i]
  }
  return CHARSET[(31 - (sum % 31)) % 31]
}

/**
 * Checks a code. `partial` is true while the input is a valid beginning of a
 * code (shorter than 18, nothing wrong yet): the form shows no error then.
 */
export function checkUscc(input: string): UsccCheck {
  const code = input.trim().toUpperCase()
  const chars = Array.from(code)
  for (let i = 0; i < chars.length && i < 18; i++) {
    const ch = chars[i]
    if (CHARSET.indexOf(ch) < 0 || ch.length !== 1) {
      return { ok: false, code: 'invalid_format', message: `统一社会信用代码第 ${i + 1} 位含无效字符“${ch}”`, partial: false }
    }
  }
  const region = chars.slice(2, 8)
  if (region.some((c) => !/[0-9]/.test(c))) {
    return {
      ok: false,
      code: 'invalid_format',
      message: `统一社会信用代码第 3–8 位（行政区划码）应为数字，实际为“${region.join('')}”`,
      partial: false,
    }
  }
  if (chars.length !== 18) {
    return {
      ok: false,
      code: 'invalid_format',
      message: `统一社会信用代码应为 18 位，实际为 ${chars.length} 位`,
      partial: chars.length < 18,
    }
  }
  const expected = checkCharacter(code.slice(0, 17))
  if (expected !== code[17]) {
    return {
      ok: false,
      code: 'invalid_check_character',
      message: `统一社会信用代码校验位不符：应为“${expected}”，实际为“${code[17]}”`,
      partial: false,
    }
  }
  return { ok: true, code }
}
