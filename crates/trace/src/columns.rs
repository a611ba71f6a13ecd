//! The one place a table's columns are declared.
//!
//! [`declare_table!`] takes a table's own columns — name, row type, description, in schema
//! order — and generates from that single list: the column specs ([`crate::Table::columns`],
//! hence the Arrow schema and `docs/schema.md`), the row struct, the builder's column builders
//! and their append/finish code, and a typed reader of record batches. The Arrow type and
//! nullability of a column follow from its row type through [`ColumnValue`], so they cannot
//! disagree with what the builder appends.

use arrow::array::{
    Array, ArrayBuilder, BooleanArray, BooleanBuilder, Float64Array, Float64Builder, RecordBatch,
    StringArray, StringBuilder, UInt32Array, UInt32Builder, UInt64Array, UInt64Builder,
};

use crate::error::TraceError;
use crate::schema::ColumnType;
use crate::table::Table;

/// Initial row capacity of the column builders (they grow as needed).
pub(crate) const INITIAL_CAPACITY: usize = 1024;

/// A Rust value stored in one cell of a fixed column: fixes the column's Arrow type,
/// nullability, builder and array type.
pub trait ColumnValue: Copy {
    /// Arrow type of the column.
    const TYPE: ColumnType;
    /// Whether the column may hold nulls (the value is an `Option`).
    const NULLABLE: bool;
    /// The Arrow builder the values are appended to.
    type Builder: ArrayBuilder;
    /// The Arrow array a reader gets back.
    type Array: Array + 'static;
    /// An empty builder with the crate's initial capacity.
    fn builder() -> Self::Builder;
    /// Appends `self` to `builder`.
    fn append_to(self, builder: &mut Self::Builder);
}

macro_rules! column_value {
    ($rust:ty, $ty:ident, $builder:ty, $array:ty, $new:expr) => {
        impl ColumnValue for $rust {
            const TYPE: ColumnType = ColumnType::$ty;
            const NULLABLE: bool = false;
            type Builder = $builder;
            type Array = $array;
            fn builder() -> $builder {
                $new
            }
            #[inline]
            fn append_to(self, builder: &mut $builder) {
                builder.append_value(self);
            }
        }

        impl ColumnValue for Option<$rust> {
            const TYPE: ColumnType = ColumnType::$ty;
            const NULLABLE: bool = true;
            type Builder = $builder;
            type Array = $array;
            fn builder() -> $builder {
                $new
            }
            #[inline]
            fn append_to(self, builder: &mut $builder) {
                builder.append_option(self);
            }
        }
    };
}

column_value!(
    u32,
    UInt32,
    UInt32Builder,
    UInt32Array,
    UInt32Builder::with_capacity(INITIAL_CAPACITY)
);
column_value!(
    u64,
    UInt64,
    UInt64Builder,
    UInt64Array,
    UInt64Builder::with_capacity(INITIAL_CAPACITY)
);
column_value!(
    f64,
    Float64,
    Float64Builder,
    Float64Array,
    Float64Builder::with_capacity(INITIAL_CAPACITY)
);
column_value!(
    bool,
    Boolean,
    BooleanBuilder,
    BooleanArray,
    BooleanBuilder::with_capacity(INITIAL_CAPACITY)
);
column_value!(
    &str,
    Utf8,
    StringBuilder,
    StringArray,
    StringBuilder::with_capacity(INITIAL_CAPACITY, INITIAL_CAPACITY)
);

/// The column `name` of a `table` batch as an array of type `A`; an error naming the table and
/// column when it is missing or of another type.
pub fn typed_column<'b, A: Array + 'static>(
    batch: &'b RecordBatch,
    table: Table,
    name: &str,
) -> Result<&'b A, TraceError> {
    let bad = |reason: String| TraceError::BadColumn {
        table,
        column: name.to_string(),
        reason,
    };
    let column = batch
        .column_by_name(name)
        .ok_or_else(|| bad("missing".to_string()))?;
    column
        .as_any()
        .downcast_ref::<A>()
        .ok_or_else(|| bad(format!("unexpected type {}", column.data_type())))
}

/// The value a row gives a column: its field of the same name, or a value derived from the row.
macro_rules! column_cell {
    ($row:ident, (field $name:ident)) => {
        $row.$name
    };
    ($row:ident, (derived |$r:ident| $e:expr)) => {{
        let $r = $row;
        $e
    }};
}

