//! Payload filters on subscriptions: an endpoint receives an event only when the
//! event's `data` matches.
//!
//! A filter is a JSON object. Each key is a path into `data` (`amount`,
//! `customer.country`, `items.0.sku`) or a combinator (`$and`, `$or`: arrays of filters;
//! `$not`: a filter); all keys must hold. A path maps to a value (equality) or to an
//! object of operators: `$eq $ne $gt $gte $lt $lte $in $nin $exists`.

use std::cmp::Ordering;

use serde_json::Value;

use crate::FieldError;

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every part holds.
    And(Vec<Filter>),
    /// At least one part holds.
    Or(Vec<Filter>),
    /// The part does not hold.
    Not(Box<Filter>),
    /// A condition on the value at a path.
    Field(Vec<String>, Condition),
}

/// A condition on one value.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Equal (JSON equality; numbers compared as numbers).
    Eq(Value),
    /// Not equal, or absent.
    Ne(Value),
    /// Greater than (numbers, or strings).
    Gt(Value),
    /// Greater than or equal.
    Gte(Value),
    /// Less than.
    Lt(Value),
    /// Less than or equal.
    Lte(Value),
    /// Equal to one of these.
    In(Vec<Value>),
    /// Equal to none of these, or absent.
    Nin(Vec<Value>),
    /// Present (`true`) or absent (`false`).
    Exists(bool),
}

impl Filter {
    /// Parses a filter; an error names the path inside the filter (`amount.$gt`).
    pub fn parse(value: &Value) -> Result<Self, FieldError> {
        parse_object(value, "")
    }

    /// Whether `data` matches.
    pub fn matches(&self, data: &Value) -> bool {
        match self {
            Self::And(parts) => parts.iter().all(|f| f.matches(data)),
            Self::Or(parts) => parts.iter().any(|f| f.matches(data)),
            Self::Not(inner) => !inner.matches(data),
            Self::Field(path, cond) => cond.holds(lookup(data, path)),
        }
    }
}

fn join(at: &str, key: &str) -> String {
    if at.is_empty() {
        key.to_owned()
    } else {
        format!("{at}.{key}")
    }
}

fn parse_object(value: &Value, at: &str) -> Result<Filter, FieldError> {
    let Value::Object(map) = value else {
        return Err(FieldError::new(at, "a filter is a JSON object"));
    };
    let mut parts = Vec::with_capacity(map.len());
    for (key, v) in map {
        let here = join(at, key);
        parts.push(match key.as_str() {
            "$and" | "$or" => {
                let Value::Array(items) = v else {
                    return Err(FieldError::new(
                        here,
                        format!("{key} takes an array of filters"),
                    ));
                };
                let inner = items
                    .iter()
                    .enumerate()
                    .map(|(i, f)| parse_object(f, &format!("{here}.{i}")))
                    .collect::<Result<Vec<_>, _>>()?;
                if key == "$and" {
                    Filter::And(inner)
                } else {
                    Filter::Or(inner)
                }
            }
            "$not" => Filter::Not(Box::new(parse_object(v, &here)?)),
            k if k.starts_with('$') => {
                return Err(FieldError::new(
                    here,
                    format!("unknown operator {k}; use a path, $and, $or or $not"),
                ));
            }
            path => {
                if path.is_empty() || path.split('.').any(str::is_empty) {
                    return Err(FieldError::new(
                        here,
                        "a path is dot-separated names, e.g. customer.country",
                    ));
                }
                let segments: Vec<String> = path.split('.').map(str::to_owned).collect();
                parse_conditions(segments, v, &here)?
            }
        });
    }
    Ok(if parts.len() == 1 {
        parts.remove(0)
    } else {
        Filter::And(parts)
    })
}

fn parse_conditions(path: Vec<String>, v: &Value, at: &str) -> Result<Filter, FieldError> {
    let ops = match v {
        Value::Object(map) if map.keys().any(|k| k.starts_with('$')) => map,
        literal => return Ok(Filter::Field(path, Condition::Eq(literal.clone()))),
    };
    let mut conds = Vec::with_capacity(ops.len());
    for (op, arg) in ops {
        let here = join(at, op);
        let list = |arg: &Value| match arg {
            Value::Array(items) => Ok(items.clone()),
            _ => Err(FieldError::new(
                here.clone(),
                format!("{op} takes an array"),
            )),
        };
        conds.push(match op.as_str() {
            "$eq" => Condition::Eq(arg.clone()),
            "$ne" => Condition::Ne(arg.clone()),
            "$gt" => Condition::Gt(comparable(arg, &here)?),
            "$gte" => Condition::Gte(comparable(arg, &here)?),
            "$lt" => Condition::Lt(comparable(arg, &here)?),
            "$lte" => Condition::Lte(comparable(arg, &here)?),
            "$in" => Condition::In(list(arg)?),
            "$nin" => Condition::Nin(list(arg)?),
            "$exists" => match arg {
                Value::Bool(b) => Condition::Exists(*b),
                _ => return Err(FieldError::new(here, "$exists takes true or false")),
            },
            other => {
                return Err(FieldError::new(
                    here,
                    format!(
                        "unknown operator {other}; use $eq $ne $gt $gte $lt $lte $in $nin $exists"
                    ),
                ));
            }
        });
    }
    let mut fields: Vec<Filter> = conds
        .into_iter()
        .map(|c| Filter::Field(path.clone(), c))
        .collect();
    Ok(if fields.len() == 1 {
        fields.remove(0)
    } else {
        Filter::And(fields)
    })
}

