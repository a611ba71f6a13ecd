//! A small owned TOML tree that remembers where every key came from (a line of the file or a
//! `--set` override), built from `toml::de::DeTable`'s spans.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Where a key or value came from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Loc {
    /// A line (1-based) of the scenario file, when known.
    File(Option<usize>),
    /// A `--set <key>=...` override.
    Set(String),
}

#[derive(Clone, Debug)]
pub(crate) struct Node {
    pub loc: Loc,
    /// Byte offset of the key (or value) in the file; `usize::MAX` for overrides. Used to
    /// recover the written order of dotted keys, which the parser groups into nested tables.
    pub pos: usize,
    pub val: Val,
}

#[derive(Clone, Debug)]
pub(crate) enum Val {
    Str(String),
    /// `None` when the integer does not fit in an i64.
    Int(Option<i64>),
    Float(f64),
    Bool(bool),
    Datetime,
    Array(Vec<Node>),
    Table(Vec<(String, Node)>),
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "string",
            Val::Int(_) => "integer",
            Val::Float(_) => "float",
            Val::Bool(_) => "boolean",
            Val::Datetime => "datetime",
            Val::Array(_) => "array",
            Val::Table(_) => "table",
        }
    }
}

/// The start offset of every line of a text, built once, so that each key's line is a binary
/// search (rescanning the text per key made loading quadratic in the file size).
pub(crate) struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> LineIndex {
        let newlines = text.bytes().enumerate().filter(|&(_, b)| b == b'\n');
        LineIndex {
            starts: std::iter::once(0)
                .chain(newlines.map(|(i, _)| i + 1))
                .collect(),
        }
    }

    /// 1-based line of a byte offset (offsets past the end fall on the last line).
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset)
    }
}

fn parse_float(s: &str) -> f64 {
    let s: String = s.chars().filter(|&c| c != '_').collect();
    let body = s.trim_start_matches(['+', '-']);
    let neg = s.starts_with('-');
    let v = match body {
        "nan" => f64::NAN,
        "inf" => f64::INFINITY,
        _ => return s.parse::<f64>().unwrap_or(f64::NAN),
    };
    if neg { -v } else { v }
}

fn convert_value(
    v: &Spanned<DeValue<'_>>,
    (loc, pos): (Loc, usize),
    mk: &dyn Fn(Range<usize>) -> (Loc, usize),
) -> Node {
    let val = match v.get_ref() {
        DeValue::String(s) => Val::Str(s.to_string()),
        DeValue::Integer(i) => {
            let digits: String = i.as_str().chars().filter(|&c| c != '_').collect();
            Val::Int(i64::from_str_radix(&digits, i.radix()).ok())
        }
        DeValue::Float(f) => Val::Float(parse_float(f.as_str())),
        DeValue::Boolean(b) => Val::Bool(*b),
        DeValue::Datetime(_) => Val::Datetime,
        DeValue::Array(a) => Val::Array(
            a.iter()
                .map(|e| convert_value(e, mk(e.span()), mk))
                .collect(),
        ),
        DeValue::Table(t) => Val::Table(convert_table(t, mk)),
    };
    Node { loc, pos, val }
}

fn convert_table(
    t: &DeTable<'_>,
    mk: &dyn Fn(Range<usize>) -> (Loc, usize),
) -> Vec<(String, Node)> {
    t.iter()
        .map(|(k, v)| (k.get_ref().to_string(), convert_value(v, mk(k.span()), mk)))
        .collect()
}

/// The entries of a table, in order.
pub(crate) type Entries = Vec<(String, Node)>;

/// Parse a whole document. On a syntax error returns (line, message).
pub(crate) fn parse_document(text: &str) -> Result<Entries, (Option<usize>, String)> {
    let lines = LineIndex::new(text);
    match DeTable::parse(text) {
        Ok(doc) => {
            let mk = |r: Range<usize>| (Loc::File(Some(lines.line_of(r.start))), r.start);
            Ok(convert_table(doc.get_ref(), &mk))
        }
        Err(e) => {
            let line = e.span().map(|r| lines.line_of(r.start));
            let msg = e.message().trim().to_string();
            let mut msg = if msg.is_empty() {
                "TOML syntax error".to_string()
            } else {
                format!("TOML syntax error: {msg}")
            };
            // Name the offending text (e.g. the duplicated key) when it is short.
            if let Some(snippet) = e.span().and_then(|r| text.get(r))
                && !snippet.trim().is_empty()
                && snippet.len() <= 40
                && !snippet.contains(['\n', '`'])
            {
                msg.push_str(&format!(" (at `{}`)", snippet.trim()));
            }
            Err((line, msg))
        }
    }
}

/// Parse an override's value as a TOML value, falling back to a plain string.
pub(crate) fn parse_override_value(text: &str, key: &str) -> Node {
    let loc = Loc::Set(key.to_string());
    match DeValue::parse(text) {
        Ok(v) => {
            let k = key.to_string();
            let mk = move |_: Range<usize>| (Loc::Set(k.clone()), usize::MAX);
            convert_value(&v, (loc, usize::MAX), &mk)
        }
        Err(_) => Node {
            loc,
            pos: usize::MAX,
            val: Val::Str(text.to_string()),
        },
    }
}

/// Set `segs` (a dotted path) to `node` in `table`, creating tables as needed.
/// Errors name the path prefix that is not a table.
pub(crate) fn set_path(
    table: &mut Vec<(String, Node)>,
    segs: &[&str],
    node: Node,
    done: usize,
    set_key: &str,
) -> Result<(), String> {
    let Some((first, rest)) = segs.split_first() else {
        return Err("empty key".into());
    };
    let pos = table.iter().position(|(k, _)| k == first);
    if rest.is_empty() {
        match pos {
            Some(p) => {
                let pos = table[p].1.pos;
                table[p].1 = node;
                table[p].1.pos = pos;
            }
            None => table.push((first.to_string(), node)),
        }
        return Ok(());
    }
    let idx = match pos {
        Some(p) => p,
        None => {
            table.push((
                first.to_string(),
                Node {
                    loc: Loc::Set(set_key.to_string()),
                    pos: usize::MAX,
                    val: Val::Table(Vec::new()),
                },
            ));
            table.len() - 1
        }
    };
    match &mut table[idx].1.val {
        Val::Table(t) => set_path(t, rest, node, done + 1, set_key),
        other => Err(format!(
            "`{}` is a {}, not a table",
            set_key
                .split('.')
                .take(done + 1)
                .collect::<Vec<_>>()
                .join("."),
            other.type_name()
        )),
    }
}

/// Remove a dotted path, if present.
pub(crate) fn remove_path(table: &mut Vec<(String, Node)>, segs: &[&str]) {
    let Some((first, rest)) = segs.split_first() else {
        return;
    };
    let Some(p) = table.iter().position(|(k, _)| k == first) else {
        return;
    };
    if rest.is_empty() {
        table.remove(p);
    } else if let Val::Table(t) = &mut table[p].1.val {
        remove_path(t, rest);
    }
}

/// Look a dotted path up.
pub(crate) fn get_path<'a>(table: &'a [(String, Node)], segs: &[&str]) -> Option<&'a Node> {
    let (first, rest) = segs.split_first()?;
    let node = table.iter().find(|(k, _)| k == first).map(|(_, n)| n)?;
    if rest.is_empty() {
        Some(node)
    } else if let Val::Table(t) = &node.val {
        get_path(t, rest)
    } else {
        None
    }
}
