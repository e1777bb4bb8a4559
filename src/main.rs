//! The `provost` binary: argument parsing and dispatch. No subcommand opens the TUI.

use clap::{Parser, Subcommand};
use color_eyre::eyre::{eyre, Result, WrapErr};
use provost::cli;
use provost::setup::{Overrides, Settings};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "provost",
    version,
    about = "A terminal release console for container supply chains"
)]
struct Args {
    /// Configuration file (default: provost.toml in the user config directory)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Use this OCI image layout directory as the default store instead of the demo store
    #[arg(long, global = true, value_name = "DIR")]
    store: Option<PathBuf>,
    /// Talk plain HTTP to this registry (repeatable)
    #[arg(long = "insecure-registry", global = true, value_name = "HOST:PORT")]
    insecure_registry: Vec<String>,
    /// Theme: default, light, high-contrast, or a theme file
    #[arg(long, global = true, value_name = "NAME|PATH")]
    theme: Option<String>,
    /// The console's policy file (overrides `policy` in provost.toml); the gate commands take
    /// their own --policy
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Refuse every write (records, signatures), in the console and the CLI
    #[arg(long, global = true)]
    read_only: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

/// Who must have signed, as cosign spells it; none means the configured trust.
#[derive(clap::Args, Clone)]
struct TrustArgs {
    /// A PEM public key (cosign.pub)
    #[arg(long)]
    key: Option<String>,
    #[arg(long)]
    certificate_identity: Option<String>,
    #[arg(long)]
    certificate_identity_regexp: Option<String>,
    #[arg(long)]
    certificate_oidc_issuer: Option<String>,
    #[arg(long)]
    certificate_oidc_issuer_regexp: Option<String>,
    /// A trusted_root.json for keyless verification
    #[arg(long)]
    trusted_root: Option<String>,
    /// Print a machine-readable result
    #[arg(long)]
    json: bool,
}

impl TrustArgs {
    fn trust(&self) -> Result<Option<provost::verify::Trust>> {
        let any = self.key.is_some()
            || self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.certificate_oidc_issuer_regexp.is_some();
        if !any {
            return Ok(None);
        }
        cli::verify::trust_from(
            self.key.as_deref(),
            self.certificate_identity.as_deref(),
            self.certificate_identity_regexp.as_deref(),
            self.certificate_oidc_issuer.as_deref(),
            self.certificate_oidc_issuer_regexp.as_deref(),
        )
        .map(Some)
    }
}

#[derive(Subcommand)]
enum PolicyCmd {
    /// Validate a policy file
    Check { file: String },
    /// Which digests would change verdict under a new policy, and through which findings
    /// (exit 0; `--json` for scripts)
    Compare {
        old: String,
        new: String,
        /// Only this environment (default: every one of the source)
        #[arg(long = "env")]
        environment: Option<String>,
        /// One artifact to judge under both
        reference: Option<String>,
        /// Every tagged digest of this source
        #[arg(long, value_name = "SOURCE", conflicts_with = "reference")]
        all: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Say in plain words what an environment requires
    Explain {
        #[arg(long = "env")]
        environment: String,
        #[arg(long)]
        policy: Option<String>,
    },
}

#[derive(Subcommand)]
enum Cmd {
    /// List sources, a source's repositories, or a repository's tags with digests
    Ls {
        /// Nothing (sources), REGISTRY or SOURCE (repositories), or [REGISTRY/]REPO (tags)
        target: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// With a registry: every repository with its tags
        #[arg(long)]
        all: bool,
        /// With --all: resolve every tag to its digest too (one request per tag)
        #[arg(long, requires = "all")]
        digests: bool,
    },
    /// Show one artifact: media type, platforms, layers, config, annotations, tags
    Inspect {
        /// registry/repo:tag, registry/repo@sha256:…, or repo:tag in the default store
        reference: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
        /// Reuse other tags' lookups cached on disk when younger than this many seconds (the
        /// reference given is always resolved by the registry; content is checked by digest)
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        cache_ttl: u64,
        /// Ask the registry for everything; read and write no on-disk cache
        #[arg(long)]
        no_cache: bool,
    },
    /// List every attestation, provenance, SBOM and signature attached to an artifact
    Evidence {
        reference: String,
        #[arg(long)]
        json: bool,
    },
    /// Render the SLSA provenance in a local file (DSSE envelope, bundle, .intoto.jsonl,
    /// Cloud Build output) in plain words
    Provenance {
        file: String,
        #[arg(long)]
        json: bool,
    },
    /// Summarise a local SPDX or CycloneDX JSON SBOM
    Sbom {
        file: String,
        #[arg(long)]
        json: bool,
    },
    /// Verify a Sigstore bundle offline (the Sigstore conformance CLI protocol)
    VerifyBundle {
        /// Use the Sigstore staging trusted root instead of production
        #[arg(long)]
        staging: bool,
        /// The bundle file
        #[arg(long)]
        bundle: String,
        /// Expected certificate identity (SAN), exact
        #[arg(long)]
        certificate_identity: Option<String>,
        /// Expected certificate identity (SAN), a regular expression
        #[arg(long)]
        certificate_identity_regexp: Option<String>,
        /// Expected OIDC issuer, exact
        #[arg(long)]
        certificate_oidc_issuer: Option<String>,
        /// Expected OIDC issuer, a regular expression
        #[arg(long)]
        certificate_oidc_issuer_regexp: Option<String>,
        /// Verify with this PEM public key instead of an identity
        #[arg(long)]
        key: Option<String>,
        /// A trusted_root.json (default: the production root inside provost)
        #[arg(long)]
        trusted_root: Option<String>,
        /// Print a machine-readable result
        #[arg(long)]
        json: bool,
        /// The artifact file, or sha256:<64 hex digits>
        file_or_digest: String,
    },
    /// Verify an image's cosign signatures (and signature bundles), offline
    Verify {
        reference: String,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Verify an image's attestations (cosign .att, DSSE referrers, bundles), offline
    VerifyAttestation {
        reference: String,
        /// Only attestations of this predicate type
        #[arg(long = "type")]
        predicate_type: Option<String>,
        #[command(flatten)]
        trust: TrustArgs,
    },
    /// Sign an image with a key (cosign-compatible simple-signing signature at the .sig tag)
    Sign {
        reference: String,
        /// PKCS#8 PEM or cosign encrypted private key (passphrase from PROVOST_PASSWORD,
        /// COSIGN_PASSWORD or a prompt)
        #[arg(long)]
        key: String,
        /// Also store a Sigstore bundle (v0.3, message signature over the manifest) as an OCI
        /// referrer of the image. Needs --timestamp-server-url: a key-signed bundle is only
        /// valid with proof of when it was signed
        #[arg(long, requires = "timestamp_server_url")]
        bundle: bool,
        /// An RFC 3161 timestamp authority that countersigns the signatures (cosign's
        /// rfc3161timestamp annotation on the .sig layer, and the bundle's timestamp): proof of
        /// when they were made, which a key's validity window is checked against
        #[arg(long, value_name = "URL")]
        timestamp_server_url: Option<String>,
    },
    /// Attest a predicate about an image (DSSE envelope at the .att tag)
    Attest {
        reference: String,
        /// The predicate JSON file
        #[arg(long)]
        predicate: String,
        /// The predicate type URI
        #[arg(long = "type")]
        predicate_type: String,
        #[arg(long)]
        key: String,
    },
    /// Write a cosign-compatible key pair (PREFIX.key encrypted, PREFIX.pub)
    Keygen {
        #[arg(long, default_value = "cosign")]
        output_key_prefix: String,
    },
    /// The verdict for an artifact (or, with --all, every digest of a repository) in one
    /// environment; exits 0 for pass or warn, 3 for block, 1 when evaluation failed
    Gate {
        target: String,
        #[arg(long = "env")]
        environment: String,
        /// Policy file (default: the demo policy for the demo store, else built-in checks only)
        #[arg(long)]
        policy: Option<String>,
        /// Every digest of the repository
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
        /// Write a Markdown summary (for a CI job summary)
        #[arg(long)]
        summary: Option<String>,
        /// Reuse evidence-tag lookups cached on disk when younger than this many seconds (image
        /// tags are always resolved by the registry; manifests and blobs are cached by digest
        /// and checked on every read)
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        cache_ttl: u64,
        /// Ask the registry for everything; read and write no on-disk cache
        #[arg(long)]
        no_cache: bool,
    },
    /// Approve (or with --reject, reject) a digest for an environment: a signed record
    Approve(cli::records::ApproveArgs),
    /// Quarantine a digest (and an index's platform manifests) everywhere: a signed record
    Quarantine(cli::records::QuarantineArgs),
    /// Lift a quarantine: a signed record
    Unquarantine(cli::records::QuarantineArgs),
    /// Promote a digest into an environment with its evidence: copy, re-verify at the
    /// destination, record, move the tag (compare-and-swap)
    Promote(cli::promote::PromoteArgs),
    /// Move an environment tag back to a digest its chain shows it held, gated by today's policy
    Rollback(cli::promote::RollbackArgs),
    /// Compare each environment tag with its chain's latest promotion (exit 8 on drift)
    Drift(cli::promote::DriftArgs),
    /// What changed between two digests: identity, provenance, signers, packages, layers,
    /// config and verdicts (or one against what an environment holds: --env)
    Diff(cli::diff::DiffArgs),
    /// Index the verified facts of every digest (new ones only) for `find`; with a progress bar
    Index {
        /// Sources to index (default: every configured source)
        sources: Vec<String>,
        #[arg(long)]
        json: bool,
    },
    /// Every digest a builder, source, workflow, commit, signer or package touched (verified
    /// apart from unverified claims), where it is now and was before, and today's verdicts;
    /// `--quarantine --reason TEXT` quarantines every verified hit
    Find(Box<cli::find::FindArgs>),
    /// What runs in an environment's runtime against what its tag and chain say; exit 8 on
    /// drift, 3 when a running digest is blocked
    Runtime(cli::runtime::RuntimeArgs),
    /// Read and verify the audit trail of an environment (or of quarantines)
    Audit {
        #[command(subcommand)]
        action: cli::audit::AuditCmd,
    },
    /// Check or explain a policy
    Policy {
        #[command(subcommand)]
        action: PolicyCmd,
    },
    /// Create (or with --reset, rebuild) the demo store at --store DIR
    Demo {
        /// Delete the layout's contents and seed it again
        #[arg(long)]
        reset: bool,
    },
}

fn main() -> ExitCode {
    cli::process::install_hooks();
    let args = Args::parse();
    if args.command.is_some() {
        cli::process::restore_sigpipe();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            provost::warn!("provost: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(run(args));
    if std::env::var_os("PROVOST_COUNT_REQUESTS").is_some() {
        provost::warn!(
            "provost: {} registry requests",
            provost::oci::remote::REQUESTS.load(std::sync::atomic::Ordering::Relaxed)
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(report) => {
            // Errors quote registry answers: sanitized like everything else from outside.
            provost::warn!(
                "provost: {}",
                provost::text::sanitize(&format!("{report:#}"))
            );
            ExitCode::from(cli::exit_code(&report) as u8)
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let overrides = Overrides {
        read_only: args.read_only,
        config: args.config.clone(),
        store: args.store.clone(),
        insecure_registries: args.insecure_registry.clone(),
        theme: args.theme.clone(),
        policy: args.policy.clone(),
        data_dir: None,
    };
    if let Some(Cmd::Demo { reset }) = &args.command {
        return cli::demo::demo_cmd(args.store.as_deref(), *reset).await;
    }
    match &args.command {
        Some(Cmd::VerifyBundle {
            staging,
            bundle,
            certificate_identity,
            certificate_identity_regexp,
            certificate_oidc_issuer,
            certificate_oidc_issuer_regexp,
            key,
            trusted_root,
            json,
            file_or_digest,
        }) => {
            let ok = cli::verify::verify_bundle_cmd(&cli::verify::VerifyBundleArgs {
                staging: *staging,
                bundle: bundle.clone(),
                identity: certificate_identity.clone(),
                identity_regexp: certificate_identity_regexp.clone(),
                issuer: certificate_oidc_issuer.clone(),
                issuer_regexp: certificate_oidc_issuer_regexp.clone(),
                key: key.clone(),
                trusted_root: trusted_root.clone(),
                json: *json,
                file_or_digest: file_or_digest.clone(),
            })?;
            return if ok {
                Ok(())
            } else {
                Err(eyre!(cli::exit::Failed("the bundle did not verify")))
            };
        }
        Some(Cmd::Keygen { output_key_prefix }) => return cli::sign::keygen_cmd(output_key_prefix),
        Some(Cmd::Policy {
            action: PolicyCmd::Check { file },
        }) => {
            let envs = provost::setup::environment_names(args.config.as_deref())
                .wrap_err("reading the configuration")?;
            return cli::gate::policy_check(file, &envs);
        }
        Some(Cmd::Provenance { file, json }) => return cli::evidence::provenance_cmd(file, *json),
        Some(Cmd::Sbom { file, json }) => return cli::evidence::sbom_cmd(file, *json),
        _ => {}
    }
    let settings = Settings::load(&overrides)
        .await
        .wrap_err("loading the configuration")?;
    let Some(command) = args.command else {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let theme = provost::tui::theme::Theme::load(&settings.theme, no_color)
            .map_err(|e| eyre!(cli::exit::Usage(format!("loading the theme: {e}"))))?;
        return provost::tui::run(&settings, theme).await;
    };
    // A headless command ends within its overall bound (the console has none: its user can
    // cancel any job, and every request it sends has its own deadline).
    provost::oci::budget::within(Some(settings.command_timeout), headless(&settings, command))
        .await
        .map_err(|e| eyre!(e))?
}

/// Every command but the console.
async fn headless(settings: &Settings, command: Cmd) -> Result<()> {
    match command {
        Cmd::Ls {
            target,
            json,
            all,
            digests,
        } => cli::ls(settings, target.as_deref(), json, all, digests).await,
        Cmd::Inspect {
            reference,
            json,
            cache_ttl,
            no_cache,
        } => {
            if no_cache {
                settings.uncached();
            }
            let ttl = (!no_cache).then(|| std::time::Duration::from_secs(cache_ttl));
            cli::inspect(settings, &reference, json, ttl).await
        }
        Cmd::Evidence { reference, json } => {
            cli::evidence::evidence_cmd(settings, &reference, json).await
        }
        Cmd::Verify { reference, trust } => {
            let t = trust.trust()?;
            cli::verify::verify_image_cmd(
                settings,
                &reference,
                false,
                None,
                t,
                trust.trusted_root.as_deref(),
                trust.json,
            )
            .await
        }
        Cmd::VerifyAttestation {
            reference,
            predicate_type,
            trust,
        } => {
            let t = trust.trust()?;
            cli::verify::verify_image_cmd(
                settings,
                &reference,
                true,
                predicate_type.as_deref(),
                t,
                trust.trusted_root.as_deref(),
                trust.json,
            )
            .await
        }
        Cmd::Gate {
            target,
            environment,
            policy,
            all,
            json,
            summary,
            cache_ttl,
            no_cache,
        } => {
            if no_cache {
                settings.uncached();
            }
            let opts = cli::gate::GateOptions {
                policy,
                all,
                json,
                summary,
                cache_ttl: (!no_cache).then(|| std::time::Duration::from_secs(cache_ttl)),
            };
            let code = cli::gate::gate_cmd(settings, &target, &environment, &opts).await?;
            if code == 0 {
                Ok(())
            } else {
                Err(eyre!(cli::exit::Code(code)))
            }
        }
        Cmd::Policy {
            action:
                PolicyCmd::Explain {
                    environment,
                    policy,
                },
        } => cli::gate::policy_explain(settings, &environment, policy.as_deref()),
        Cmd::Policy {
            action:
                PolicyCmd::Compare {
                    old,
                    new,
                    environment,
                    reference,
                    all,
                    json,
                },
        } => {
            cli::gate::policy_compare(
                settings,
                (&old, &new),
                environment.as_deref(),
                reference.as_deref(),
                all.as_deref(),
                json,
            )
            .await
        }
        Cmd::Approve(a) => cli::records::approve_cmd(settings, &a).await,
        Cmd::Quarantine(a) => cli::records::quarantine_cmd(settings, &a, false).await,
        Cmd::Unquarantine(a) => cli::records::quarantine_cmd(settings, &a, true).await,
        Cmd::Promote(a) => cli::promote::promote_cmd(settings, &a).await,
        Cmd::Rollback(a) => cli::promote::rollback_cmd(settings, &a).await,
        Cmd::Drift(a) => cli::promote::drift_cmd(settings, &a).await,
        Cmd::Diff(a) => cli::diff::diff_cmd(settings, &a).await,
        Cmd::Index { sources, json } => cli::find::index_cmd(settings, &sources, json).await,
        Cmd::Find(a) => cli::find::find_cmd(settings, &a).await,
        Cmd::Runtime(a) => cli::runtime::runtime_cmd(settings, &a).await,
        Cmd::Audit {
            action: cli::audit::AuditCmd::Log(a),
        } => cli::audit::log_cmd(settings, &a).await,
        Cmd::Audit {
            action: cli::audit::AuditCmd::Verify(a),
        } => cli::audit::verify_cmd(settings, &a).await,
        Cmd::Sign {
            reference,
            key,
            bundle,
            timestamp_server_url,
        } => {
            let tsa = timestamp_server_url.as_deref();
            cli::sign::sign_cmd(settings, &reference, &key, bundle, tsa).await
        }
        Cmd::Attest {
            reference,
            predicate,
            predicate_type,
            key,
        } => cli::sign::attest_cmd(settings, &reference, &predicate, &predicate_type, &key).await,
        Cmd::Demo { .. }
        | Cmd::Provenance { .. }
        | Cmd::Sbom { .. }
        | Cmd::VerifyBundle { .. }
        | Cmd::Keygen { .. }
        | Cmd::Policy { .. } => Ok(()),
    }
}
