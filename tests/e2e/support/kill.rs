/// A small linear congruential generator: enough to pick kill points, repeatable by seed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// `SEEDANCE_KILL_ROUNDS` and `SEEDANCE_KILL_SEED`, else the test's defaults.
pub fn rounds_and_seed(rounds: usize, seed: u64) -> (usize, u64) {
    let var = |name: &str| std::env::var(name).ok();
    let rounds = var("SEEDANCE_KILL_ROUNDS")
        .and_then(|v| v.parse().ok())
        .unwrap_or(rounds);
    let seed = var("SEEDANCE_KILL_SEED")
        .and_then(|v| v.parse().ok())
        .unwrap_or(seed);
    (rounds, seed)
}
