//! What a [`Suite`] (the schema's) measures: which layers, and its default criterion timing.

use crate::catalogue;
use crate::schema::layer::Layer;
pub(crate) use crate::schema::suite::Suite;

/// criterion's warm-up and measurement time per benchmark, seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timing {
    /// Warm-up, s.
    pub warm_up_s: f64,
    /// Measurement, s.
    pub measurement_s: f64,
}

impl Suite {
    /// The single layers it measures (none for `blocks`).
    pub fn layers(self) -> Vec<Layer> {
        match self {
            Suite::Smoke => catalogue::smoke(),
            Suite::Quick => catalogue::quick(),
            Suite::Full => catalogue::full(),
            Suite::Blocks | Suite::Tune | Suite::Shapes => Vec::new(),
        }
    }

    /// Default criterion timing: short for smoke, longer for the others.
    pub(crate) fn timing(self) -> Timing {
        match self {
            Suite::Smoke => Timing {
                warm_up_s: 0.05,
                measurement_s: 0.2,
            },
            Suite::Quick | Suite::Full | Suite::Blocks | Suite::Tune | Suite::Shapes => Timing {
                warm_up_s: 0.3,
                measurement_s: 1.0,
            },
        }
    }
}
