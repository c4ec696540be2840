use super::*;
use serde_json::json;

fn ws() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().unwrap();
    let s = Sandbox::new(&dir.path().join("ws")).unwrap();
    (dir, s)
}

fn args(v: &serde_json::Value) -> Args<'_> {
    Args::new(v).unwrap()
}

#[test]
fn write_read_edit_round_trip() {
    let (_d, s) = ws();
    let out = write_file(
        &s,
        &args(&json!({"path": "notes/a.md", "content": "one\ntwo\n"})),
    )
    .unwrap();
    assert_eq!(out.content, "Created notes/a.md (8 B)");
    let read = read_file(&s, &args(&json!({"path": "notes/a.md"})), 1000).unwrap();
    assert_eq!(read.content, "one\ntwo\n");
    assert_eq!(read.summary, "notes/a.md, 8 B");

    let edited = edit_file(
        &s,
        &args(&json!({"path": "notes/a.md", "old_text": "two", "new_text": "2\n3"})),
    )
    .unwrap();
    assert!(
        edited.content.starts_with("Edited notes/a.md"),
        "{edited:?}"
    );
    assert_eq!(
        fs::read_to_string(s.root().join("notes/a.md")).unwrap(),
        "one\n2\n3\n"
    );

    let missing = edit_file(
        &s,
        &args(&json!({"path": "notes/a.md", "old_text": "zzz", "new_text": ""})),
    )
    .unwrap_err();
    assert!(missing.message.contains("does not occur"), "{missing}");
    fs::write(s.root().join("twice.txt"), "x x").unwrap();
    let twice = edit_file(
        &s,
        &args(&json!({"path": "twice.txt", "old_text": "x", "new_text": "y"})),
    )
    .unwrap_err();
    assert!(twice.message.contains("occurs 2 times"), "{twice}");
}

#[test]
fn reading_refuses_what_it_cannot_show() {
    let (_d, s) = ws();
    let e = read_file(&s, &args(&json!({"path": "nope.txt"})), 100).unwrap_err();
    assert_eq!(e.message, "`nope.txt` does not exist");
    fs::write(s.root().join("bin"), [0u8, 1, 2]).unwrap();
    let e = read_file(&s, &args(&json!({"path": "bin"})), 100).unwrap_err();
    assert!(e.message.contains("binary"), "{e}");
    let e = read_file(&s, &args(&json!({"path": "."})), 100).unwrap_err();
    assert!(e.message.contains("is a directory"), "{e}");
    let e = read_file(&s, &args(&json!({"path": "../x"})), 100).unwrap_err();
    assert!(e.message.contains("`..`"), "{e}");
    fs::write(s.root().join("big.txt"), "a".repeat(5000)).unwrap();
    let big = read_file(&s, &args(&json!({"path": "big.txt"})), 100).unwrap();
    assert!(big.content.ends_with("[... 4900 more bytes not shown]"));
    assert_eq!(big.summary, "big.txt, 4.9 KB");
}

#[test]
fn listing_and_searching_stay_inside_and_do_not_follow_links() {
    let (d, s) = ws();
    fs::create_dir_all(s.root().join("src/deep")).unwrap();
    fs::write(s.root().join("src/a.rs"), "fn main() {}\n// TODO: more\n").unwrap();
    fs::write(s.root().join("src/deep/b.rs"), "todo!()\n").unwrap();
    let outside = d.path().join("outside");
    fs::create_dir(&outside).unwrap();
    fs::write(outside.join("secret.rs"), "TODO secret\n").unwrap();
    std::os::unix::fs::symlink(&outside, s.root().join("link")).unwrap();

    let listed = list_files(&s, &args(&json!({})), 10_000).unwrap();
    assert_eq!(
        listed.content,
        "link (link)\nsrc/\nsrc/a.rs  27 B\nsrc/deep/\nsrc/deep/b.rs  8 B"
    );
    let found = search_files(&s, &args(&json!({"pattern": "(?i)todo"})), 10_000).unwrap();
    assert_eq!(
        found.content,
        "src/a.rs:2: // TODO: more\nsrc/deep/b.rs:1: todo!()"
    );
    assert_eq!(found.summary, "`(?i)todo`: 2 match(es) in 2 file(s)");
    let bad = search_files(&s, &args(&json!({"pattern": "("})), 100).unwrap_err();
    assert!(
        bad.message.contains("not a valid regular expression"),
        "{bad}"
    );
    let e = list_files(&s, &args(&json!({"path": "link"})), 100).unwrap_err();
    assert!(e.message.contains("outside the workspace"), "{e}");
}
