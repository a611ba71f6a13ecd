//! What the audit runs on ([`AuditInputs`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use datapact_model::Catalog;
use datapact_sim::PluginSet;

/// What the audit runs on.
pub struct AuditInputs<'a> {
    /// The settings' text (`scenarios/audit.toml` or the user's file) and its name for errors.
    pub spec: (&'a str, &'a str),
    /// The paper scenarios by name (the app's embedded copies).
    pub paper: &'a [(&'a str, &'a str)],
    /// The app's catalog and plugins.
    pub catalog: Arc<Catalog>,
    /// The app's plugins (the claim runs use them).
    pub plugins: Arc<PluginSet>,
    /// Output directory.
    pub out: PathBuf,
    /// Worker threads.
    pub threads: usize,
    /// Progress bars for the claim runs.
    pub progress: bool,
    /// Set to stop the audit (every phase looks at it within a fraction of a second).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Keep the cells an earlier, interrupted audit into `out` finished, in every phase that
    /// plays campaigns (deviations and dynamics, "which S?", cost-bin equilibria): `--resume`,
    /// their records in `_cells/`, used only when they are this audit's ([`crate::resume`]);
    /// without it every cell is computed (the claim runs resume either way).
    pub resume: bool,
}
