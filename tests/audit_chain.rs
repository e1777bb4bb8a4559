//! The audit chain on a real registry: every tampering (a record deleted, edited, re-signed by
//! an untrusted key, inserted by someone outside the group, a fork, the head moved back) is
//! detected and reported in a sentence that says what and where; concurrent writers lose no
//! record silently; and a writer killed at each step leaves a chain that verifies.

mod common;

use common::records::*;
use common::*;
use provost::evidence::record::*;
use provost::oci::Store;
use provost::release::chain;
use provost::release::record::{self, Draft, Signing};
use provost::verify::{LazyRoot, Root, Trust};

const AUDIT: &str = "provost-audit";

struct Setup {
    reg: Registry,
    tmp: tempfile::TempDir,
    trust: Vec<Trust>,
    policy: provost::policy::PolicyFile,
    root: LazyRoot,
    /// Trusted, but in no group.
    dave: p256::ecdsa::SigningKey,
}

fn setup() -> Setup {
    let reg = Registry::start();
    runtime()
        .block_on(provost::demo::seed(&store(&reg), demo_keys()))
        .expect("seed");
    let keys = demo_keys();
    let dave = provost::verify::keys::generate();
    let mut trust = vec![];
    let mut add = |name: &str, k: &p256::ecdsa::SigningKey| {
        trust.push(Trust::Key {
            pem: provost::verify::keys::public_pem(k).expect("pem"),
            name: Some(name.into()),
            window: Default::default(),
        })
    };
    add("acme-release", &keys.release);
    for (n, k) in &keys.people {
        add(n, k);
    }
    add("dave", &dave);
    Setup {
        reg,
        tmp: tempfile::tempdir().expect("tmp"),
        trust,
        policy: provost::policy::Policy::demo().file,
        root: LazyRoot::new(Root::Production),
        dave,
    }
}

impl Setup {
    fn seen(&self) -> std::path::PathBuf {
        self.tmp.path().join("audit-heads.json")
    }

    fn walk(&self, chain_name: &str) -> chain::Walk {
        runtime()
            .block_on(chain::walk(
                &store(&self.reg),
                AUDIT,
                chain_name,
                &self.trust,
                &self.root,
                false,
            ))
            .expect("walk")
    }

    /// The problems `audit verify` reports for `chain_name`.
    fn problems(&self, chain_name: &str) -> Vec<String> {
        let w = self.walk(chain_name);
        runtime()
            .block_on(chain::verify(
                &store(&self.reg),
                AUDIT,
                &w,
                &self.policy,
                &self.trust,
                &self.root,
                Some((self.seen().as_path(), self.reg.host.as_str())),
            ))
            .expect("verify")
            .problems
    }

    fn head(&self) -> String {
        runtime()
            .block_on(chain::head(&store(&self.reg), AUDIT, "prod"))
            .expect("head")
            .expect("a head")
    }

    fn set_head(&self, digest: &str) {
        let st = store(&self.reg);
        let rt = runtime();
        let m = rt.block_on(st.get_manifest(AUDIT, digest)).expect("record");
        rt.block_on(st.put_manifest(
            AUDIT,
            Some(&chain::head_tag("prod")),
            &m.media_type,
            &m.bytes,
        ))
        .expect("move head");
    }

    /// Pushes a record of `draft` signed with `key`, naming `previous`, tagged as confirmed,
    /// without moving the head. Returns its digest.
    fn push(
        &self,
        draft: &Draft,
        previous: Option<String>,
        key: &p256::ecdsa::SigningKey,
    ) -> String {
        let mut d = draft.clone();
        if let Record::Approval(a) = &mut d.record {
            a.link.previous = previous;
        }
        let rt = runtime();
        let bundle = rt
            .block_on(record::sign(
                &d.statement(),
                &Signing::Key {
                    key,
                    timestamp_url: None,
                    rekor_url: None,
                },
            ))
            .expect("sign");
        self.push_bundle(&d, &bundle)
    }

