//! Load balancing: an endpoint may deliver to several `targets` instead of one `url`,
//! with a strategy: `random` (weighted), `weighted_round_robin` (smooth, as nginx does
//! it: weights 3 and 1 give a a b a, never a a a b), or `failover` (the first target,
//! then the next one within the same attempt when a target does not answer or answers
//! 5xx).

use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::FieldError;
use crate::endpoint::parse_url;

/// Most targets one endpoint may have.
pub const MAX_TARGETS: usize = 16;
/// The largest weight.
pub const MAX_WEIGHT: u32 = 1000;

/// One destination of an endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Where to send.
    pub url: String,
    /// Share of the traffic for `random` and `weighted_round_robin` (default 1).
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

/// How an endpoint spreads deliveries over its targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Each attempt goes to a target picked at random, in proportion to the weights.
    Random,
    /// Targets take turns in proportion to their weights, evenly interleaved.
    #[default]
    WeightedRoundRobin,
    /// The first target; on no answer or a 5xx, the next one within the same attempt.
    Failover,
}

impl Strategy {
    /// Parses the API's name of a strategy.
    pub fn parse(name: &str) -> Result<Self, FieldError> {
        match name {
            "random" => Ok(Self::Random),
            "weighted_round_robin" => Ok(Self::WeightedRoundRobin),
            "failover" => Ok(Self::Failover),
            other => Err(FieldError::new(
                "strategy",
                format!("unknown strategy {other:?}: use random, weighted_round_robin or failover"),
            )),
        }
    }
}

/// An endpoint's targets and strategy, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Targets {
    /// How deliveries are spread.
    pub strategy: Strategy,
    /// At least one; URLs normalized.
    pub targets: Vec<Target>,
}

impl Targets {
    /// Validates targets as a client wrote them (URLs as [`parse_url`] wants them,
    /// weights 1 to [`MAX_WEIGHT`], 1 to [`MAX_TARGETS`] targets, no URL twice).
    pub fn parse(targets: Vec<Target>, strategy: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let strategy = match strategy.map(Strategy::parse).transpose() {
            Ok(s) => s.unwrap_or_default(),
            Err(e) => {
                errors.push(e);
                Strategy::default()
            }
        };
        if targets.is_empty() || targets.len() > MAX_TARGETS {
            errors.push(FieldError::new(
                "targets",
                format!("an endpoint has 1 to {MAX_TARGETS} targets"),
            ));
        }
        let mut normalized = Vec::with_capacity(targets.len());
        for (i, t) in targets.into_iter().enumerate() {
            match parse_url(&t.url) {
                Ok(url) => {
                    let url = url.to_string();
                    if normalized.iter().any(|n: &Target| n.url == url) {
                        errors.push(FieldError::new(
                            format!("targets[{i}].url"),
                            format!("{url:?} is listed twice"),
                        ));
                    }
                    normalized.push(Target {
                        url,
                        weight: t.weight,
                    });
                }
                Err(e) => errors.push(FieldError::new(format!("targets[{i}].url"), e.message)),
            }
            if t.weight == 0 || t.weight > MAX_WEIGHT {
                errors.push(FieldError::new(
                    format!("targets[{i}].weight"),
                    format!("weight must be between 1 and {MAX_WEIGHT}"),
                ));
            }
        }
        if errors.is_empty() {
            Ok(Self {
                strategy,
                targets: normalized,
            })
        } else {
            Err(errors)
        }
    }

    /// The first target's URL (what an endpoint shows as its `url`).
    pub fn primary_url(&self) -> &str {
        &self.targets[0].url
    }
}

/// The per-endpoint state that picks targets (the round-robin's running weights).
#[derive(Debug, Default)]
pub struct Balancer {
    current: Vec<i64>,
}

impl Balancer {
    /// The targets one attempt tries, in order: one for `random` and
    /// `weighted_round_robin`, all of them in list order for `failover`.
    pub fn order(&mut self, targets: &Targets, rng: &mut impl Rng) -> Vec<usize> {
        let weights: Vec<i64> = targets
            .targets
            .iter()
            .map(|t| i64::from(t.weight))
            .collect();
        match targets.strategy {
            Strategy::Failover => (0..weights.len()).collect(),
            Strategy::Random => {
                let total: i64 = weights.iter().sum();
                let mut pick = rng.random_range(0..total.max(1));
                let i = weights
                    .iter()
                    .position(|w| {
                        pick -= w;
                        pick < 0
                    })
                    .unwrap_or(0);
                vec![i]
            }
            Strategy::WeightedRoundRobin => vec![self.next_smooth(&weights)],
        }
    }

    /// Smooth weighted round-robin: every target gains its weight, the one ahead is
    /// picked and loses the total.
    fn next_smooth(&mut self, weights: &[i64]) -> usize {
        if self.current.len() != weights.len() {
            // The targets changed: start over.
            self.current = vec![0; weights.len()];
        }
        let total: i64 = weights.iter().sum();
        for (c, w) in self.current.iter_mut().zip(weights) {
            *c += w;
        }
        let best = (0..weights.len())
            .max_by_key(|&i| (self.current[i], std::cmp::Reverse(i)))
            .unwrap_or(0);
        self.current[best] -= total;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn targets(strategy: &str, weights: &[u32]) -> Targets {
        let list = weights
            .iter()
            .enumerate()
            .map(|(i, w)| Target {
                url: format!("https://t{i}.example.com/"),
                weight: *w,
            })
            .collect();
        Targets::parse(list, Some(strategy)).unwrap()
    }

    #[test]
    fn round_robin_follows_the_weights_evenly_interleaved() {
        let t = targets("weighted_round_robin", &[3, 1]);
        let mut b = Balancer::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let picks: Vec<usize> = (0..8).map(|_| b.order(&t, &mut rng)[0]).collect();
        assert_eq!(picks, [0, 0, 1, 0, 0, 0, 1, 0]);
        let t = targets("weighted_round_robin", &[5, 3, 2]);
        let mut counts = [0; 3];
        for _ in 0..1000 {
            counts[b.order(&t, &mut rng)[0]] += 1;
        }
        assert_eq!(counts, [500, 300, 200]);
    }

    #[test]
    fn random_follows_the_weights() {
        let t = targets("random", &[1, 3]);
        let mut b = Balancer::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut counts = [0; 2];
        for _ in 0..20_000 {
            counts[b.order(&t, &mut rng)[0]] += 1;
        }
        let share = f64::from(counts[1]) / 20_000.0;
        assert!((0.72..0.78).contains(&share), "{counts:?}");
    }

    #[test]
    fn failover_tries_every_target_in_order() {
        let t = targets("failover", &[1, 1, 1]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        assert_eq!(Balancer::default().order(&t, &mut rng), [0, 1, 2]);
    }

    #[test]
    fn bad_targets_name_their_field() {
        let bad = Targets::parse(
            vec![
                Target {
                    url: "ftp://x".into(),
                    weight: 1,
                },
                Target {
                    url: "https://a.example.com".into(),
                    weight: 0,
                },
                Target {
                    url: "https://a.example.com/".into(),
                    weight: 1,
                },
            ],
            Some("fastest"),
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "strategy",
                "targets[0].url",
                "targets[1].weight",
                "targets[2].url"
            ]
        );
        assert!(Targets::parse(vec![], None).is_err());
        assert_eq!(targets("failover", &[1]).strategy, Strategy::Failover);
        assert_eq!(
            Targets::parse(
                vec![Target {
                    url: "https://a.example.com".into(),
                    weight: 1
                }],
                None
            )
            .unwrap()
            .strategy,
            Strategy::WeightedRoundRobin
        );
    }
}
