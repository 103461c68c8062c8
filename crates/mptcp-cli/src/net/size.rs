//! Byte counts as people write them (`--send 64M`, `10MiB`, `1GB`) and as they read them.

/// Parses a byte count: digits, then an optional unit, case-insensitive.
///
/// `K`, `M`, `G`, `T` and `KiB`, `MiB`, `GiB`, `TiB` are powers of 1024 (as in `dd`,
/// `iperf` and `head -c`); `KB`, `MB`, `GB`, `TB` are powers of 1000; `B` or nothing means
/// bytes. `64M` is 67108864 bytes, `10MB` is 10000000.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(format!(
            "{text:?} is not a size: expected digits and an optional unit, like 4096, 64M or 10MiB"
        ));
    }
    let multiplier: u64 = match unit.trim_start().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use K, M, G, T (powers of 1024, also \
                 written KiB, MiB, ...) or KB, MB, GB, TB (powers of 1000)"
            ));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("{text:?} is too large (at most {} bytes)", u64::MAX))
}

/// A byte count for people: `512 B`, `1.5 KiB`, `8.0 MiB`, `1.00 GiB`.
pub fn format_bytes(bytes: u64) -> String {
    binary_units(bytes, " ", ["B", "KiB", "MiB", "GiB", "TiB"])
}

/// `bytes` in the largest power of 1024 (`units[1..]`) that keeps it at least 1, with two
/// decimals below 10 and one above; below 1024 as a whole number of `units[0]`. `gap`
/// goes between number and unit.
pub fn binary_units(bytes: u64, gap: &str, units: [&str; 5]) -> String {
    if bytes < 1024 {
        return format!("{bytes}{gap}{}", units[0]);
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 1;
    while value >= 1024.0 && unit + 1 < units.len() {
        value /= 1024.0;
        unit += 1;
    }
    let precision = if value < 10.0 { 2 } else { 1 };
    format!("{value:.precision$}{gap}{}", units[unit])
}

/// A rate in Mbit/s with two decimals, from bytes moved in `seconds`.
pub fn format_rate(bytes: u64, seconds: f64) -> String {
    format!("{:.2} Mbit/s", rate_bps(bytes, seconds) / 1e6)
}

/// Bits per second of `bytes` moved in `seconds`; 0 for an empty interval.
pub fn rate_bps(bytes: u64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        bytes as f64 * 8.0 / seconds
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_numbers_and_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("64m"), Ok(64 << 20));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("3kib"), Ok(3072));
        assert_eq!(parse_size("2T"), Ok(2 << 40));
        assert_eq!(parse_size("100B"), Ok(100));
        assert_eq!(parse_size(" 8 M "), Ok(8 << 20));
    }

    #[test]
    fn decimal_units() {
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("1kb"), Ok(1000));
        assert_eq!(parse_size("2GB"), Ok(2_000_000_000));
    }

    #[test]
    fn bad_sizes_say_why() {
        assert!(parse_size("").unwrap_err().contains("not a size"));
        assert!(parse_size("M").unwrap_err().contains("not a size"));
        assert!(parse_size("-1").unwrap_err().contains("not a size"));
        assert!(parse_size("1.5G").unwrap_err().contains("unknown unit"));
        assert!(parse_size("12X").unwrap_err().contains("unknown unit"));
        assert!(
            parse_size("99999999999T")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_size("99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn sizes_print_for_people() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(1536), "1.50 KiB");
        assert_eq!(format_bytes(8 << 20), "8.00 MiB");
        assert_eq!(format_bytes(100 << 20), "100.0 MiB");
        assert_eq!(format_bytes(3 << 30), "3.00 GiB");
        assert_eq!(format_rate(1_250_000, 1.0), "10.00 Mbit/s");
        assert_eq!(rate_bps(1000, 0.0), 0.0);
    }
}
