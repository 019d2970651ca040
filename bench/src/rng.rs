//! A small seeded random source with the few draws the generator needs.
//!
//! ChaCha8 is used because its output for a seed is fixed by its algorithm
//! (rand's `SmallRng`/`StdRng` may change between releases), which is what
//! makes same seed + same arguments give byte-identical files.

use rand::{Rng as _, SeedableRng};
use rand_chacha::ChaCha8Rng;

pub struct Rng(ChaCha8Rng);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Uniform in `0..n`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        self.0.random_range(0..n)
    }

    /// Uniform integer in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        self.0.random_range(lo..=hi)
    }

    /// Uniform integer in `lo..=hi` rounded down to a multiple of `step` (never below `lo`).
    pub fn step(&mut self, lo: i64, hi: i64, step: i64) -> i64 {
        let v = self.int(lo, hi);
        (v / step * step).max(lo)
    }

    /// Uniform real in `[lo, hi)`.
    pub fn real(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.0.random::<f64>()
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random::<f64>() < p
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    pub fn pick_ref<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Picks by integer weight; weights must not all be zero.
    pub fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u32 = items.iter().map(|&(_, w)| w).sum();
        let mut n = self.0.random_range(0..total);
        for &(item, w) in items {
            if n < w {
                return item;
            }
            n -= w;
        }
        items[items.len() - 1].0
    }

    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }
}
