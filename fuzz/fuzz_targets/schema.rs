//! Event type schemas (`hookrelay_core::schema::DataSchema`): `compile` (meta-schema
//! check, then compilation with the linear-time regex engine) of arbitrary JSON, then
//! `check` of arbitrary data and of the schema's generated example
//! (`example::example`, which the catalog shows for every registered type), and
//! `EventTypeDef` deserialization + `validate` as registration does it. The input is
//! JSON: `[schema, data]`, or one value used as both. Inputs are kept small (max_len).
#![no_main]

use hookrelay_core::event_type::EventTypeDef;
use hookrelay_core::example::example;
use hookrelay_core::schema::DataSchema;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(def) = serde_json::from_value::<EventTypeDef>(value.clone()) {
        let _ = def.validate();
    }
    let (schema, payload) = match &value {
        Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
        v => (v, v),
    };
    let sample = example(schema);
    let Ok(compiled) = DataSchema::compile(schema) else {
        return;
    };
    if let Err(errors) = compiled.check(payload) {
        assert!(!errors.is_empty() && errors.len() <= 10);
    }
    let _ = compiled.check(&sample);
});
