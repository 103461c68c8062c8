//! Values written as text in scenario files: durations ("10ms"), rates ("100Mbit"), link
//! ends ("client:0") and prefixes ("10.0.1.0/24").

use core::fmt;
use core::net::IpAddr;
use core::str::FromStr;
use core::time::Duration;

use serde::Deserialize;
use thiserror::Error;

/// A value that does not parse, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid {what} {text:?}: expected {expected}")]
pub struct UnitError {
    what: &'static str,
    text: String,
    expected: &'static str,
}

/// Parses a non-negative decimal number ("12", "1.5") times `scale`, exactly; `None` if it
/// is not such a number or overflows.
fn scaled_decimal(text: &str, scale: u64) -> Option<u64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) {
        return None;
    }
    let mut value = whole.parse::<u64>().ok()?.checked_mul(scale)?;
    let mut unit = scale;
    for digit in fraction.bytes() {
        unit /= 10;
        value = value.checked_add(u64::from(digit - b'0') * unit)?;
    }
    Some(value)
}

/// Splits "12.5ms" into ("12.5", "ms"), ignoring spaces between them.
fn split_unit(text: &str) -> (&str, &str) {
    let at = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    (&text[..at], text[at..].trim())
}

/// A duration written with a unit: `ns`, `us` (or `µs`), `ms`, `s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize)]
#[serde(try_from = "String")]
pub struct Time(pub Duration);

impl FromStr for Time {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let (number, unit) = split_unit(text.trim());
        let scale = match unit {
            "ns" => 1,
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            _ => 0,
        };
        match scaled_decimal(number, scale) {
            Some(nanos) if scale > 0 => Ok(Time(Duration::from_nanos(nanos))),
            _ => Err(UnitError {
                what: "duration",
                text: text.to_owned(),
                expected: "a number and a unit among ns, us, ms, s (like \"10ms\")",
            }),
        }
    }
}

/// A rate in bit/s written with a unit: `bit`, `kbit`, `Mbit`, `Gbit` (optionally with
/// `/s`, or as `bps`, `kbps`, `Mbps`, `Gbps`; decimal multiples).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Deserialize)]
#[serde(try_from = "String")]
pub struct Rate(pub u64);

impl FromStr for Rate {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let (number, unit) = split_unit(text.trim());
        let unit = unit.strip_suffix("/s").unwrap_or(unit);
        let scale = match unit {
            "bit" | "bps" => 1,
            "kbit" | "kbps" => 1_000,
            "Mbit" | "Mbps" => 1_000_000,
            "Gbit" | "Gbps" => 1_000_000_000,
            _ => 0,
        };
        match scaled_decimal(number, scale) {
            Some(rate) if scale > 0 => Ok(Rate(rate)),
            _ => Err(UnitError {
                what: "rate",
                text: text.to_owned(),
                expected: "a number and a unit among bit, kbit, Mbit, Gbit (like \"100Mbit\")",
            }),
        }
    }
}

/// One end of a link: a node name and an interface number, written "name:iface".
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Endpoint {
    /// Host or router name.
    pub node: String,
    /// Interface number on that node.
    pub iface: usize,
}

impl FromStr for Endpoint {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        text.rsplit_once(':')
            .and_then(|(node, iface)| {
                Some(Endpoint {
                    node: node.to_owned(),
                    iface: iface.parse().ok()?,
                })
            })
            .filter(|end| !end.node.is_empty())
            .ok_or_else(|| UnitError {
                what: "link end",
                text: text.to_owned(),
                expected: "a node name and an interface number (like \"client:0\")",
            })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.node, self.iface)
    }
}

/// An address with a prefix length, written "10.0.1.1/24" or "2001:db8::/32" (an address
/// alone has the full length).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Prefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length in bits.
    pub len: u8,
}

impl FromStr for Prefix {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Self, UnitError> {
        let error = || UnitError {
            what: "address",
            text: text.to_owned(),
            expected: "an IP address with an optional prefix length (like \"10.0.1.0/24\")",
        };
        let (addr, len) = text.split_once('/').unwrap_or((text, ""));
        let addr: IpAddr = addr.parse().map_err(|_| error())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = if len.is_empty() {
            max
        } else {
            len.parse().map_err(|_| error())?
        };
        if len > max {
            return Err(error());
        }
        Ok(Prefix { addr, len })
    }
}

macro_rules! try_from_string {
    ($($ty:ty),*) => {$(
        impl TryFrom<String> for $ty {
            type Error = UnitError;

            fn try_from(text: String) -> Result<Self, UnitError> {
                text.parse()
            }
        }
    )*};
}

try_from_string!(Time, Rate, Endpoint, Prefix);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations_exactly() {
        assert_eq!("10ms".parse(), Ok(Time(Duration::from_millis(10))));
        assert_eq!("1.5 s".parse(), Ok(Time(Duration::from_millis(1500))));
        assert_eq!("250us".parse(), Ok(Time(Duration::from_micros(250))));
        assert_eq!("0.000000001s".parse(), Ok(Time(Duration::from_nanos(1))));
        let err = "10".parse::<Time>().unwrap_err();
        assert!(
            err.to_string().contains("expected a number and a unit"),
            "{err}"
        );
        assert!("ms".parse::<Time>().is_err());
        assert!("1.2.3s".parse::<Time>().is_err());
    }

    #[test]
    fn parses_rates() {
        assert_eq!("100Mbit".parse(), Ok(Rate(100_000_000)));
        assert_eq!("1.5 Gbit/s".parse(), Ok(Rate(1_500_000_000)));
        assert_eq!("56kbps".parse(), Ok(Rate(56_000)));
        assert!("100MB".parse::<Rate>().is_err());
    }

    #[test]
    fn parses_ends_and_prefixes() {
        let end: Endpoint = "r1:2".parse().unwrap();
        assert_eq!((end.node.as_str(), end.iface), ("r1", 2));
        assert!("r1".parse::<Endpoint>().is_err());
        assert!(":1".parse::<Endpoint>().is_err());
        let prefix: Prefix = "10.0.1.0/24".parse().unwrap();
        assert_eq!(prefix.len, 24);
        assert_eq!("2001:db8::1".parse::<Prefix>().unwrap().len, 128);
        assert!("10.0.0.0/33".parse::<Prefix>().is_err());
    }
}
