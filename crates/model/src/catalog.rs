//! What a scenario may name: the declared mechanisms and user strategies, each with its
//! parameters. The scenario loader validates against a [`Catalog`]; the simulator's plugin set
//! fills one as plugins register (the core's is [`Catalog::core`]).
//!
//! The core mechanisms are declared here once ([`SUBSIDY`], [`SIMULTANEOUS`], [`SEQUENTIAL`],
//! [`ASYNCHRONOUS`]);
//! the simulator's core plugins register these declarations with their systems.

use std::sync::Arc;

use crate::param::{ParamSpec, ParamValues, Params};
use crate::params::Game;
use crate::strategy::{
    FreeRider, ReportRule, ReportStrategy, Rules, Shade, Sincere, Truthful, WithdrawRule,
    WithdrawStrategy,
};

/// Which users a mechanism's campaigns hold, and so which shared phases they go through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserKind {
    /// Users report costs, the provider assigns burdens (caps and water-filling), users may
    /// withdraw, training settles: the shared report/assign/settle systems run for them and the
    /// mechanism supplies its withdraw protocol.
    Reporting,
    /// Users choose their own contribution; the mechanism supplies every phase.
    Contributing,
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
    /// Which users its campaigns hold.
    pub users: UserKind,
    /// Whether it must never pay without improvement (checked on every campaign; C may leak).
    pub pays_only_on_success: bool,
}

/// Mechanism C: a posted subsidy; users contribute their privately optimal amount.
pub const SUBSIDY: MechanismDecl = MechanismDecl {
    name: "C",
    description: "posted subsidy: users contribute their privately optimal amount; the subsidy leaks when Q is missed",
    params: &[],
    users: UserKind::Contributing,
    pays_only_on_success: false,
};

/// Mechanism S: assigned burdens, simultaneous withdrawal (`[game] recovery_rounds`).
pub const SIMULTANEOUS: MechanismDecl = MechanismDecl {
    name: "S",
    description: "reported costs, assigned burdens, simultaneous withdrawal (optionally with recovery rounds)",
    params: &[],
    users: UserKind::Reporting,
    pays_only_on_success: true,
};

/// Mechanism M: assigned burdens, sequential withdrawal with re-assignment (`[game] order`).
pub const SEQUENTIAL: MechanismDecl = MechanismDecl {
    name: "M",
    description: "reported costs, assigned burdens, sequential withdrawal in the announced order with re-assignment",
    params: &[],
    users: UserKind::Reporting,
    pays_only_on_success: true,
};

/// Mechanism `async`: withdrawal in continuous time before a deadline, with regret shocks and
/// delayed re-assignment ([`crate::asynchronous`]).
pub const ASYNCHRONOUS: MechanismDecl = MechanismDecl {
    name: "async",
    description: "reported costs, assigned burdens, withdrawal in continuous time before a deadline: regret shocks, delayed re-assignment",
    params: <crate::asynchronous::AsyncParams as crate::param::Params>::SPECS,
    users: UserKind::Reporting,
    pays_only_on_success: true,
};

/// A user strategy's declaration and its constructor.
pub struct StrategyDecl<R: ?Sized> {
    /// The name in `[population.report|withdraw] strategy = "..."`.
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

/// Two declarations share a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateName {
    /// "mechanism", "report strategy" or "withdraw strategy".
    pub kind: &'static str,
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
    /// The names of the metrics plugins registered, in `cells` column order (none in the
    /// core): what an adaptive rule may target besides the core's outcome metrics.
    pub metrics: Vec<&'static str>,
}

impl Catalog {
    /// C, S, M and async; truthful and shade; sincere and free-rider.
    pub fn core() -> Catalog {
        let mut c = Catalog::default();
        for m in [SUBSIDY, SIMULTANEOUS, SEQUENTIAL, ASYNCHRONOUS] {
            c.add_mechanism(m).expect("core names are distinct");
        }
        c.add_report_strategy::<Truthful>()
            .and_then(|_| c.add_report_strategy::<Shade>())
            .and_then(|_| c.add_withdraw_strategy::<Sincere>())
            .and_then(|_| c.add_withdraw_strategy::<FreeRider>())
            .expect("core names are distinct");
        c
    }

    /// Declares a mechanism; returns its index.
    pub fn add_mechanism(&mut self, decl: MechanismDecl) -> Result<usize, DuplicateName> {
        if self.mechanism(decl.name).is_some() {
            return Err(DuplicateName {
                kind: "mechanism",
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
                kind: "report strategy",
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
                kind: "withdraw strategy",
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
        Rules::new(report, withdraw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_catalog_names_and_defaults() {
        let c = Catalog::core();
        let names: Vec<_> = c.mechanisms.iter().map(|m| m.name).collect();
        assert_eq!(names, ["C", "S", "M", "async"]);
        assert_eq!(c.report[0].name, "truthful");
        assert_eq!(c.withdraw[0].name, "sincere");
        assert_eq!(c.report_strategy("shade"), Some(1));
        assert_eq!(c.withdraw_strategy("free-rider"), Some(1));
    }

    #[test]
    fn duplicate_names_are_refused() {
        let mut c = Catalog::core();
        let err = c.add_mechanism(SIMULTANEOUS).unwrap_err();
        assert_eq!(err.to_string(), "mechanism \"S\" is registered twice");
        assert!(c.add_withdraw_strategy::<Sincere>().is_err());
    }
}
