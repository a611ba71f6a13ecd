//! What a scenario may name: the declared mechanisms and user strategies, each with its
//! parameters. The scenario loader validates against a [`Catalog`]; the simulator's plugin set
//! fills one as plugins register (the core's is [`Catalog::core`]).
//!
//! The core mechanisms are declared here once: [`CoreMechanism`] lists them, each with its
//! declaration ([`SUBSIDY`], [`SIMULTANEOUS`], [`SEQUENTIAL`], [`ASYNCHRONOUS`], [`VCG`]), its
//! label and its direct kernel; the simulator's core
//! plugins register these declarations with their systems, and everything else that names a
//! core mechanism (the core catalog, the kernels, the memory estimate, the report's panel
//! titles) reads them from there.

use std::sync::Arc;

use crate::param::{ParamSpec, ParamValues, Params};
use crate::params::Game;
use crate::strategy::{
    AmountKind, AmountRule, AmountRules, AmountStrategy, FreeRider, Optimal, PeerThreshold,
    ReportRule, ReportStrategy, Rules, Shade, Sincere, StrategyKind, Truthful, WithdrawRule,
    WithdrawStrategy,
};

/// A shared stage of a round: systems the engine runs once for the campaigns of every mechanism
/// that declares the stage (in [`MechanismDecl::stages`]), before that phase's plugin systems.
/// A mechanism that declares none supplies every phase itself (C does).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Users report a cost by their report strategy; the provider observes it with noise
    /// (`Phase::Report`). Users carry reported and observed costs.
    Report,
    /// Caps and water-filling over the observed costs, and the sustainability test
    /// (`Phase::Assign`; needs [`Stage::Report`]). Users carry a cap.
    Assign,
    /// Users may withdraw before training by their withdraw strategy: every campaign opens
    /// undecided and the mechanism's protocol (`WithdrawPhase::play`) asks its users
    /// (`Phase::Withdraw`); users remember past rounds. Users carry a decision.
    Withdraw,
    /// Training and the settlement of `docs/model.md` section 6 by how the protocol ended
    /// (`Phase::Train`; needs [`Stage::Withdraw`]), with the mechanism's per-user terms
    /// (`crate::settle::Terms`: data kept, value, payment).
    Settle,
}

impl Stage {
    /// Every stage, in time order.
    pub const ALL: [Stage; 4] = [Stage::Report, Stage::Assign, Stage::Withdraw, Stage::Settle];

    /// The stage's name in docs and errors.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Report => "report",
            Stage::Assign => "assign",
            Stage::Withdraw => "withdraw",
            Stage::Settle => "settle",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The shared stages a mechanism opts into (see [`Stage`]). Users of its campaigns carry the
/// components those stages read and write, and nothing else of them, so the `users` and
/// `events` tables show only what the mechanism did.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Stages(u8);

impl Stages {
    /// No shared stage: the mechanism supplies every phase (C).
    pub const NONE: Stages = Stages(0);
    /// Report, assign, withdraw and settle: S, M, `async` and mechanisms built on them.
    pub const REPORTING: Stages = Stages::NONE
        .with(Stage::Report)
        .with(Stage::Assign)
        .with(Stage::Withdraw)
        .with(Stage::Settle);

    /// These stages and `stage`.
    pub const fn with(self, stage: Stage) -> Stages {
        Stages(self.0 | stage.bit())
    }

    /// Whether `stage` is one of them.
    #[inline]
    pub const fn has(self, stage: Stage) -> bool {
        self.0 & stage.bit() != 0
    }

