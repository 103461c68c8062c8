//! Tests of the wire layer as a whole: known answers from real kernel traffic, and property
//! tests (round trips of every option and header, and robustness on arbitrary bytes).

mod captures;
mod robustness;
mod roundtrip;
mod strategies;
