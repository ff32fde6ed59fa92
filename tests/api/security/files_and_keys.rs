//! Secrets at rest: owner-only files, and a wrong DATA_KEY stops with a clear message.

use super::signed_up;
use crate::helpers::spawn_app;
use crate::sandbox_harness::VISA;
use paytr_checkout::config::Settings;
use paytr_checkout::startup::standalone_billing;

#[tokio::test]
async fn a_wrong_data_key_is_a_clear_error_not_a_silent_past_due() {
    let app = spawn_app().await;
    let mut shopper = signed_up(&app, "key@example.com").await;
    shopper.buy_and_save("lokum", VISA).await;
    let mut env = app.env.clone();
    env.insert(
        "DATA_KEY".into(),
        "another key of at least thirty-two chars".into(),
    );
    let settings = Settings::from_lookup(|name| env.get(name).cloned()).expect("settings");

    let result = standalone_billing(&settings).await;

    let message = result.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("DATA_KEY"), "{message}");
    assert!(
        standalone_billing(&app.settings).await.is_ok(),
        "the right key still works"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn data_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    let mut shopper = signed_up(&app, "files@example.com").await;
    shopper.buy_and_save("lokum", VISA).await;
    let dir = app.db.dir.path();

    let mut files = vec![
        dir.join("secrets.json"),
        dir.join("sandbox/merchant.json"),
        dir.join("sandbox/state.json"),
    ];
    if app.db.url.starts_with("sqlite") {
        files.push(dir.join("test.db"));
        files.push(dir.join("test.db-wal"));
    }
    for file in files {
        let mode = std::fs::metadata(&file)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(mode, 0o600, "{}", file.display());
    }
}