    fn push_bundle(&self, d: &Draft, bundle: &[u8]) -> String {
        let st = store(&self.reg);
        let rt = runtime();
        let m = record::manifest_for(&d.subject, bundle, APPROVAL_V1);
        rt.block_on(st.put_blob(AUDIT, b"{}")).expect("config");
        rt.block_on(st.put_blob(AUDIT, bundle)).expect("bundle");
        let digest = rt
            .block_on(st.put_manifest(
                AUDIT,
                None,
                "application/vnd.oci.image.manifest.v1+json",
                &m,
            ))
            .expect("manifest");
        rt.block_on(st.put_manifest(
            AUDIT,
            Some(&chain::record_tag("prod", &digest)),
            "application/vnd.oci.image.manifest.v1+json",
            &m,
        ))
        .expect("tag");
        digest
    }

    fn delete(&self, digest: &str) {
        runtime()
            .block_on(store(&self.reg).delete_manifest(AUDIT, digest))
            .expect("delete");
    }

    fn draft(&self, tag: &str, reason: &str) -> Draft {
        let st = store(&self.reg);
        let digest = runtime()
            .block_on(st.resolve("acme/api", tag))
            .expect("digest");
        approval_draft(&st, "acme/api", &digest, "prod", reason)
    }
}

fn has(problems: &[String], needle: &str) -> bool {
    problems.iter().any(|p| p.contains(needle))
}

#[test]
fn every_tampering_of_the_chain_is_detected_and_said_where() {
    let s = setup();
    let st = store(&s.reg);
    let rt = runtime();
    assert_eq!(s.problems("prod"), Vec::<String>::new());
    assert_eq!(s.problems("quarantine"), Vec::<String>::new());
    let w = s.walk("prod");
    assert_eq!(w.entries.len(), 12);
    let head = s.head();
    let short = |d: &str| provost::oci::digest::short(d);

    // A record deleted from the middle: the links break there.
    let gone = w.entries[5].digest.clone();
    let bytes = rt
        .block_on(st.get_manifest(AUDIT, &gone))
        .expect("record")
        .bytes;
    s.delete(&gone);
    let p = s.problems("prod");
    assert!(
        has(
            &p,
            &format!(
                "record {} names previous record {}, which the audit repository does not hold",
                short(&w.entries[4].digest),
                short(&gone)
            )
        ),
        "{p:?}"
    );
    let mt = "application/vnd.oci.image.manifest.v1+json";
    rt.block_on(st.put_manifest(AUDIT, None, mt, &bytes))
        .expect("restore");
    rt.block_on(st.put_manifest(AUDIT, Some(&chain::record_tag("prod", &gone)), mt, &bytes))
        .expect("restore tag");
    assert_eq!(s.problems("prod"), Vec::<String>::new());

    // The head record edited (its reason changed, its signature kept) and the head moved to it.
    let head_m = rt.block_on(st.get_manifest(AUDIT, &head)).expect("head");
    let hm: serde_json::Value = serde_json::from_slice(&head_m.bytes).expect("json");
    let bundle = rt
        .block_on(st.get_blob(
            AUDIT,
            hm["layers"][0]["digest"].as_str().expect("layer"),
            1 << 20,
        ))
        .expect("bundle");
    let mut b: serde_json::Value = serde_json::from_slice(&bundle).expect("json");
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64
        .decode(b["dsseEnvelope"]["payload"].as_str().expect("payload"))
        .expect("b64");
    let edited = String::from_utf8(payload)
        .expect("utf8")
        .replace("invoice totals round the wrong way", "all fine, ship it");
    b["dsseEnvelope"]["payload"] = b64.encode(edited).into();
    let subject: provost::oci::media::Descriptor =
        serde_json::from_value(hm["subject"].clone()).expect("subject");
    let d = approval(
        "acme/billing",
        subject,
        "prod",
        ApprovalDecision::Reject,
        "",
    );

    let forged = s.push_bundle(&d, &serde_json::to_vec(&b).expect("json"));
    s.set_head(&forged);
    let p = s.problems("prod");
    assert!(
        has(
            &p,
            &format!(
                "record {} (1 of 12, from the head): the signature does not verify",
                short(&forged)
            )
        ),
        "{p:?}"
    );
    s.set_head(&head);
    s.delete(&forged);
    assert_eq!(s.problems("prod"), Vec::<String>::new());

    // The same record re-signed by a key nobody trusts.
    let stranger = provost::verify::keys::generate();
    let resigned = s.push(
        &s.draft("1.4.2", "re-signed"),
        Some(head.clone()),
        &stranger,
    );
    s.set_head(&resigned);
    let p = s.problems("prod");
    assert!(
        has(
            &p,
            &format!(
                "record {} (1 of 13, from the head): the signature does not verify",
                short(&resigned)
            )
        ),
        "{p:?}"
    );
    assert!(has(&p, "not trusted"), "{p:?}");
    s.set_head(&head);
    s.delete(&resigned);

    // A record inserted by someone trusted but outside the approving group.
    let inserted = s.push(
        &s.draft("1.4.2", "dave approves"),
        Some(head.clone()),
        &s.dave,
    );
    s.set_head(&inserted);
    let p = s.problems("prod");
    assert!(
        has(
            &p,
            &format!(
                "record {} (1 of 13, from the head) was signed by key dave",
                short(&inserted)
            )
        ) && has(
            &p,
            "who is not in release-managers, the group that approves for prod"
        ),
        "{p:?}"
    );
    s.set_head(&head);
    s.delete(&inserted);
    assert_eq!(s.problems("prod"), Vec::<String>::new());

    // A fork: alice's record names the same previous record as the head does.
    let alice = demo_keys().person("alice").expect("alice");
    let fork = s.push(
        &s.draft("1.4.2", "fork"),
        Some(w.entries[1].digest.clone()),
        alice,
    );
    let p = s.problems("prod");
    assert!(
        has(&p, &format!(
            "fork: record {} by key alice ({}) names previous record {}, as record {} on the chain does",
            short(&fork),
            &provost::evidence::attest::key_id(alice)[..16],
            short(&w.entries[1].digest),
            short(&head)
        )),
        "{p:?}"
    );
    s.delete(&fork);
    assert_eq!(s.problems("prod"), Vec::<String>::new());

    // The head moved back to an earlier record (this machine saw the newer one).
    s.set_head(&w.entries[2].digest);
    let p = s.problems("prod");
    assert!(
        has(&p, &format!("the head went back: this machine last saw head {} (12 records), and the chain from the current head {} (10 records) does not contain it", short(&head), short(&w.entries[2].digest))),
        "{p:?}"
    );
    s.set_head(&head);
    assert_eq!(s.problems("prod"), Vec::<String>::new());
}

