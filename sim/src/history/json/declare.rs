//! The macros that declare a message once (`message!`, `oneof!`, `events!`) and generate
//! its reading, key order and writing; `messages.rs` holds the declarations.

use super::*;

// ---------------------------------------------------------------------------------------------
// Declaring messages
// ---------------------------------------------------------------------------------------------

/// A protobuf `oneof` whose cases carry leftovers in the enclosing message's `extra` (the
/// `*FailureInfo` objects); declared with `oneof!`. Its `None` variant is the absent case.
pub(super) trait OneOf: Sized {
    /// The value when no case is present.
    fn empty() -> Self;
    /// The key of the case `self` holds, if any.
    fn key(&self) -> Option<&'static str>;
    /// Reads the case under key `k`, or `None` when `k` is no modelled case. `prev` is the case
    /// already read (an error: a oneof holds one case).
    fn read(
        k: &str,
        v: &Value,
        p: &Path,
        extra: &mut Extra,
        prev: Option<&str>,
    ) -> Res<Option<Self>>;
    /// Writes every case key in declaration order: the one `self` holds, the others from
    /// `extra`.
    fn write(&self, out: &mut Out<'_>, shorthand: bool);
}

/// `codec!()` is [`Plain`], `codec!(C)` is `C`.
macro_rules! codec {
    () => {
        Plain
    };
    ($codec:ident) => {
        $codec
    };
}

/// `is_required!()` is false, `is_required!(required)` true (any other word does not compile).
macro_rules! is_required {
    () => {
        false
    };
    (required) => {
        true
    };
}

/// `required_key!(required "key")` is `"key"`.
macro_rules! required_key {
    (required $key:literal) => {
        $key
    };
}

/// Reads one declared key of `$a`: a modelled field (a null goes to `extra`), or (a bare key)
/// into `extra`.
macro_rules! read_entry {
    ($a:ident, $k:ident, $v:ident, $q:ident, $key:literal) => {{
        $a.extra.insert($k.clone(), $v.clone());
    }};
    ($a:ident, $k:ident, $v:ident, $q:ident, $key:literal => $field:ident $(as $codec:ident)? $(($flag:ident))?) => {
        if $v.is_null() {
            $a.extra.insert($k.clone(), Value::Null);
        } else {
            $a.$field = <codec!($($codec)?) as Codec<_>>::read(
                $v,
                &$q,
                Spill { key: $key, extra: &mut $a.extra },
            )?;
        }
    };
}

/// Writes one declared key: a modelled field, or (a bare key) whatever `extra` holds for it.
macro_rules! write_entry {
    ($out:ident, $a:ident, $shorthand:ident, $key:literal) => {
        $out.known($key)
    };
    ($out:ident, $a:ident, $shorthand:ident, $key:literal => $field:ident $(as $codec:ident)? $(($flag:ident))?) => {
        $out.field(
            $key,
            <codec!($($codec)?) as Codec<_>>::write(&$a.$field, $shorthand, is_required!($($flag)?)),
        )
    };
}

/// Declares the codec of a message struct that has an `extra` map: every key of the protobuf
/// message in declaration order, each either modelled (`"key" => field`, optionally `as Codec`
/// and `(required)`) or bare (`"key"`: not modelled, kept in `extra` and written back at this
/// place). An optional trailing `oneof field: Type` reads and writes a [`OneOf`].
///
/// Generates `impl Codec<Struct> for Plain`: reading fails on a missing `required` key,
/// reads each modelled key, and keeps all others (and nulls) in `extra`, in input order;
/// writing emits the keys in declaration order, leaving out default values except for
/// `required` fields, then any undeclared keys from `extra`.
macro_rules! message {
    ($name:ident {
        $( $key:literal $( => $field:ident $(as $codec:ident)? $(($flag:ident))? )? ),* $(,)?
    } $( oneof $ofield:ident: $oty:ident )?) => {
        impl Codec<$name> for Plain {
            fn empty() -> $name {
                $name {
                    $($( $field: <codec!($($codec)?) as Codec<_>>::empty(), )?)*
                    $( $ofield: <$oty as OneOf>::empty(), )?
                    extra: Extra::new(),
                }
            }

            // A key declared twice is an unreachable pattern: it does not compile.
            #[deny(unreachable_patterns)]
            fn read(v: &Value, p: &Path, _: Spill) -> Res<$name> {
                let m = obj(v, p)?;
                require(m, p, &[$($($( required_key!($flag $key), )?)?)*])?;
                let mut a = <Plain as Codec<$name>>::empty();
                for (k, v) in m {
                    let q = p.key(k);
                    match k.as_str() {
                        $( $key => read_entry!(a, k, v, q, $key $(=> $field $(as $codec)? $(($flag))?)?), )*
                        _ => {
                            $(
                                if !v.is_null() {
                                    let prev = a.$ofield.key();
                                    if let Some(x) = <$oty as OneOf>::read(k, v, &q, &mut a.extra, prev)? {
                                        a.$ofield = x;
                                        continue;
                                    }
                                }
                            )?
                            a.extra.insert(k.clone(), v.clone());
                        }
                    }
                }
                Ok(a)
            }

            fn write(a: &$name, shorthand: bool, _: bool) -> Option<Value> {
                let modelled = [$($(stringify!($field),)?)*].len();
                let mut out = Out::new(&a.extra, modelled);
                $( write_entry!(out, a, shorthand, $key $(=> $field $(as $codec)? $(($flag))?)?); )*
                $( <$oty as OneOf>::write(&a.$ofield, &mut out, shorthand); )?
                Some(out.finish())
            }
        }
    };
}

/// Writes one case of a [`OneOf`]: the case `self` holds, or whatever `extra` holds.
macro_rules! write_case {
    ($this:ident, $out:ident, $shorthand:ident, $name:ident, $key:literal) => {
        $out.known($key)
    };
    ($this:ident, $out:ident, $shorthand:ident, $name:ident, $key:literal =>
        $variant:ident { $( $fkey:literal => $field:ident $(as $codec:ident)? ),* }) => {
        match $this {
            $name::$variant { $($field),* } => {
                #[allow(unused_mut)] // a case without fields
                let mut m = Map::new();
                $(
                    if let Some(v) = <codec!($($codec)?) as Codec<_>>::write($field, $shorthand, false) {
                        m.insert($fkey.to_string(), v);
                    }
                )*
                $out.field($key, Some(Value::Object(m)));
            }
            _ => $out.known($key),
        }
    };
}

/// Declares a [`OneOf`] enum: every case key in protobuf declaration order, each either
/// modelled (`"key" => Variant { "subKey" => field, ... }`) or bare. A case has no `extra`
/// map: its leftover keys go to the enclosing message's `extra` under the case key, and are
/// written back after its modelled keys. `$one` names the rule a second case breaks.
macro_rules! oneof {
    ($name:ident ($one:literal) {
        $( $key:literal $( => $variant:ident { $( $fkey:literal => $field:ident $(as $codec:ident)? ),* $(,)? } )? ),* $(,)?
    }) => {
        impl OneOf for $name {
            fn empty() -> Self {
                $name::None
            }

            fn key(&self) -> Option<&'static str> {
                match self {
                    $($( $name::$variant { .. } => Some($key), )?)*
                    $name::None => None,
                }
            }

            // A key declared twice is an unreachable pattern: it does not compile.
            #[deny(unreachable_patterns)]
            fn read(
                k: &str,
                v: &Value,
                p: &Path,
                extra: &mut Extra,
                prev: Option<&str>,
            ) -> Res<Option<Self>> {
                match k {
                    $($( $key => {
                        if let Some(prev) = prev {
                            return p.err(format!("{}, already read {prev}", $one));
                        }
                        let mut left = Extra::new();
                        $( let mut $field = <codec!($($codec)?) as Codec<_>>::empty(); )*
                        for (k, v) in obj(v, p)? {
                            match k.as_str() {
                                $( $fkey if v.is_null() => {
                                    left.insert(k.clone(), Value::Null);
                                }
                                $fkey => {
                                    $field = <codec!($($codec)?) as Codec<_>>::read(
                                        v,
                                        &p.key(k),
                                        Spill { key: $fkey, extra: &mut left },
                                    )?;
                                } )*
                                _ => {
                                    left.insert(k.clone(), v.clone());
                                }
                            }
                        }
                        if !left.is_empty() {
                            extra.insert($key.to_string(), Value::Object(std::mem::take(&mut *left)));
                        }
                        Ok(Some($name::$variant { $($field),* }))
                    } )?)*
                    _ => Ok(None),
                }
            }

            fn write(&self, out: &mut Out<'_>, shorthand: bool) {
                let this = self;
                $( write_case!(this, out, shorthand, $name, $key $(=> $variant { $( $fkey => $field $(as $codec)? ),* })?); )*
            }
        }
    };
}

/// Declares every event type's attributes message (see [`message!`]) and the two dispatches
/// on the event type: [`attributes`] (reading) and [`write_attributes`]. Each name is the
/// attributes struct, its `EventType` and its `EventAttributes` variant.
macro_rules! events {
    ($( $name:ident { $($body:tt)* } )*) => {
        $( message!($name { $($body)* }); )*

        /// Reads the attribute object of an event of type `ty`.
        pub(super) fn attributes(ty: EventType, v: &Value, p: &Path) -> Res<EventAttributes> {
            let mut none = Extra::new();
            let spill = Spill { key: "", extra: &mut none };
            Ok(match ty {
                $( EventType::$name => EventAttributes::$name(Arc::new(
                    <Plain as Codec<$name>>::read(v, p, spill)?,
                )), )*
            })
        }

        /// An event's attribute object.
        pub(super) fn write_attributes(a: &EventAttributes, shorthand: bool) -> Value {
            let v = match a {
                $( EventAttributes::$name(a) => <Plain as Codec<$name>>::write(a, shorthand, true), )*
            };
            v.unwrap_or_default()
        }
    };
}
