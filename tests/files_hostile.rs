//! Files provost reads that someone else may have put there: size limits, special files in
//! place of a policy or a layout's index.json, and an over-large regular expression — each a
//! clear error (exit 2 for configuration, a layout error for stores), never a hang.

mod common;

use common::*;

fn mkfifo(path: &std::path::Path) {
    let c = std::ffi::CString::new(path.to_str().expect("utf8")).expect("cstring");
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0, "mkfifo");
}

#[test]
fn oversized_and_special_policy_files_are_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let h = tmp.path();
    let big = h.join("big.toml");
    let rule = "[[rule]]\nname = \"r\"\nkind = \"sbom\"\n# padding padding padding padding\n";
    std::fs::write(&big, rule.repeat((9 << 20) / rule.len())).expect("big");
    let out = run_provost(h, &["policy", "check", big.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("larger than"), "{}", stderr(&out));
    let fifo = h.join("fifo.toml");
    mkfifo(&fifo);
    let out = run_provost(h, &["policy", "check", fifo.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    // A config file that is a FIFO: refused before anything else.
    let out = run_provost(h, &["--config", fifo.to_str().expect("utf8"), "ls"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn a_special_file_in_place_of_a_layouts_index_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = demo_layout(tmp.path());
    let index = dir.join("index.json");
    for special in ["link to /dev/zero", "fifo"] {
        std::fs::remove_file(&index).expect("rm");
        if special == "fifo" {
            mkfifo(&index);
        } else {
            std::os::unix::fs::symlink("/dev/zero", &index).expect("link");
        }
        let out = run_provost(
            tmp.path(),
            &["--store", dir.to_str().expect("utf8"), "ls", "store"],
        );
        assert_ne!(out.status.code(), Some(0), "{special}");
        assert!(
            stderr(&out).contains("not a regular file"),
            "{special}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn many_rules_validate_and_a_huge_pattern_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let h = tmp.path();
    // 20,000 rules: validation is one pass over the file (it used to search the text per rule).
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!(
            "[[rule]]\nname = \"r{i}\"\nkind = \"builder\"\nallow = [\"b{i}/*\"]\n"
        ));
    }
    let p = h.join("many.toml");
    std::fs::write(&p, text).expect("policy");
    let out = run_provost(h, &["policy", "check", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("20000 rule(s)"), "{}", stdout(&out));
    // A trusted identity whose pattern would compile into a huge automaton: exit 2.
    std::fs::write(
        h.join("c.toml"),
        "demo = false\n[[trust.identity]]\nsubject_regexp = \"(?:a{1000}){1000}\"\nissuer = \"https://x\"\n",
    )
    .expect("config");
    let out = run_provost(
        h,
        &["--config", h.join("c.toml").to_str().expect("utf8"), "ls"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("subject_regexp"), "{}", stderr(&out));
}