fn comparable(v: &Value, at: &str) -> Result<Value, FieldError> {
    match v {
        Value::Number(_) | Value::String(_) => Ok(v.clone()),
        _ => Err(FieldError::new(
            at,
            "ordering operators take a number or a string",
        )),
    }
}

fn lookup<'a>(data: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(data, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Condition {
    fn holds(&self, value: Option<&Value>) -> bool {
        match (self, value) {
            (Self::Exists(want), v) => v.is_some() == *want,
            (Self::Ne(x), v) => !v.is_some_and(|v| equal(v, x)),
            (Self::Nin(xs), v) => !v.is_some_and(|v| xs.iter().any(|x| equal(v, x))),
            (_, None) => false,
            (Self::Eq(x), Some(v)) => equal(v, x),
            (Self::In(xs), Some(v)) => xs.iter().any(|x| equal(v, x)),
            (Self::Gt(x), Some(v)) => order(v, x) == Some(Ordering::Greater),
            (Self::Gte(x), Some(v)) => {
                matches!(order(v, x), Some(Ordering::Greater | Ordering::Equal))
            }
            (Self::Lt(x), Some(v)) => order(v, x) == Some(Ordering::Less),
            (Self::Lte(x), Some(v)) => {
                matches!(order(v, x), Some(Ordering::Less | Ordering::Equal))
            }
        }
    }
}

/// An empty filter object matches everything.
impl Default for Filter {
    fn default() -> Self {
        Self::And(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(filter: Value, data: Value) -> bool {
        Filter::parse(&filter).unwrap().matches(&data)
    }

    #[test]
    fn equality_and_paths() {
        let order = json!({"amount": 120, "customer": {"country": "FR"}, "items": [{"sku": "A1"}]});
        assert!(check(json!({"customer.country": "FR"}), order.clone()));
        assert!(!check(json!({"customer.country": "DE"}), order.clone()));
        assert!(check(json!({"items.0.sku": "A1"}), order.clone()));
        assert!(
            check(json!({"amount": 120.0}), order.clone()),
            "numbers compare as numbers"
        );
        assert!(check(json!({}), order));
    }

    #[test]
    fn every_operator() {
        let d = json!({"amount": 120, "tier": "gold", "tags": ["a"]});
        assert!(check(json!({"amount": {"$gt": 100}}), d.clone()));
        assert!(!check(json!({"amount": {"$gt": 120}}), d.clone()));
        assert!(check(
            json!({"amount": {"$gte": 120, "$lte": 120}}),
            d.clone()
        ));
        assert!(check(json!({"amount": {"$lt": 121}}), d.clone()));
        assert!(check(json!({"amount": {"$ne": 5}}), d.clone()));
        assert!(
            check(json!({"missing": {"$ne": 5}}), d.clone()),
            "absent is not equal"
        );
        assert!(check(
            json!({"tier": {"$in": ["gold", "platinum"]}}),
            d.clone()
        ));
        assert!(check(json!({"tier": {"$nin": ["bronze"]}}), d.clone()));
        assert!(check(
            json!({"tier": {"$exists": true}, "missing": {"$exists": false}}),
            d.clone()
        ));
        assert!(
            check(json!({"tier": {"$gt": "bronze"}}), d.clone()),
            "strings order"
        );
        assert!(
            !check(json!({"tier": {"$gt": 3}}), d.clone()),
            "mixed types never order"
        );
        assert!(check(
            json!({"$or": [{"tier": "silver"}, {"amount": {"$gt": 100}}]}),
            d.clone()
        ));
        assert!(!check(
            json!({"$and": [{"tier": "gold"}, {"amount": {"$lt": 100}}]}),
            d.clone()
        ));
        assert!(check(json!({"$not": {"tier": "silver"}}), d.clone()));
        assert!(check(json!({"tags": ["a"]}), d));
    }

    #[test]
    fn bad_filters_name_their_path() {
        let err = |f: Value| Filter::parse(&f).unwrap_err().field;
        assert_eq!(err(json!({"amount": {"$gt": [1]}})), "amount.$gt");
        assert_eq!(err(json!({"amount": {"$between": 1}})), "amount.$between");
        assert_eq!(err(json!({"$or": {"a": 1}})), "$or");
        assert_eq!(err(json!({"$or": [{"a": {"$in": 3}}]})), "$or.0.a.$in");
        assert_eq!(err(json!({"$where": "x"})), "$where");
        assert_eq!(err(json!({"a": {"$exists": "yes"}})), "a.$exists");
        assert_eq!(err(json!({"a..b": 1})), "a..b");
        assert_eq!(err(json!([1])), "");
    }
}