/// Declares one table's own columns (those after the identity and swept columns), in schema
/// order. Each entry is `name: RowType => description`, or `name: RowType = |row| expr =>
/// description` for a column derived from the other fields (not a field of the row). With
/// `stats S`, the table's statistic columns follow the declared ones: they are not listed here
/// but derived from the model's statistic declarations (`crate::stat_columns`), and the row
/// gives their values in a `stats: S` field. Generates the `$specs` constant (the declared
/// columns), the `$row` struct (with `cell` and `coords` first, then the declared fields, then
/// `stats` and a `metrics` slice if the table has them), the `$builder` struct with
/// `with_metrics`, `append` and `finish_batch`, and the `$reader` struct of typed references to
/// the declared columns.
macro_rules! declare_table {
    // Entry: normalise every column to `(name, type, source, description)` and collect the row
    // fields, then generate.
    (
        $(#[$row_meta:meta])*
        table $table:ident, row $row:ident, builder $builder:ident, builders $builders:ident,
        reader $reader:ident, specs $specs:ident $(, stats $stats:ty)? $(, metrics $metric:ty)?;
        { $($columns:tt)* }
        $(
            $(#[$net_meta:meta])*
            network $netrow:ident, builders $netbuilders:ident, specs $netspecs:ident;
            { $($nname:ident : $nty:ty => $ndesc:expr),* $(,)? }
        )?
    ) => {
        declare_table!(@munch
            [$(#[$row_meta])* $table $row $builder $builders $reader $specs [$($stats)?] [$($metric)?]
                [$([$(#[$net_meta])*] $netrow $netbuilders $netspecs [$(($nname, $nty, $ndesc))*])?]]
            fields []
            columns []
            $($columns)*
        );
    };
    (@munch $head:tt fields [$($f:tt)*] columns [$($c:tt)*]
        $name:ident : $ty:ty => $desc:expr $(, $($rest:tt)*)?
    ) => {
        declare_table!(@munch $head
            fields [$($f)* $name: $ty,]
            columns [$($c)* ($name, $ty, (field $name), $desc)]
            $($($rest)*)?
        );
    };
    (@munch $head:tt fields [$($f:tt)*] columns [$($c:tt)*]
        $name:ident : $ty:ty = |$r:ident| $e:expr => $desc:expr $(, $($rest:tt)*)?
    ) => {
        declare_table!(@munch $head
            fields [$($f)*]
            columns [$($c)* ($name, $ty, (derived |$r| $e), $desc)]
            $($($rest)*)?
        );
    };
    (@munch
        [$(#[$row_meta:meta])* $table:ident $row:ident $builder:ident $builders:ident $reader:ident
            $specs:ident
            [$($stats:ty)?]
            [$($metric:ty)?]
            [$([$(#[$net_meta:meta])*] $netrow:ident $netbuilders:ident $netspecs:ident
                [$(($nname:ident, $nty:ty, $ndesc:expr))*])?]]
        fields [$($field:ident: $field_ty:ty,)*]
        columns [$(($name:ident, $ty:ty, $source:tt, $desc:expr))*]
    ) => {
        /// The table's own columns, in schema order.
        pub(crate) const $specs: &[$crate::schema::ColumnSpec] = {
            // `'a` names the borrow in row types such as `&'a str`; the specs do not use it.
            #[allow(clippy::extra_unused_lifetimes)]
            const fn specs<'a>() -> [$crate::schema::ColumnSpec; [$(stringify!($name)),*].len()] {
                [$($crate::schema::ColumnSpec {
                    name: stringify!($name),
                    ty: <$ty as $crate::columns::ColumnValue>::TYPE,
                    nullable: <$ty as $crate::columns::ColumnValue>::NULLABLE,
                    description: $desc,
                }),*]
            }
            &specs()
        };

        $(
            /// The table's network columns, in schema order: present only in the output of a
            /// run whose scenario has a network (`[population.network]`), after the own columns.
            pub(crate) const $netspecs: &[$crate::schema::ColumnSpec] = {
                const fn specs() -> [$crate::schema::ColumnSpec; [$(stringify!($nname)),*].len()] {
                    [$($crate::schema::ColumnSpec {
                        name: stringify!($nname),
                        ty: <$nty as $crate::columns::ColumnValue>::TYPE,
                        nullable: <$nty as $crate::columns::ColumnValue>::NULLABLE,
                        description: $ndesc,
                    }),*]
                }
                &specs()
            };

            $(#[$net_meta])*
            ///
            /// Every field fills the network column of the same name (see
            /// [`Table::network_columns`](crate::Table::network_columns)); the default (all
            /// null) is what a row appended without network values holds.
            #[derive(Clone, Copy, Debug, Default, PartialEq)]
            #[allow(missing_docs)]
            pub struct $netrow {
                $(pub $nname: $nty,)*
            }

            /// The builders of the network columns.
            #[derive(Debug)]
            struct $netbuilders {
                $($nname: <$nty as $crate::columns::ColumnValue>::Builder,)*
            }

            impl $netbuilders {
                fn new() -> Self {
                    $netbuilders {
                        $($nname: <$nty as $crate::columns::ColumnValue>::builder(),)*
                    }
                }

                #[inline]
                fn append(&mut self, row: &$netrow) {
                    $($crate::columns::ColumnValue::append_to(row.$nname, &mut self.$nname);)*
                }

                fn finish(&mut self, cols: &mut Vec<arrow::array::ArrayRef>) {
                    $(cols.push(arrow::array::ArrayBuilder::finish(&mut self.$nname));)*
                }
            }

            impl $builder {
                /// The builder with the table's network columns added after its own columns (a
                /// run whose scenario has a network). Rows appended with
                /// [`append`](Self::append) hold nulls there.
                pub fn with_network(mut self) -> Self {
                    if self.network.is_none() {
                        self.id.insert_network($crate::schema::Table::$table);
                        self.network = Some($netbuilders::new());
                    }
                    self
                }

                /// Appends one row with the values of its network columns (ignored by a
                /// builder without them).
                ///
                /// # Panics
                /// As [`append`](Self::append).
                #[inline]
                pub fn append_networked(&mut self, row: &$row<'_>, network: &$netrow) {
                    self.push_own(row);
                    if let Some(n) = self.network.as_mut() {
                        n.append(network);
                    }
                    self.push_metrics(row);
                }
            }
        )?

        $(#[$row_meta])*
        ///
        /// Every field but `cell`, `coords` and `metrics` fills the column of the same name
        /// (see [`Table::columns`](crate::Table::columns) for its meaning).
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[allow(missing_docs)]
        pub struct $row<'a> {
            pub cell: u32,
            /// Values of the swept parameters, in the builder's swept-column order.
            pub coords: &'a [f64],
            $(pub $field: $field_ty,)*
            $(
                /// The values of the statistic columns, by statistic (the columns follow the
                /// model's statistic declarations).
                pub stats: $stats,
            )?
            $(
                /// One value per metric column the builder was created with, in that order.
                pub metrics: &'a [$metric],
            )?
        }

        #[doc = concat!(
            "Builds `", stringify!($table), "` batches from [`", stringify!($row), "`]s."
        )]
        #[derive(Debug)]
        pub struct $builder {
            id: $crate::rows::Identity,
            columns: $builders<'static>,
            $(stats: $crate::stat_columns::StatBuilders<$stats>,)?
            $(network: Option<$netbuilders>,)?
        }

        /// The builders of the own columns. The lifetime only names the row types' borrows
        /// (`&'a str`); the builders themselves own their data.
        #[derive(Debug)]
        struct $builders<'a> {
            $($name: <$ty as $crate::columns::ColumnValue>::Builder,)*
            _row: std::marker::PhantomData<&'a ()>,
        }

        impl<'a> $builders<'a> {
            fn new() -> Self {
                $builders {
                    $($name: <$ty as $crate::columns::ColumnValue>::builder(),)*
                    _row: std::marker::PhantomData,
                }
            }
        }

        impl $builder {
            fn with_metrics(
                scenario: &str,
                seed: u64,
                swept_columns: &[impl $crate::schema::SweptColumn],
                metrics: &[$crate::schema::MetricColumn],
            ) -> Result<Self, $crate::TraceError> {
                Ok($builder {
                    id: $crate::rows::Identity::new(
                        $crate::schema::Table::$table,
                        scenario,
                        seed,
                        swept_columns,
                        metrics,
                    )?,
                    columns: $builders::new(),
                    $(stats: $crate::stat_columns::StatBuilders::<$stats>::new(),)?
                    $(network: None::<$netbuilders>,)?
                })
            }

            /// Appends one row.
            ///
            /// # Panics
            /// If `row.coords` does not have one value per swept column (or `row.metrics` one
            /// value per metric column).
            #[inline]
            pub fn append(&mut self, row: &$row<'_>) {
                self.push_own(row);
                $(
                    if let Some(n) = self.network.as_mut() {
                        n.append(&<$netrow>::default());
                    }
                )?
                self.push_metrics(row);
            }

            /// Appends the identity, swept and own columns of `row`.
            #[inline]
            fn push_own(&mut self, row: &$row<'_>) {
                self.id.append(row.cell, row.coords);
                $(
                    $crate::columns::ColumnValue::append_to(
                        column_cell!(row, $source),
                        &mut self.columns.$name,
                    );
                )*
                $(
                    $crate::stat_columns::StatBuilders::<$stats>::append(
                        &mut self.stats,
                        &row.stats,
                    );
                )?
            }

            /// Appends the metric columns of `row` (none for a table without them).
            #[inline]
            #[allow(unused_variables)]
            fn push_metrics(&mut self, row: &$row<'_>) {
                $(self.id.append_metrics::<$metric>(row.metrics);)?
            }

            /// Takes the appended rows as a record batch and empties the builder.
            pub fn finish_batch(&mut self) -> arrow::array::RecordBatch {
                let mut cols = self.id.finish($crate::schema::Table::$table.columns().len());
                $(cols.push(arrow::array::ArrayBuilder::finish(&mut self.columns.$name));)*
                $(
                    $crate::stat_columns::StatBuilders::<$stats>::finish(&mut self.stats, &mut cols);
                )?
                $(
                    if let Some(n) = self.network.as_mut() {
                        let _: &mut $netbuilders = n;
                        n.finish(&mut cols);
                    }
                )?
                self.id.finish_metrics(&mut cols);
                self.id.batch(cols)
            }

            /// The schema of the batches this builder yields.
            pub fn schema(&self) -> &arrow::datatypes::SchemaRef {
                &self.id.schema
            }

            /// Rows appended since the last batch was taken.
            pub fn len(&self) -> usize {
                self.id.rows
            }

            /// Whether no row was appended since the last batch was taken.
            pub fn is_empty(&self) -> bool {
                self.id.rows == 0
            }
        }

        impl $crate::rows::BatchBuilder for $builder {
            fn schema(&self) -> &arrow::datatypes::SchemaRef {
                &self.id.schema
            }
            fn len(&self) -> usize {
                self.id.rows
            }
            fn finish_batch(&mut self) -> arrow::array::RecordBatch {
                $builder::finish_batch(self)
            }
        }

        #[doc = concat!(
            "Typed references to the identity and own columns of one `", stringify!($table),
            "` record batch, one field per declared column of the same name (swept, statistic",
            " and metric columns are read by name with [`typed_column`](crate::typed_column))."
        )]
        #[derive(Clone, Copy, Debug)]
        #[allow(missing_docs)]
        pub struct $reader<'a> {
            pub scenario: &'a arrow::array::StringArray,
            pub seed: &'a arrow::array::UInt64Array,
            pub cell: &'a arrow::array::UInt32Array,
            $(pub $name: &'a <$ty as $crate::columns::ColumnValue>::Array,)*
        }

        impl<'a> $reader<'a> {
            /// The columns of `batch`; an error naming the first one missing or mistyped.
            pub fn new(batch: &'a arrow::array::RecordBatch) -> Result<Self, $crate::TraceError> {
                let table = $crate::schema::Table::$table;
                Ok($reader {
                    scenario: $crate::columns::typed_column(batch, table, "scenario")?,
                    seed: $crate::columns::typed_column(batch, table, "seed")?,
                    cell: $crate::columns::typed_column(batch, table, "cell")?,
                    $($name: $crate::columns::typed_column(batch, table, stringify!($name))?,)*
                })
            }
        }
    };
}
