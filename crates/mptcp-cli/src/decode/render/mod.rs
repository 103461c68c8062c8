//! Last stage of `mptcp decode`: print the decoded and analysed capture, as text for people or
//! as one JSON object per line for scripts.

pub mod fields;
mod json;
mod text;

pub use json::write_json;
pub use text::write_text;
