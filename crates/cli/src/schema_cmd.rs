//! `datapact schema`: the Arrow schemas of the output tables, with the app's metric columns.

use datapact_trace::Table;

use crate::context::Context;
use crate::failure::Failure;

/// `datapact schema`.
pub(crate) fn schema(cx: &Context) -> Result<(), Failure> {
    let swept = vec!["<swept>".to_string()];
    for table in Table::ALL {
        println!("{} ({}/*.parquet)", table, table.dir_name());
        let metrics = datapact_runner::metric_columns(&cx.plugins);
        // With the network columns (their descriptions say they come only with a
        // [population.network]).
        let schema =
            datapact_trace::schema_of(table, &swept, &metrics, true).map_err(|e| Failure {
                code: 2,
                message: e.to_string(),
            })?;
        for field in schema.fields() {
            let description = field
                .metadata()
                .get(datapact_trace::DESCRIPTION_KEY)
                .cloned()
                .unwrap_or_default();
            let name = if field.name() == "<swept>" {
                "<each swept key>"
            } else {
                field.name()
            };
            let nullable = if field.is_nullable() { "nullable" } else { "" };
            println!(
                "  {name:<24} {:<8} {nullable:<8} {description}",
                format!("{}", field.data_type())
            );
        }
        println!();
    }
    Ok(())
}
