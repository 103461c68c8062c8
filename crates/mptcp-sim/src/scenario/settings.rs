//! A host's settings in a scenario (and in `mptcp --config FILE`): the registry's names
//! (`mptcp_proto::settings`) as a TOML table, flat or nested — `settings = {
//! mptcp.scheduler = "roundrobin", roundrobin.num_segments = 3 }` or a `[settings.mptcp]`
//! table. Switches take `true`/`false` or `0`/`1`.

use mptcp_proto::settings::{SettingError, Settings};
use serde::{Deserialize, Deserializer};

/// Settings by name, with their values as text, in order (a TOML table's in the order of
/// their names; later ones win).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsSpec(pub Vec<(String, String)>);

impl SettingsSpec {
    /// The defaults with these settings applied; the first unknown name or bad value is an
    /// error.
    pub fn settings(&self) -> Result<Settings, SettingError> {
        let mut settings = Settings::default();
        for (name, value) in &self.0 {
            settings.set(name, value)?;
        }
        Ok(settings)
    }

    /// Adds `name = value` after the others (a later value of a name wins).
    pub fn push(&mut self, name: &str, value: &str) {
        self.0.push((name.to_owned(), value.to_owned()));
    }

    /// Whether `name` is given.
    pub fn has(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

impl<'de> Deserialize<'de> for SettingsSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let table = toml::Table::deserialize(deserializer)?;
        let mut pairs = Vec::new();
        flatten("", &table, &mut pairs).map_err(serde::de::Error::custom)?;
        Ok(Self(pairs))
    }
}

/// Appends `table`'s values under `prefix` to `pairs`, nested tables as dotted names.
fn flatten(
    prefix: &str,
    table: &toml::Table,
    pairs: &mut Vec<(String, String)>,
) -> Result<(), String> {
    for (key, value) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let text = match value {
            toml::Value::Table(inner) => {
                flatten(&name, inner, pairs)?;
                continue;
            }
            toml::Value::String(text) => text.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(on) => u8::from(*on).to_string(),
            other => {
                let kind = other.type_str();
                return Err(format!(
                    "{name}: expected a string, number or boolean, got {kind}"
                ));
            }
        };
        if pairs.iter().any(|(given, _)| *given == name) {
            // `"mptcp.scheduler"` and `mptcp.scheduler` in one table.
            return Err(format!("{name} given twice"));
        }
        pairs.push((name, text));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SettingsSpec, toml::de::Error> {
        #[derive(Deserialize)]
        struct Holder {
            settings: SettingsSpec,
        }
        toml::from_str::<Holder>(text).map(|h| h.settings)
    }

    #[test]
    fn flat_and_nested_tables_give_dotted_names() {
        let spec = parse(
            "settings = { mptcp.scheduler = \"roundrobin\", \"roundrobin.num_segments\" = 3, \
             blest = { lambda = 1.1 }, tcp.sack = false }",
        )
        .unwrap();
        let settings = spec.settings().unwrap();
        assert_eq!(settings.get("mptcp.scheduler").unwrap(), "roundrobin");
        assert_eq!(settings.get("roundrobin.num_segments").unwrap(), "3");
        assert_eq!(settings.get("blest.lambda").unwrap(), "1.1");
        assert_eq!(settings.get("tcp.sack").unwrap(), "0");
        assert!(spec.has("tcp.sack") && !spec.has("tcp.nodelay"));
    }

    #[test]
    fn unknown_names_bad_values_and_arrays_are_errors() {
        let spec = parse("settings = { mptcp.schedule = \"default\" }").unwrap();
        assert!(
            spec.settings()
                .unwrap_err()
                .to_string()
                .contains("valid: mptcp.enabled")
        );
        let spec = parse("settings = { limits.subflows = 99 }").unwrap();
        assert_eq!(
            spec.settings().unwrap_err().to_string(),
            "bad value \"99\" for limits.subflows: expected an integer from 0 to 8"
        );
        let error =
            parse("settings = { mptcp.scheduler = \"ecf\", \"mptcp.scheduler\" = \"default\" }")
                .unwrap_err();
        assert!(
            error.to_string().contains("mptcp.scheduler given twice"),
            "{error}"
        );
        let error = parse("settings = { mptcp.scheduler = [\"a\"] }").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("mptcp.scheduler: expected a string, number or boolean, got array"),
            "{error}"
        );
    }
}
