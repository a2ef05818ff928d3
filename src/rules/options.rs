//! Typed rule options: declared in a rule's TOML (`[options.NAME]`), overridden in
//! conflint.toml (`[rules.CODE]`).

use serde::Deserialize;

use crate::effective::values::{parse_offset, parse_time, Millis, TimeKind};

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum OptionType {
    /// An nginx time (`60s`, `5m`, `500ms`).
    Duration,
    /// A byte size with `k`/`m`/`g` (`64m`, `8GiB` is also accepted).
    Size,
    Integer,
    Float,
    String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSpec {
    #[serde(rename = "type")]
    pub kind: OptionType,
    /// Written as the user would write it in conflint.toml.
    pub default: RawValue,
    pub doc: String,
}

/// An option value as written in TOML, before its type is checked.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum RawValue {
    Integer(i64),
    Float(f64),
    String(String),
}

impl RawValue {
    pub fn from_toml(value: &toml_edit::Value) -> Option<RawValue> {
        match value {
            toml_edit::Value::String(s) => Some(RawValue::String(s.value().clone())),
            toml_edit::Value::Integer(i) => Some(RawValue::Integer(*i.value())),
            toml_edit::Value::Float(f) => Some(RawValue::Float(*f.value())),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            RawValue::String(s) => Some(s),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    Duration(Millis),
    Size(u64),
    Integer(i64),
    Float(f64),
    String(String),
}

impl OptionType {
    pub fn label(self) -> &'static str {
        match self {
            OptionType::Duration => "duration",
            OptionType::Size => "size",
            OptionType::Integer => "integer",
            OptionType::Float => "number",
            OptionType::String => "string",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            OptionType::Duration => "a duration such as \"60s\"",
            OptionType::Size => "a size such as \"64m\" or \"8GiB\"",
            OptionType::Integer => "an integer",
            OptionType::Float => "a number",
            OptionType::String => "a string",
        }
    }

    /// Check and convert a TOML value written by a user or a rule file.
    pub fn parse(self, value: &RawValue) -> Result<OptionValue, String> {
        let bad = || format!("expected {}", self.name());
        match self {
            OptionType::Duration => {
                let s = value.as_str().ok_or_else(bad)?;
                parse_time(s, TimeKind::Msec).map(OptionValue::Duration).ok_or_else(|| format!("`{s}` is not a valid nginx time"))
            }
            OptionType::Size => {
                let s = value.as_str().ok_or_else(bad)?;
                parse_host_size(s).map(OptionValue::Size).ok_or_else(|| format!("`{s}` is not a valid size"))
            }
            OptionType::Integer => match value {
                RawValue::Integer(i) => Ok(OptionValue::Integer(*i)),
                _ => Err(bad()),
            },
            OptionType::Float => match value {
                RawValue::Integer(i) => Ok(OptionValue::Float(*i as f64)),
                RawValue::Float(f) => Ok(OptionValue::Float(*f)),
                RawValue::String(_) => Err(bad()),
            },
            OptionType::String => value.as_str().map(|s| OptionValue::String(s.to_string())).ok_or_else(bad),
        }
    }
}

/// Sizes as ops people write them: nginx's `512m`/`8g`, or `8GiB`, `512MiB`, `8GB`.
pub fn parse_host_size(s: &str) -> Option<u64> {
    let t = s.trim();
    for (suffix, scale) in [("KiB", 1u64 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30), ("TB", 1 << 40)] {
        if let Some(n) = t.strip_suffix(suffix) {
            return n.trim().parse::<u64>().ok()?.checked_mul(scale);
        }
    }
    parse_offset(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_sizes() {
        assert_eq!(parse_host_size("8GiB"), Some(8 << 30));
        assert_eq!(parse_host_size("512m"), Some(512 << 20));
        assert_eq!(parse_host_size("64MB"), Some(64 << 20));
        assert_eq!(parse_host_size("lots"), None);
    }
}
