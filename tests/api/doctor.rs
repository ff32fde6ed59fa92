//! `paytr-checkout doctor` against a live-mode shop whose PayTR is a standalone sandbox.

use crate::helpers::{TestApp, spawn_live_app};
use crate::sandbox_harness::start_sandbox;

/// Runs the binary off the test's runtime, which keeps serving the shop and the sandbox.
async fn doctor(app: &TestApp, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_paytr-checkout"));
    command
        .arg("doctor")
        .env_clear()
        .envs(app.env.iter())
        .envs(vars.iter().copied())
        .env("LOG", "error");
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("binary runs");
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn doctor_is_green_with_the_right_credentials_and_names_a_wrong_key() {
    let sandbox = start_sandbox().await;
    let app = spawn_live_app(&sandbox.url, &[]).await;

    let (code, out) = doctor(&app, &[]).await;
    assert_eq!(code, Some(0), "{out}");
    for line in [
        "ok    mode: live",
        "ok    database:",
        "ok    clock: within",
        "ok    credentials accepted",
        "ok    card storage (CAPI) enabled",
        "ok    notification URL",
        "doctor: all checks passed",
    ] {
        assert!(out.contains(line), "{line:?} missing:\n{out}");
    }
    assert!(
        out.contains("warn  PUBLIC_URL"),
        "plain http is only a rehearsal:\n{out}"
    );

    let (code, out) = doctor(&app, &[("PAYTR_MERCHANT_KEY", "WrongKey12345678")]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL  credentials"), "{out}");
    assert!(
        out.lines()
            .last()
            .is_some_and(|l| l.contains("first problem: credentials")),
        "{out}"
    );
    assert!(
        !out.contains("WrongKey12345678"),
        "a secret is never printed"
    );

    let (code, out) = doctor(&app, &[("PUBLIC_URL", "http://shop.example")]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL  PUBLIC_URL"), "{out}");
}

#[tokio::test]
async fn doctor_names_an_unreachable_paytr_and_a_missing_permission() {
    use paytr_checkout::sandbox::knobs::{Knobs, Permission};
    let sandbox = start_sandbox().await;
    let app = spawn_live_app(&sandbox.url, &[]).await;
    let mut knobs = sandbox.sandbox.knobs();
    knobs.permissions.deny(Permission::StoreCard);
    sandbox.sandbox.set_knobs(Knobs { ..knobs });

    let (code, out) = doctor(&app, &[]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL  card storage"), "{out}");

    let (code, out) = doctor(&app, &[("PAYTR_BASE_URL", "http://127.0.0.1:9")]).await;
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("FAIL  PayTR:"), "{out}");
}
