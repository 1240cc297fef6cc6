//! `Named<T>`: a name a results file records from the registry's vocabulary (ISA, algorithm,
//! tile), typed on reading. A name this version does not know (another version's ISA, say) is
//! read, kept as written and says so (`known()` is `None`), instead of failing the file or being
//! mistaken for another.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Serialize};
use simdconv::{Algorithm, Isa, Tile};

/// A vocabulary a record names: its parser and its written form.
pub trait Vocab: Sized + Clone {
    /// The value of a written name, `None` if this version does not know it.
    fn parse(s: &str) -> Option<Self>;
    /// The name as written in files.
    fn write(&self) -> String;
}

impl Vocab for Isa {
    fn parse(s: &str) -> Option<Self> {
        Isa::from_name(s)
    }
    fn write(&self) -> String {
        self.name().into()
    }
}

impl Vocab for Algorithm {
    fn parse(s: &str) -> Option<Self> {
        Algorithm::from_name(s)
    }
    fn write(&self) -> String {
        self.name().into()
    }
}

impl Vocab for Tile {
    /// `MRxNR` (a GEMM tile) or `Nc` (channels per vector).
    fn parse(s: &str) -> Option<Self> {
        let num = |x: &str| x.parse::<usize>().ok().filter(|&n| n > 0);
        if let Some((mr, nr)) = s.split_once('x') {
            Some(Tile::Gemm {
                mr: num(mr)?,
                nr: num(nr)?,
            })
        } else {
            Some(Tile::Channels(num(s.strip_suffix('c')?)?))
        }
    }
    fn write(&self) -> String {
        self.to_string()
    }
}

/// A recorded name and, when this version knows it, its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String", bound = "T: Vocab")]
pub struct Named<T: Vocab> {
    name: String,
    known: Option<T>,
}

impl<T: Vocab + Copy> Named<T> {
    /// The value, `None` for a name this version does not know.
    pub(crate) fn known(&self) -> Option<T> {
        self.known
    }
}

impl<T: Vocab> Named<T> {
    /// The name as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.name
    }
}

impl<T: Vocab> Deref for Named<T> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.name
    }
}

impl<T: Vocab> From<T> for Named<T> {
    fn from(v: T) -> Self {
        Named {
            name: v.write(),
            known: Some(v),
        }
    }
}

impl<T: Vocab> From<String> for Named<T> {
    fn from(name: String) -> Self {
        let known = T::parse(&name);
        Named { name, known }
    }
}

impl<T: Vocab> From<&str> for Named<T> {
    fn from(name: &str) -> Self {
        Named::from(name.to_string())
    }
}

impl<T: Vocab> From<Named<T>> for String {
    fn from(n: Named<T>) -> String {
        n.name
    }
}

impl<T: Vocab> fmt::Display for Named<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl<T: Vocab> PartialEq<str> for Named<T> {
    fn eq(&self, other: &str) -> bool {
        self.name == other
    }
}

impl<T: Vocab> PartialEq<&str> for Named<T> {
    fn eq(&self, other: &&str) -> bool {
        self.name == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_ones_are_kept() {
        for t in ["6x16", "14x32", "16c"] {
            let n: Named<Tile> = t.into();
            assert!(n.known().is_some(), "{t}");
            assert_eq!(Named::from(n.known().unwrap()).as_str(), t);
        }
        for bad in ["6x", "x16", "0x16", "c", "16", "sve2"] {
            assert_eq!(Named::<Tile>::from(bad).known(), None, "{bad}");
        }
        let isa: Named<Isa> = serde_json::from_str("\"sve2\"").unwrap();
        assert_eq!((isa.as_str(), isa.known()), ("sve2", None));
        assert_eq!(serde_json::to_string(&isa).unwrap(), "\"sve2\"");
        let alg: Named<Algorithm> = serde_json::from_str("\"winograd-f4\"").unwrap();
        assert!(matches!(alg.known(), Some(Algorithm::Winograd(_))));
    }
}
