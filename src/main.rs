use clap::Parser;
use paytr_checkout::cli::{AdminCommand, ApiKeyCommand, BillingCommand, Cli, Command, SandboxArgs};
use paytr_checkout::config::Settings;
use paytr_checkout::db::Backend;
use paytr_checkout::sandbox::{SandboxConfig, SandboxServer, load_or_create_merchant};
use paytr_checkout::startup::Application;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A missing .env is normal; the environment alone is enough.
    let _ = dotenvy::dotenv();
    paytr_checkout::logging::init();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Openapi = command {
        println!("{}", paytr_checkout::api::openapi_json());
        return ExitCode::SUCCESS;
    }
    if let Command::Sandbox(args) = command {
        return finish(actix_web::rt::System::new().block_on(sandbox(*args)));
    }
    let settings = match Settings::from_env() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    finish(match command {
        Command::Billing(BillingCommand::RunDue { now }) => {
            actix_web::rt::System::new().block_on(run_due(settings, now))
        }
        Command::Refund {
            merchant_oid,
            amount,
            reason,
        } => {
            return actix_web::rt::System::new().block_on(refund(
                settings,
                &merchant_oid,
                amount,
                &reason,
            ));
        }
        Command::Admin(AdminCommand::AddUser { email, role }) => {
            actix_web::rt::System::new().block_on(add_staff(settings, &email, &role))
        }
        Command::ApiKey(command) => {
            actix_web::rt::System::new().block_on(api_key(settings, command))
        }
        Command::Doctor => {
            return actix_web::rt::System::new().block_on(paytr_checkout::doctor::run(
                &settings,
                &mut std::io::stdout(),
            ));
        }
        Command::Migrate => Backend::from_url(&settings.database_url)
            .and_then(|backend| backend.run_migrations())
            .map(|()| tracing::info!("migrations are up to date"))
            .map_err(anyhow::Error::from),
        _ => actix_web::rt::System::new().block_on(serve(settings)),
    })
}

