//! `Suite`: what a run measures, parsed once from the command line, and the name a results file
//! records for it (`SuiteName`, which also reads names this version does not know). Which layers
//! and timing a suite means is the producers' (`suite.rs`).

use std::fmt;

use serde::{Deserialize, Serialize};

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
    /// `tune`'s grid (recorded by `tune`, never chosen with `--suite`).
    #[value(skip)]
    Tune,
    /// The layers of `--shapes` files (recorded when they replace the suite's).
    #[value(skip)]
    Shapes,
}

impl Suite {
    /// Every suite.
    pub(crate) const ALL: [Suite; 6] = [
        Suite::Smoke,
        Suite::Quick,
        Suite::Full,
        Suite::Blocks,
        Suite::Tune,
        Suite::Shapes,
    ];

    /// The name on the command line and in results files.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Suite::Smoke => "smoke",
            Suite::Quick => "quick",
            Suite::Full => "full",
            Suite::Blocks => "blocks",
            Suite::Tune => "tune",
            Suite::Shapes => "shapes",
        }
    }

    /// Whether it measures the building-block claims.
    pub(crate) fn has_blocks(self) -> bool {
        matches!(self, Suite::Full | Suite::Blocks)
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The suite a results file names: one this version knows, or the name as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum SuiteName {
    /// A suite of this version.
    Known(Suite),
    /// A name from another version, kept as written.
    Unknown(String),
}

impl Default for SuiteName {
    fn default() -> Self {
        SuiteName::Unknown(String::new())
    }
}

impl From<String> for SuiteName {
    fn from(s: String) -> Self {
        match Suite::ALL.into_iter().find(|x| x.name() == s) {
            Some(x) => SuiteName::Known(x),
            None => SuiteName::Unknown(s),
        }
    }
}

impl From<SuiteName> for String {
    fn from(s: SuiteName) -> String {
        s.to_string()
    }
}

impl fmt::Display for SuiteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SuiteName::Known(s) => f.write_str(s.name()),
            SuiteName::Unknown(s) => f.write_str(s),
        }
    }
}