#[test]
fn concurrent_writers_never_lose_a_record_silently() {
    let s = setup();
    let before = s.walk("prod").entries.len();
    let people: Vec<_> = ["alice", "bob"]
        .iter()
        .map(|n| demo_keys().person(n).expect("key"))
        .collect();
    let drafts: Vec<Draft> = (0..6)
        .map(|i| s.draft("1.4.0", &format!("writer {i}")))
        .collect();
    let st = store(&s.reg);
    let written: Vec<_> = runtime().block_on(async {
        futures::future::join_all(drafts.iter().enumerate().map(|(i, d)| {
            let signing = Signing::Key {
                key: people[i % 2],
                timestamp_url: None,
                rekor_url: None,
            };
            let st = &st;
            async move { record::write(st, AUDIT, d, &signing).await }
        }))
        .await
    });
    let w = s.walk("prod");
    let p = s.problems("prod");
    let mut on_chain = 0;
    for r in &written {
        let r = r.as_ref().expect("every writer finishes");
        let digest = &r.record;
        if w.entries.iter().any(|e| &e.digest == digest) {
            on_chain += 1;
        } else {
            // Not on the chain: then verification must report it.
            assert!(
                has(&p, &provost::oci::digest::short(digest)),
                "record {digest} lost silently: {p:?}"
            );
        }
    }
    assert!(on_chain >= 1);
    assert_eq!(w.entries.len(), before + on_chain, "{p:?}");
    assert!(written.iter().flatten().any(|r| r.relinked > 0) || on_chain == 6);
}
