//! Small macros shared by the domain modules.

/// An enum with a stored code, a Japanese and an English label, and a parser that accepts either the code
/// or the Japanese label (as people type them into CSV files and forms).
macro_rules! coded_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $code:literal, $ja:literal, $en:literal;)+ }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $code)] $variant,)+ }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];
            /// The stored/API code.
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code,)+ } }
            /// The Japanese label.
            pub fn label_ja(self) -> &'static str { match self { $($name::$variant => $ja,)+ } }
            /// The English label.
            pub fn label_en(self) -> &'static str { match self { $($name::$variant => $en,)+ } }
            /// Parses a code or a Japanese label (as people type them into CSV files).
            pub fn parse(s: &str) -> Option<Self> {
                let s = s.trim();
                $name::ALL.iter().copied().find(|v| v.code() == s || v.label_ja() == s)
            }
        }
    };
}