    /// Why these stages cannot run together, if they cannot: assignment needs reports,
    /// settlement needs withdraw decisions.
    pub fn check(self) -> Result<(), String> {
        for (stage, needs) in [
            (Stage::Assign, Stage::Report),
            (Stage::Settle, Stage::Withdraw),
        ] {
            if self.has(stage) && !self.has(needs) {
                return Err(format!(
                    "stage \"{}\" needs stage \"{}\"",
                    stage.as_str(),
                    needs.as_str()
                ));
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for Stages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(Stage::ALL.iter().filter(|s| self.has(**s)))
            .finish()
    }
}

/// A mechanism's declaration: everything about it but its systems.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MechanismDecl {
    /// The name in `mechanisms = [...]`, `[mechanism.NAME]` and every output's `mechanism` column.
    pub name: &'static str,
    /// One sentence for docs, `--help` and `datapact schema`.
    pub description: &'static str,
    /// The keys of `[mechanism.NAME]`.
    pub params: &'static [ParamSpec],
    /// The shared stages its campaigns go through.
    pub stages: Stages,
    /// Whether it must never pay without improvement (checked on every campaign; C may leak).
    pub pays_only_on_success: bool,
    /// For a scenario's named variant (`[mechanism.NAME] of = "BASE"`): the catalog index of
    /// the mechanism it runs as; `None` for a registered mechanism.
    pub variant_of: Option<usize>,
}

/// Mechanism C: a posted subsidy; users contribute their privately optimal amount.
pub const SUBSIDY: MechanismDecl = MechanismDecl {
    name: "C",
    description: "posted subsidy: users contribute their privately optimal amount; the subsidy leaks when Q is missed",
    params: &[],
    stages: Stages::NONE,
    pays_only_on_success: false,
    variant_of: None,
};

/// Mechanism S: assigned burdens, simultaneous withdrawal (`[game] recovery_rounds`).
pub const SIMULTANEOUS: MechanismDecl = MechanismDecl {
    name: "S",
    description: "reported costs, assigned burdens, simultaneous withdrawal (optionally with recovery rounds)",
    params: &[],
    stages: Stages::REPORTING,
    pays_only_on_success: true,
    variant_of: None,
};

/// Mechanism M: assigned burdens, sequential withdrawal with re-assignment (`[game] order`).
pub const SEQUENTIAL: MechanismDecl = MechanismDecl {
    name: "M",
    description: "reported costs, assigned burdens, sequential withdrawal in the announced order with re-assignment",
    params: &[],
    stages: Stages::REPORTING,
    pays_only_on_success: true,
    variant_of: None,
};

/// Mechanism `async`: withdrawal in continuous time before a deadline, with regret shocks and
/// delayed re-assignment ([`crate::asynchronous`]).
pub const ASYNCHRONOUS: MechanismDecl = MechanismDecl {
    name: "async",
    description: "reported costs, assigned burdens, withdrawal in continuous time before a deadline: regret shocks, delayed re-assignment",
    params: <crate::asynchronous::AsyncParams as crate::param::Params>::SPECS,
    stages: Stages::REPORTING,
    pays_only_on_success: true,
    variant_of: None,
};

/// The declaration of `vcg` (name, description, stages): the simulator's core plugin registers
/// it with its systems; [`crate::vcg::run_vcg`] is its direct kernel.
pub const VCG: MechanismDecl = MechanismDecl {
    name: "vcg",
    description: "reported costs, the allocation that minimises reported cost (unit caps), Clarke payments on success, simultaneous one-shot withdrawal",
    params: &[],
    // its own allocation (no caps) and Clarke settlement: of the shared stages, only reports
    // (with observation noise) and withdrawal
    stages: Stages::NONE.with(Stage::Report).with(Stage::Withdraw),
    pays_only_on_success: true,
    variant_of: None,
};

/// The core mechanisms, declared once, in catalog order. Each has its [`MechanismDecl`]
/// ([`CoreMechanism::decl`]), its label in figure titles and, for C, S and M, its direct kernel
/// ([`crate::Kernel`]). Code that treats core mechanisms differently matches on this enum
/// (never on name strings), so adding one does not compile until each such place says what it
/// does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CoreMechanism {
    /// C, a posted subsidy ([`SUBSIDY`]).
    Subsidy,
    /// S, simultaneous withdrawal ([`SIMULTANEOUS`]).
    Simultaneous,
    /// M, sequential withdrawal with re-assignment ([`SEQUENTIAL`]).
    Sequential,
    /// `async`, withdrawal in continuous time ([`ASYNCHRONOUS`]).
    Asynchronous,
    /// `vcg`, Clarke payments ([`VCG`]).
    Vcg,
}

impl CoreMechanism {
    /// Every core mechanism, in catalog order (the order of outputs).
    pub const ALL: [CoreMechanism; 5] = [
        CoreMechanism::Subsidy,
        CoreMechanism::Simultaneous,
        CoreMechanism::Sequential,
        CoreMechanism::Asynchronous,
        CoreMechanism::Vcg,
    ];

