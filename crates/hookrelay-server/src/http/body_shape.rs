//! What a request body's type expects at its top level, so that a JSON array is refused
//! where an object is documented. serde's derived structs also accept their fields as
//! an array, in order (`[["s1"]]` would mint a token whose `scopes` are `["s1"]`); the
//! API documents objects, and a client sending an array has made a mistake.

use std::cell::Cell;

use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
use serde::forward_to_deserialize_any;

/// A body type's top-level JSON shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A struct or a map: a JSON object.
    Object,
    /// A sequence or a tuple: a JSON array.
    Array,
    /// Anything else (a `serde_json::Value`, a scalar).
    Any,
}

/// The shape `T` asks for, found by letting it start to deserialize from a probe that
/// records the first request and stops there (through `Option` and newtypes).
pub fn expected<T: DeserializeOwned>() -> Shape {
    let seen = Cell::new(Shape::Any);
    let _ = T::deserialize(Probe(&seen));
    seen.get()
}

struct Probe<'a>(&'a Cell<Shape>);

impl Probe<'_> {
    fn stop<V>(self, shape: Shape) -> Result<V, de::value::Error> {
        self.0.set(shape);
        Err(de::Error::custom("probed"))
    }
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.stop(Shape::Any)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.stop(Shape::Object)
    }
    fn deserialize_map<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.stop(Shape::Object)
    }
    fn deserialize_seq<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        self.stop(Shape::Array)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Self::Error> {
        self.stop(Shape::Array)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Self::Error> {
        self.stop(Shape::Array)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_some(self)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
        byte_buf unit unit_struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Deserialize)]
    #[allow(dead_code)]
    struct Body {
        scopes: Vec<String>,
    }

    #[test]
    fn structs_and_maps_want_objects_sequences_want_arrays() {
        assert_eq!(expected::<Body>(), Shape::Object);
        assert_eq!(expected::<Option<Body>>(), Shape::Object);
        assert_eq!(expected::<BTreeMap<String, u32>>(), Shape::Object);
        assert_eq!(expected::<Vec<Body>>(), Shape::Array);
        assert_eq!(expected::<serde_json::Value>(), Shape::Any);
    }
}
