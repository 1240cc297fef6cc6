//! Every record the harness writes or reads, in one place: results files (`results`), the
//! machine profile they carry (`machine`), a named layer (`layer`), the suite
//! a file names (`suite`) and tuning files (`tuning`).
//! The schema imports no producer (probing, measuring, tuning) and no view; producers fill these
//! records and views read them. Versions and what older files mean are documented in
//! `reports/README.md`.

pub mod layer;
pub mod machine;
pub mod named;
pub mod precision;
pub mod results;
pub mod runtimes;
pub mod suite;
pub mod tuning;
