//! The harness's unit tests: the schema, the views and the producers called in-process (the CLI
//! run as a binary is tested in `tests/cli/`).

mod answer;
mod blocks;
mod common;
mod compare;
mod onnx;
mod report;
mod runtimes;
mod scaling;
mod shapes;
mod totals;
mod trust;
mod tune;