    /// Its declaration.
    pub const fn decl(self) -> MechanismDecl {
        match self {
            CoreMechanism::Subsidy => SUBSIDY,
            CoreMechanism::Simultaneous => SIMULTANEOUS,
            CoreMechanism::Sequential => SEQUENTIAL,
            CoreMechanism::Asynchronous => ASYNCHRONOUS,
            CoreMechanism::Vcg => VCG,
        }
    }

    /// Its name in scenarios and outputs (`"C"`, `"S"`, `"M"`, `"async"`, `"vcg"`).
    pub const fn name(self) -> &'static str {
        self.decl().name
    }

    /// A few words for figure titles ("C (posted subsidy)").
    pub const fn label(self) -> &'static str {
        match self {
            CoreMechanism::Subsidy => "posted subsidy",
            CoreMechanism::Simultaneous => "simultaneous",
            CoreMechanism::Sequential => "sequential",
            CoreMechanism::Asynchronous => "continuous time",
            CoreMechanism::Vcg => "Clarke payments",
        }
    }

    /// Its id in [`Catalog::core`]: its position in [`CoreMechanism::ALL`] (C 0, S 1, M 2, …).
    pub const fn id(self) -> u16 {
        let mut i = 0;
        while i < CoreMechanism::ALL.len() {
            if CoreMechanism::ALL[i] as u8 == self as u8 {
                return i as u16;
            }
            i += 1;
        }
        panic!("every core mechanism is in CoreMechanism::ALL")
    }

    /// The core mechanism called `name`, if one is (a scenario's variant of it is not).
    pub fn named(name: &str) -> Option<CoreMechanism> {
        CoreMechanism::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A user strategy's declaration and its constructor.
pub struct StrategyDecl<R: ?Sized> {
    /// The name in `[population.KIND] strategy = "..."` (`report`, `withdraw`, or an
    /// [`AmountKind`]).
    pub name: &'static str,
    /// One sentence for docs and `--help`.
    pub description: &'static str,
    /// Its keys, beside `strategy` and `share`.
    pub params: &'static [ParamSpec],
    /// The rule for one cell's parameter values.
    pub build: fn(&ParamValues) -> Arc<R>,
}

impl<R: ?Sized> Clone for StrategyDecl<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R: ?Sized> Copy for StrategyDecl<R> {}

impl<R: ?Sized> std::fmt::Debug for StrategyDecl<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyDecl")
            .field("name", &self.name)
            .field("params", &self.params)
            .finish()
    }
}

impl<R: ?Sized> PartialEq for StrategyDecl<R> {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && self.description == other.description
            && self.params == other.params
    }
}

fn build_report<T: ReportStrategy>(values: &ParamValues) -> Arc<dyn ReportRule> {
    Arc::new(T::new(T::Params::from_values(values)))
}

fn build_withdraw<T: WithdrawStrategy>(values: &ParamValues) -> Arc<dyn WithdrawRule> {
    Arc::new(T::new(T::Params::from_values(values)))
}

fn build_amount<T: AmountStrategy>(values: &ParamValues) -> Arc<dyn AmountRule> {
    Arc::new(T::new(T::Params::from_values(values)))
}

/// Two declarations share a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateName {
    /// "mechanism", "report strategy", "withdraw strategy", "pledge strategy", ...
    pub kind: String,
    /// The name declared twice.
    pub name: String,
}

impl std::fmt::Display for DuplicateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {:?} is registered twice", self.kind, self.name)
    }
}

impl std::error::Error for DuplicateName {}

/// The declared mechanisms and strategies, in registration order (which is also the canonical
/// order of mechanisms in outputs). The first report and withdraw strategies are the population's
/// defaults.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    /// Mechanisms, by registration.
    pub mechanisms: Vec<MechanismDecl>,
    /// Report strategies; the first is every user's default.
    pub report: Vec<StrategyDecl<dyn ReportRule>>,
    /// Withdraw strategies; the first is every user's default.
    pub withdraw: Vec<StrategyDecl<dyn WithdrawRule>>,
    /// Amount strategies of each [`AmountKind`] (in the order of [`AmountKind::ALL`]); the
    /// first of a kind is every user's default (contribute: `optimal`, C's rule).
    pub amount: [Vec<StrategyDecl<dyn AmountRule>>; 3],
    /// The names of the metrics plugins registered, in `cells` column order (none in the
    /// core): what an adaptive rule may target besides the core's outcome metrics.
    pub metrics: Vec<&'static str>,
}

