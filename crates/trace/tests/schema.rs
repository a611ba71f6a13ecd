//! The schemas: layout, types, descriptions, and agreement with docs/schema.md.

use arrow::datatypes::DataType;
use datapact_trace::{
    DESCRIPTION_KEY, IDENTITY_COLUMNS, Table, markdown_columns, schema, swept_columns_conflict,
};

fn swept() -> Vec<String> {
    vec!["value".to_string(), "payment".to_string()]
}

#[test]
fn layout_identity_swept_then_own() {
    for table in Table::ALL {
        let s = schema(table, &swept(), &[]).unwrap();
        let names: Vec<&str> = s.fields().iter().map(|f| f.name().as_str()).collect();
        assert_eq!(
            &names[..5],
            ["scenario", "seed", "cell", "value", "payment"]
        );
        assert_eq!(s.field(0).data_type(), &DataType::Utf8);
        assert_eq!(s.field(1).data_type(), &DataType::UInt64);
        assert_eq!(s.field(2).data_type(), &DataType::UInt32);
        assert_eq!(s.field(3).data_type(), &DataType::Float64);
        assert!(!s.field(3).is_nullable());
        let own: Vec<&str> = table.columns().iter().map(|c| c.name).collect();
        assert_eq!(&names[5..], own.as_slice());
        for f in s.fields() {
            assert!(
                f.metadata()
                    .get(DESCRIPTION_KEY)
                    .is_some_and(|d| d.len() > 10),
                "{table}.{} lacks a description",
                f.name()
            );
        }
    }
}

#[test]
fn spec_types() {
    let s = schema(Table::Cells, &[] as &[String], &[]).unwrap();
    assert_eq!(s.fields().len(), 3 + 19);
    assert_eq!(
        s.field_with_name("reps").unwrap().data_type(),
        &DataType::UInt32
    );
    assert!(s.fields().iter().all(|f| !f.is_nullable()));

    let s = schema(Table::Diagnostics, &[] as &[String], &[]).unwrap();
    let c = s.field_with_name("common_success_k2").unwrap();
    assert_eq!(c.data_type(), &DataType::UInt32);
    assert!(c.is_nullable());
    assert!(!s.field_with_name("reps").unwrap().is_nullable());
    assert_eq!(s.fields().iter().filter(|f| f.is_nullable()).count(), 9);

    let s = schema(Table::Rounds, &[] as &[String], &[]).unwrap();
    assert_eq!(
        s.field_with_name("success").unwrap().data_type(),
        &DataType::Boolean
    );
    assert_eq!(
        s.field_with_name("withdrawals").unwrap().data_type(),
        &DataType::UInt32
    );
    assert_eq!(
        s.field_with_name("data").unwrap().data_type(),
        &DataType::Float64
    );

    let s = schema(Table::Events, &[] as &[String], &[]).unwrap();
    let nullable: Vec<&str> = s
        .fields()
        .iter()
        .filter(|f| f.is_nullable())
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(nullable, ["user", "burden", "cost"]);

    // users: what C or a plugin may not define is nullable; costs and utility never are.
    let s = schema(Table::Users, &[] as &[String], &[]).unwrap();
    let nullable: Vec<&str> = s
        .fields()
        .iter()
        .filter(|f| f.is_nullable())
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(
        nullable,
        [
            "reported_cost",
            "observed_cost",
            "cap",
            "assigned_burden",
            "decision",
            "decision_time",
            "decided_burden",
            "final_burden",
            "paid",
            "privacy_cost"
        ]
    );
    assert_eq!(
        s.field_with_name("decision").unwrap().data_type(),
        &DataType::Utf8
    );
}

#[test]
fn dir_names() {
    let names: Vec<&str> = Table::ALL.iter().map(|t| t.dir_name()).collect();
    assert_eq!(
        names,
        [
            "cells",
            "diagnostics",
            "contrasts",
            "rounds",
            "users",
            "events"
        ]
    );
}

#[test]
fn swept_conflicts() {
    assert_eq!(swept_columns_conflict(&swept()), None);
    assert_eq!(swept_columns_conflict(&["cell".into()]), Some("cell"));
    assert_eq!(swept_columns_conflict(&["cost".into()]), Some("cost"));
    assert_eq!(swept_columns_conflict(&["v".into(), "v".into()]), Some("v"));
    assert_eq!(swept_columns_conflict(&["".into()]), Some(""));
}

#[test]
#[should_panic(expected = "reserved")]
fn schema_rejects_conflicting_swept_column() {
    schema(Table::Rounds, &["seed".to_string()], &[]).unwrap();
}

/// The column table of every section of docs/schema.md is the one generated from the
/// declarations. `DATAPACT_BLESS=1 cargo test -p datapact-trace --test schema` rewrites them.
#[test]
fn docs_match_declarations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md");
    let mut doc = std::fs::read_to_string(path).expect("docs/schema.md");
    let bless = std::env::var_os("DATAPACT_BLESS").is_some();
    for table in Table::ALL {
        let heading = format!("\n## `{}`\n", table.dir_name());
        let start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("docs/schema.md: {heading:?} missing"));
        let table_start = start
            + doc[start..]
                .find("| column |")
                .unwrap_or_else(|| panic!("docs/schema.md: {table} has no column table"));
        let table_end = table_start
            + doc[table_start..]
                .find("\n\n")
                .map_or(doc.len() - table_start, |i| i + 1);
        let generated = markdown_columns(table);
        if bless {
            doc.replace_range(table_start..table_end, &generated);
        } else {
            assert_eq!(
                &doc[table_start..table_end],
                generated,
                "docs/schema.md: the `{table}` column table differs from the declarations; run `DATAPACT_BLESS=1 cargo test -p datapact-trace --test schema` to regenerate it"
            );
        }
    }
    if bless {
        std::fs::write(path, doc).expect("write docs/schema.md");
    }
}

/// Every declared column appears in docs/schema.md, in its table's section, with its type (a
/// check independent of the generator above).
#[test]
fn docs_cover_every_column() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md");
    let doc = std::fs::read_to_string(path).expect("docs/schema.md");
    for table in Table::ALL {
        let heading = format!("## `{}`", table.dir_name());
        let start = doc
            .find(&heading)
            .unwrap_or_else(|| panic!("{heading} missing"));
        let section = &doc[start..];
        let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
        for c in IDENTITY_COLUMNS.iter().chain(table.columns()) {
            let ty = format!("{:?}", c.ty.data_type());
            let row = format!(
                "| `{}` | {} | {} |",
                c.name,
                ty,
                if c.nullable { "yes" } else { "no" }
            );
            assert!(
                section.contains(&row),
                "docs/schema.md: {table} lacks row starting {row}"
            );
        }
    }
}
