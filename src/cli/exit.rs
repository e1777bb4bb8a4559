//! Exit codes, shared by every command and documented in the README.

use crate::config::ConfigError;
use crate::oci::OciError;

/// Success.
pub const OK: i32 = 0;
/// A registry, store or network error.
pub const ERROR: i32 = 1;
/// Bad usage or a bad configuration file.
pub const USAGE: i32 = 2;
/// `gate` (and promote, rollback, runtime): blocked by policy.
pub const BLOCKED: i32 = 3;
/// Verification failed: no signature satisfied the key or identity given.
pub const UNVERIFIED: i32 = 6;
/// `audit verify`: the chain does not verify.
pub const TAMPERED: i32 = 7;
/// `drift` and `runtime`: a tag or a workload is not where its chain says.
pub const DRIFTED: i32 = 8;
/// `find`: a partial answer (some place could not be read).
pub const PARTIAL: i32 = 9;

/// A verification that ran and failed (its reasons are already printed).
#[derive(Debug)]
pub struct Failed(pub &'static str);

impl std::fmt::Display for Failed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Failed {}

/// A command that finished with a specific exit code (its output already printed).
#[derive(Debug)]
pub struct Code(pub i32);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            3 => f.write_str("blocked by policy"),
            7 => f.write_str("the audit trail does not verify"),
            8 => f.write_str("an environment tag drifted from its chain"),
            9 => f.write_str("a partial answer: some place could not be read"),
            _ => f.write_str("evaluation failed"),
        }
    }
}

impl std::error::Error for Code {}

/// A usage or file error found by a command (unknown environment, bad policy, bad key file):
/// exit code 2, with the sentence.
#[derive(Debug)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Content refused: a digest mismatch or an oversized manifest or blob.
pub const INTEGRITY: i32 = 4;
/// The repository, tag or digest does not exist.
pub const NOT_FOUND: i32 = 5;

/// The exit code for an error report, from the first typed error in its chain.
pub fn exit_code(report: &color_eyre::eyre::Report) -> i32 {
    for cause in report.chain() {
        if cause.downcast_ref::<Failed>().is_some() {
            return UNVERIFIED;
        }
        if let Some(Code(c)) = cause.downcast_ref::<Code>() {
            return *c;
        }
        if cause.downcast_ref::<Usage>().is_some()
            || cause.downcast_ref::<crate::policy::PolicyError>().is_some()
        {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<OciError>() {
            return oci_code(e);
        }
        if let Some(e) = cause.downcast_ref::<crate::ledger::LedgerError>() {
            use crate::ledger::LedgerError as L;
            return match e {
                L::Read {
                    integrity: true, ..
                } => INTEGRITY,
                L::Read {
                    not_found: true, ..
                } => NOT_FOUND,
                L::NotConfigured | L::ChainName(_) => USAGE,
                _ => ERROR,
            };
        }
        if let Some(e) = cause.downcast_ref::<ConfigError>() {
            return match e {
                ConfigError::Store(inner) => oci_code(inner),
                _ => USAGE,
            };
        }
    }
    ERROR
}

fn oci_code(e: &OciError) -> i32 {
    if e.is_integrity() {
        INTEGRITY
    } else if e.is_not_found() {
        NOT_FOUND
    } else if matches!(
        e,
        OciError::InvalidReference { .. } | OciError::InvalidDigest(_)
    ) {
        USAGE
    } else {
        ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerError;

    fn read(not_found: bool, integrity: bool) -> LedgerError {
        LedgerError::Read {
            chain: "prod".into(),
            ledger: "provost-audit of build".into(),
            message: "x".into(),
            not_found,
            integrity,
        }
    }

    #[test]
    fn a_ledger_error_exits_with_the_code_of_its_cause() {
        let code = |e: LedgerError| exit_code(&color_eyre::eyre::eyre!(e));
        assert_eq!(code(read(true, false)), NOT_FOUND);
        assert_eq!(code(read(false, true)), INTEGRITY);
        assert_eq!(code(read(false, false)), ERROR);
        assert_eq!(code(LedgerError::NotConfigured), USAGE);
    }
}
