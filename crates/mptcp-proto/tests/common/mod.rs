//! Shared test harness: two stacks on a virtual wire.
#![allow(dead_code)]

pub mod pair;