impl Catalog {
    /// C, S, M, async and vcg; truthful and shade; sincere, free-rider and threshold.
    pub fn core() -> Catalog {
        let mut c = Catalog::default();
        for m in CoreMechanism::ALL {
            c.add_mechanism(m.decl()).expect("core names are distinct");
        }
        c.add_report_strategy::<Truthful>()
            .and_then(|_| c.add_report_strategy::<Shade>())
            .and_then(|_| c.add_withdraw_strategy::<Sincere>())
            .and_then(|_| c.add_withdraw_strategy::<FreeRider>())
            .and_then(|_| c.add_amount_strategy::<Optimal>())
            .and_then(|_| c.add_withdraw_strategy::<PeerThreshold>())
            .expect("core names are distinct");
        c
    }

    /// Declares a mechanism; returns its index.
    pub fn add_mechanism(&mut self, decl: MechanismDecl) -> Result<usize, DuplicateName> {
        if self.mechanism(decl.name).is_some() {
            return Err(DuplicateName {
                kind: "mechanism".into(),
                name: decl.name.into(),
            });
        }
        self.mechanisms.push(decl);
        Ok(self.mechanisms.len() - 1)
    }

    /// Declares a report strategy; returns its index.
    pub fn add_report_strategy<T: ReportStrategy>(&mut self) -> Result<usize, DuplicateName> {
        if self.report_strategy(T::NAME).is_some() {
            return Err(DuplicateName {
                kind: "report strategy".into(),
                name: T::NAME.into(),
            });
        }
        self.report.push(StrategyDecl {
            name: T::NAME,
            description: T::DESCRIPTION,
            params: T::Params::SPECS,
            build: build_report::<T>,
        });
        Ok(self.report.len() - 1)
    }

    /// Declares a withdraw strategy; returns its index.
    pub fn add_withdraw_strategy<T: WithdrawStrategy>(&mut self) -> Result<usize, DuplicateName> {
        if self.withdraw_strategy(T::NAME).is_some() {
            return Err(DuplicateName {
                kind: "withdraw strategy".into(),
                name: T::NAME.into(),
            });
        }
        self.withdraw.push(StrategyDecl {
            name: T::NAME,
            description: T::DESCRIPTION,
            params: T::Params::SPECS,
            build: build_withdraw::<T>,
        });
        Ok(self.withdraw.len() - 1)
    }

    /// Declares an amount strategy of kind `T::KIND`; returns its index among the kind's.
    pub fn add_amount_strategy<T: AmountStrategy>(&mut self) -> Result<usize, DuplicateName> {
        if self.amount_strategy(T::KIND, T::NAME).is_some() {
            return Err(DuplicateName {
                kind: format!("{} strategy", T::KIND.as_str()),
                name: T::NAME.into(),
            });
        }
        let list = &mut self.amount[T::KIND.index()];
        list.push(StrategyDecl {
            name: T::NAME,
            description: T::DESCRIPTION,
            params: T::Params::SPECS,
            build: build_amount::<T>,
        });
        Ok(list.len() - 1)
    }

    /// The index of the `kind` strategy called `name`.
    pub fn amount_strategy(&self, kind: AmountKind, name: &str) -> Option<usize> {
        self.amount[kind.index()]
            .iter()
            .position(|s| s.name == name)
    }

    /// The registered strategies of `kind` (name, parameters), in registration order: the first
    /// is the default.
    pub fn strategies(&self, kind: StrategyKind) -> Vec<(&'static str, &'static [ParamSpec])> {
        match kind {
            StrategyKind::Report => self.report.iter().map(|s| (s.name, s.params)).collect(),
            StrategyKind::Withdraw => self.withdraw.iter().map(|s| (s.name, s.params)).collect(),
            StrategyKind::Amount(a) => self.amount[a.index()]
                .iter()
                .map(|s| (s.name, s.params))
                .collect(),
        }
    }

    /// Whether this catalog is `registered` plus, after its mechanisms, a scenario's named
    /// variants (what a scenario loaded against an app's catalog holds).
    pub fn extends(&self, registered: &Catalog) -> bool {
        let n = registered.mechanisms.len();
        self.mechanisms.len() >= n
            && self.mechanisms[..n] == registered.mechanisms[..]
            && self.mechanisms[n..].iter().all(|m| m.variant_of.is_some())
            && self.report == registered.report
            && self.withdraw == registered.withdraw
            && self.amount == registered.amount
            && self.metrics == registered.metrics
    }

