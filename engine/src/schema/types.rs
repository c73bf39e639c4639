//! Sets of JSON types, as a schema allows them or a value has them.

use serde_json::Value;

/// A set of JSON types. `integer` is a subset of `number`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TypeSet(u8);

const NULL: u8 = 1;
const BOOLEAN: u8 = 2;
const INTEGER: u8 = 4;
const NUMBER: u8 = 8;
const STRING: u8 = 16;
const ARRAY: u8 = 32;
const OBJECT: u8 = 64;

const NAMES: [(u8, &str); 7] = [
    (STRING, "string"),
    (INTEGER, "integer"),
    (NUMBER, "number"),
    (BOOLEAN, "boolean"),
    (OBJECT, "object"),
    (ARRAY, "array"),
    (NULL, "null"),
];

impl TypeSet {
    /// Every type.
    pub const ANY: TypeSet = TypeSet(NULL | BOOLEAN | INTEGER | NUMBER | STRING | ARRAY | OBJECT);
    /// No type.
    pub const NONE: TypeSet = TypeSet(0);
    /// Strings.
    pub const STRING: TypeSet = TypeSet(STRING);
    /// Arrays.
    pub const ARRAY: TypeSet = TypeSet(ARRAY);
    /// Objects.
    pub const OBJECT: TypeSet = TypeSet(OBJECT);

    /// The type of a value.
    pub fn of_value(value: &Value) -> TypeSet {
        TypeSet(match value {
            Value::Null => NULL,
            Value::Bool(_) => BOOLEAN,
            Value::Number(n) if n.is_i64() || n.is_u64() => INTEGER,
            Value::Number(_) => NUMBER,
            Value::String(_) => STRING,
            Value::Array(_) => ARRAY,
            Value::Object(_) => OBJECT,
        })
    }

    /// The type named in a schema's `type` keyword.
    pub fn of_name(name: &str) -> TypeSet {
        TypeSet(
            NAMES
                .iter()
                .find(|(_, n)| *n == name)
                .map_or(0, |(bit, _)| *bit),
        )
    }

    /// The union.
    pub fn union(self, other: TypeSet) -> TypeSet {
        TypeSet(self.0 | other.0)
    }

    /// Whether a value of a type in `self` can be accepted where `other` is expected
    /// (an integer is accepted where a number is).
    pub fn fits(self, other: TypeSet) -> bool {
        let widened = if other.0 & NUMBER != 0 {
            other.0 | INTEGER
        } else {
            other.0
        };
        self.0 & widened != 0
    }

    /// Whether a value of a type in `self` might be accepted where `other` is expected, when only the
    /// declared types are known: a `number` might be integral.
    pub fn may_fit(self, other: TypeSet) -> bool {
        let widen = |bits: u8| {
            if bits & (NUMBER | INTEGER) != 0 {
                bits | NUMBER | INTEGER
            } else {
                bits
            }
        };
        widen(self.0) & widen(other.0) != 0
    }

    /// Whether every type in `self` is accepted by `other`.
    pub fn all_fit(self, other: TypeSet) -> bool {
        let widened = if other.0 & NUMBER != 0 {
            other.0 | INTEGER
        } else {
            other.0
        };
        self.0 & !widened == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether this is every type.
    pub fn is_any(self) -> bool {
        self == TypeSet::ANY
    }

    /// "a string", "an object or null", "any value".
    pub fn describe(self) -> String {
        if self.is_any() {
            return "any value".to_string();
        }
        let mut bits = self.0;
        if bits & NUMBER != 0 {
            bits &= !INTEGER;
        }
        let names: Vec<&str> = NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect();
        match names.as_slice() {
            [] => "nothing".to_string(),
            [one] => format!("{} {one}", article(one)),
            [init @ .., last] => format!("{} {} or {last}", article(init[0]), init.join(", ")),
        }
    }
}

/// The JSON Schema type name of a value: `string`, `integer`, `number`, `boolean`, `object`, `array`, `null`.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn describes_sets() {
        assert_eq!(TypeSet::STRING.describe(), "a string");
        assert_eq!(
            TypeSet::OBJECT.union(TypeSet::of_name("null")).describe(),
            "an object or null"
        );
        assert_eq!(TypeSet::of_value(&json!(1)).describe(), "an integer");
        assert_eq!(TypeSet::ANY.describe(), "any value");
    }

    #[test]
    fn integers_fit_numbers() {
        let int = TypeSet::of_value(&json!(3));
        let number = TypeSet::of_name("number");
        assert!(int.fits(number));
        assert!(!TypeSet::of_value(&json!(3.5)).fits(int));
        assert!(number.may_fit(int));
        assert!(!TypeSet::ARRAY.fits(TypeSet::STRING));
        assert!(TypeSet::ARRAY.union(TypeSet::STRING).fits(TypeSet::STRING));
        assert!(
            !TypeSet::ARRAY
                .union(TypeSet::STRING)
                .all_fit(TypeSet::STRING)
        );
    }
}
