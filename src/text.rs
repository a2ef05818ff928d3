//! [`Text`]: the strings of the parse trees (nginx words and comments, PHP-FPM names and
//! values).
//!
//! A big tree holds millions of them and most are a few bytes long (`listen`, `80`,
//! `pm.max_children`): as `String`s each was a heap allocation of its own, about as much
//! memory as the node holding it and a good part of the parse time. A `Text` of up to
//! [`INLINE`] bytes lives in the node itself; a longer one is one shared allocation, so
//! cloning any `Text` (every effective setting holds its entry's value) never copies the
//! bytes.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use smol_str::SmolStr;

/// The longest text stored inline (`smol_str`'s limit).
pub const INLINE: usize = 23;

/// A [`SmolStr`] (inline up to [`INLINE`] bytes, else one shared `Arc<str>`) that prints,
/// compares and converts as the `String` it replaced in the trees.
#[derive(Clone, Default)]
pub struct Text(SmolStr);

impl Text {
    pub const fn new() -> Text {
        Text(SmolStr::new_inline(""))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        if s.len() <= INLINE { Text(SmolStr::new_inline(s)) } else { Text(SmolStr::new(s)) }
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::from(s.as_str())
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}

impl From<&Text> for String {
    fn from(t: &Text) -> String {
        t.as_str().to_owned()
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        t.as_str().to_owned()
    }
}

impl Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<std::path::Path> for Text {
    fn as_ref(&self) -> &std::path::Path {
        self.as_str().as_ref()
    }
}

impl AsRef<std::ffi::OsStr> for Text {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.as_str().as_ref()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

/// Printed as the string it holds, as the `String` it replaces was.
impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Text {}

impl PartialOrd for Text {
    fn partial_cmp(&self, other: &Text) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Text {
    fn cmp(&self, other: &Text) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

/// Hashed as a `str`, so maps keyed by `Text` can be looked up with a `&str`.
impl Hash for Text {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

macro_rules! eq_with {
    ($($other:ty),*) => {$(
        impl PartialEq<$other> for Text {
            fn eq(&self, other: &$other) -> bool {
                self.as_str() == AsRef::<str>::as_ref(other)
            }
        }
        impl PartialEq<Text> for $other {
            fn eq(&self, other: &Text) -> bool {
                AsRef::<str>::as_ref(self) == other.as_str()
            }
        }
    )*};
}

eq_with!(str, &str, String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_short_and_long_text_and_compares_as_str() {
        assert_eq!(std::mem::size_of::<Text>(), 24);
        for s in ["", "listen", "é".repeat(11).as_str(), "a".repeat(INLINE + 1).as_str(), "/var/log/nginx/site0.access.log"] {
            let t = Text::from(s);
            assert_eq!(t.as_str(), s);
            assert_eq!(t, s);
            assert_eq!(t.clone(), Text::from(s.to_string()));
            assert_eq!(format!("{t:?}"), format!("{s:?}"));
        }
        let (a, b) = (Text::from("a"), Text::from("b"));
        assert!(a < b, "ordered as their strings");
    }
}