    /// The registered mechanism index `index` plays as (its base for a variant).
    pub fn plays_as(&self, index: usize) -> usize {
        self.mechanisms[index].variant_of.unwrap_or(index)
    }

    /// The index of the mechanism called `name`.
    pub fn mechanism(&self, name: &str) -> Option<usize> {
        self.mechanisms.iter().position(|m| m.name == name)
    }

    /// The index of the report strategy called `name`.
    pub fn report_strategy(&self, name: &str) -> Option<usize> {
        self.report.iter().position(|s| s.name == name)
    }

    /// The index of the withdraw strategy called `name`.
    pub fn withdraw_strategy(&self, name: &str) -> Option<usize> {
        self.withdraw.iter().position(|s| s.name == name)
    }

    /// The rules of `game`'s population: index 0 the defaults, index 1 the strategy a share of
    /// users holds (if any). Built once per cell.
    pub fn rules(&self, game: &Game) -> Rules {
        let mut report = vec![(self.report[0].build)(&ParamValues::default())];
        let mut withdraw = vec![(self.withdraw[0].build)(&ParamValues::default())];
        let (r, w) = (&game.population.report, &game.population.withdraw);
        if r.strategy != 0 {
            report.push((self.report[r.strategy].build)(&r.params));
        }
        if w.strategy != 0 {
            withdraw.push((self.withdraw[w.strategy].build)(&w.params));
        }
        let mut rules = Rules::new(report, withdraw);
        for kind in AmountKind::ALL {
            let (decls, share) = (
                &self.amount[kind.index()],
                &game.population.amount[kind.index()],
            );
            let Some(default) = decls.first() else {
                rules = rules.with_amount(kind, AmountRules::default());
                continue;
            };
            let mut list = vec![(default.build)(&ParamValues::default())];
            if share.strategy != 0 {
                list.push((decls[share.strategy].build)(&share.params));
            }
            rules = rules.with_amount(kind, AmountRules::new(list, share.holders(game.users)));
        }
        rules
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_catalog_names_and_defaults() {
        let c = Catalog::core();
        let names: Vec<_> = c.mechanisms.iter().map(|m| m.name).collect();
        assert_eq!(names, ["C", "S", "M", "async", "vcg"]);
        assert_eq!(c.report[0].name, "truthful");
        assert_eq!(c.withdraw[0].name, "sincere");
        assert_eq!(c.report_strategy("shade"), Some(1));
        assert_eq!(c.withdraw_strategy("free-rider"), Some(1));
    }

    /// The core catalog, the kernels and the names all come from `CoreMechanism`: each core
    /// mechanism is found by its name, in catalog order, and a kernel names the mechanism it
    /// plays.
    #[test]
    fn core_mechanisms_are_declared_once() {
        let c = Catalog::core();
        assert_eq!(c.mechanisms.len(), CoreMechanism::ALL.len());
        for (i, m) in CoreMechanism::ALL.into_iter().enumerate() {
            assert_eq!(c.mechanisms[i], m.decl(), "{}", m.name());
            assert_eq!(c.mechanism(m.name()), Some(i));
            assert_eq!(usize::from(m.id()), i, "{}", m.name());
            assert_eq!(CoreMechanism::named(m.name()), Some(m));
            if let Some(k) = crate::Kernel::of(m.name()) {
                assert_eq!(k.mechanism(), m);
                assert_eq!(k.name(), m.name());
            }
        }
        assert_eq!(CoreMechanism::named("S_R1"), None);
        let kernels: Vec<_> = CoreMechanism::ALL
            .into_iter()
            .filter_map(|m| crate::Kernel::of(m.name()))
            .collect();
        assert_eq!(kernels.len(), 3, "C, S and M have direct kernels");
    }

    #[test]
    fn duplicate_names_are_refused() {
        let mut c = Catalog::core();
        let err = c.add_mechanism(SIMULTANEOUS).unwrap_err();
        assert_eq!(err.to_string(), "mechanism \"S\" is registered twice");
        assert!(c.add_withdraw_strategy::<Sincere>().is_err());
    }
}
