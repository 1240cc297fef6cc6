//! `Suite`: what a run measures, parsed once from the command line; every other module asks it
//! (which layers, whether the building-block claims run, default criterion timing).

use std::fmt;

use crate::catalogue;
use crate::schema::layer::Layer;

/// A named selection of layers and claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Suite {
    /// Three tiny layers, short criterion timing (< 1 min): CI's end-to-end check.
    Smoke,
    /// The 15 layers of the quick catalogue.
    Quick,
    /// Every layer of the catalogue's networks, and the building-block claims.
    Full,
    /// The building-block claims only.
    Blocks,
}

/// criterion's warm-up and measurement time per benchmark, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Warm-up, s.
    pub warm_up_s: f64,
    /// Measurement, s.
    pub measurement_s: f64,
}

impl Suite {
    /// Every suite.
    pub const ALL: [Suite; 4] = [Suite::Smoke, Suite::Quick, Suite::Full, Suite::Blocks];

    /// The name on the command line and in results files.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Smoke => "smoke",
            Suite::Quick => "quick",
            Suite::Full => "full",
            Suite::Blocks => "blocks",
        }
    }

    /// Parses [`Suite::name`].
    pub fn from_name(s: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|x| x.name() == s)
    }

    /// The single layers it measures (none for `blocks`).
    pub fn layers(self) -> Vec<Layer> {
        match self {
            Suite::Smoke => catalogue::smoke(),
            Suite::Quick => catalogue::quick(),
            Suite::Full => catalogue::full(),
            Suite::Blocks => Vec::new(),
        }
    }

    /// Whether it measures the building-block claims.
    pub fn has_blocks(self) -> bool {
        matches!(self, Suite::Full | Suite::Blocks)
    }

    /// Default criterion timing: short for smoke, longer for the others.
    pub fn timing(self) -> Timing {
        match self {
            Suite::Smoke => Timing {
                warm_up_s: 0.05,
                measurement_s: 0.2,
            },
            Suite::Quick | Suite::Full | Suite::Blocks => Timing {
                warm_up_s: 0.3,
                measurement_s: 1.0,
            },
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