fn finish(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    tracing::info!(url = %app.public_url(), "storefront listening");
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn run_due(settings: Settings, now: Option<i64>) -> anyhow::Result<()> {
    if now.is_some() && settings.paytr.credentials.is_some() {
        anyhow::bail!(
            "--now moves the clock, which is for sandbox mode only (no PAYTR_MERCHANT_* set)"
        );
    }
    let billing = paytr_checkout::startup::standalone_billing(&settings).await?;
    let summary = billing
        .run_due(now.unwrap_or_else(paytr_checkout::db::unix_now))
        .await?;
    println!("{summary}");
    Ok(())
}

/// `refund`: exit 0 when refunded, 1 when refused or failed, 3 when the outcome is unknown.
async fn refund(settings: Settings, merchant_oid: &str, amount: i64, reason: &str) -> ExitCode {
    use paytr_checkout::db::states::RefundStatus;
    use paytr_checkout::domain::{MerchantOid, Money};
    let (Ok(oid), Ok(amount)) = (MerchantOid::parse(merchant_oid), Money::from_kurus(amount))
    else {
        eprintln!("error: {merchant_oid:?} is not a merchant_oid (letters and digits)");
        return ExitCode::from(2);
    };
    let billing = match paytr_checkout::startup::standalone_billing(&settings).await {
        Ok(billing) => billing,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let request = paytr_checkout::refunds::RefundRequest {
        merchant_oid: &oid,
        amount,
        reason,
        requested_by: "cli",
    };
    match paytr_checkout::refunds::refund(&billing.db, &billing.paytr, request).await {
        Err(e) => {
            eprintln!("refund refused: {e}");
            ExitCode::FAILURE
        }
        Ok(r) => {
            let what = format!(
                "refund {} of {} {}",
                r.reference_no,
                amount.to_paytr_decimal(),
                r.currency
            );
            match r.status {
                RefundStatus::Succeeded => {
                    println!("{what}: succeeded");
                    ExitCode::SUCCESS
                }
                RefundStatus::Failed => {
                    let code = r
                        .err_no
                        .map(|c| format!(" (PayTR {c})"))
                        .unwrap_or_default();
                    println!("{what}: failed{code}: {}", r.message.unwrap_or_default());
                    ExitCode::FAILURE
                }
                _ => {
                    println!(
                        "{what}: outcome unknown; `billing run-due` will ask PayTR and settle it (it is never sent twice)"
                    );
                    ExitCode::from(3)
                }
            }
        }
    }
}

/// `admin add-user`: the password comes from standard input, never from the command line.
async fn add_staff(settings: Settings, email: &str, role: &str) -> anyhow::Result<()> {
    let role = paytr_checkout::staff::Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("--role is owner or support"))?;
    let mut password = String::new();
    std::io::stdin().read_line(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']).to_owned();
    let billing = paytr_checkout::startup::standalone_billing(&settings).await?;
    let (sealer, email) = (billing.sealer.clone(), email.to_owned());
    let now = paytr_checkout::db::unix_now();
    let uri = billing
        .db
        .write(move |conn| {
            Ok(paytr_checkout::staff::add(
                conn, &sealer, &email, role, &password, now,
            ))
        })
        .await??;
    println!("{uri}");
    eprintln!(
        "Add this to an authenticator app (it holds the second factor), then log in at /admin."
    );
    Ok(())
}

async fn api_key(settings: Settings, command: ApiKeyCommand) -> anyhow::Result<()> {
    use paytr_checkout::api::keys;
    let mode = keys::mode_of(settings.paytr.credentials.is_none() || settings.paytr.test_mode);
    let billing = paytr_checkout::startup::standalone_billing(&settings).await?;
    match command {
        ApiKeyCommand::Create { name, origins } => {
            let origins = origins
                .iter()
                .map(|o| keys::origin(o))
                .collect::<Result<Vec<_>, _>>()
                .map_err(anyhow::Error::msg)?;
            let (row, key) = billing
                .db
                .write(move |conn| keys::create(conn, &name, mode, &origins))
                .await?;
            println!("{key}");
            eprintln!(
                "API key {} ({mode}) created. It is shown only now: keep it in your backend's secrets.",
                row.public_id
            );
        }
        ApiKeyCommand::List => {
            for k in billing.db.read(keys::list).await? {
                let state = if k.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{}\t{}…\t{}\t{}\t{}",
                    k.public_id, k.prefix, k.mode, state, k.name
                );
            }
        }
        ApiKeyCommand::Revoke { id } => {
            let done = billing
                .db
                .write(move |conn| keys::revoke(conn, &id))
                .await?;
            if !done {
                anyhow::bail!("no active key with that id");
            }
            eprintln!("revoked");
        }
    }
    Ok(())
}

async fn sandbox(args: SandboxArgs) -> anyhow::Result<()> {
    let credentials = match args.credentials().map_err(anyhow::Error::msg)? {
        Some(credentials) => credentials,
        None => load_or_create_merchant(&args.data_dir)?,
    };
    if let Some(url) = &args.notify_url {
        paytr_checkout::domain::AbsoluteUrl::parse("--notify-url", url)
            .map_err(anyhow::Error::from)?;
    }
    let server = SandboxServer::build(
        SandboxConfig {
            credentials,
            notify_url: args.notify_url.clone(),
            data_dir: args.data_dir.clone(),
            prefix: String::new(),
            knobs: args.knobs.knobs(),
        },
        args.bind,
    )?;
    server.sandbox.resume_deliveries();
    tracing::info!(url = %server.url, merchant_id = %server.sandbox.credentials().merchant_id, "PayTR sandbox listening");
    let server = server.into_server();
    let handle = server.handle();
    actix_web::rt::spawn(async move {
        paytr_checkout::startup::wait_for_signal().await;
        handle.stop(true).await;
    });
    server.await?;
    Ok(())
}
