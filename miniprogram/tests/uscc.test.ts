import { describe, expect, it } from 'vitest'
import { checkCharacter, checkUscc } from '../src/lib/uscc'

describe('checkUscc (GB 32100-2015)', () => {
  it('accepts valid codes, in any case and with spaces around', () => {
    for (const code of ['91330206625496915B', '91330206MA2LTKJ895', '91330206603660411L', '91330206MA2K7UM33J']) {
      expect(checkUscc(code)).toEqual({ ok: true, code })
      expect(checkUscc(` ${code.toLowerCase()} `)).toEqual({ ok: true, code })
    }
  })

  it('names the expected check character when one character is wrong', () => {
    const r = checkUscc('91330206625496915C')
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.code).toBe('invalid_check_character')
      expect(r.message).toBe('统一社会信用代码校验位不符：应为“B”，实际为“C”')
    }
  })

  it('treats a correct beginning as partial (no error shown while typing)', () => {
    const r = checkUscc('9133020662')
    expect(r.ok === false && r.partial).toBe(true)
    const bad = checkUscc('91I')
    expect(bad.ok === false && !bad.partial && bad.message).toBe('统一社会信用代码第 3 位含无效字符“I”')
    const region = checkUscc('91A3')
    expect(region.ok === false && region.message).toContain('行政区划码')
    const long = checkUscc('91330206625496915B1')
    expect(long.ok === false && !long.partial && long.message).toBe('统一社会信用代码应为 18 位，实际为 19 位')
  })

  it('wraps a check value of 31 to 0', () => {
    // A body whose weighted sum is a multiple of 31 has check character 0
    // (31 - 0 = 31 wraps), not a character past the alphabet.
    const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY'
    const bodies = Array.from(alphabet, (c) => `9133020662549691${c}`)
    const wrapped = bodies.filter((b) => checkCharacter(b) === '0')
    expect(wrapped.length).toBe(1)
    expect(checkUscc(`${wrapped[0]}0`).ok).toBe(true)
    for (const b of bodies) expect(alphabet).toContain(checkCharacter(b))
    expect(checkCharacter('short')).toBeNull()
  })
})
