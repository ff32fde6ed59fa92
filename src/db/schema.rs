//! One portable schema for SQLite and PostgreSQL (kept by hand: ids are BIGINT on both).

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        full_name -> Text,
        phone -> Text,
        address -> Text,
        utoken_sealed -> Nullable<Text>,
        created_at -> BigInt,
        utoken_hash -> Nullable<Text>,
        email_verified_at -> Nullable<BigInt>,
        lang -> Text,
        cards_version -> BigInt,
    }
}

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_start -> BigInt,
        hits -> Integer,
    }
}

diesel::table! {
    sessions (id_hash) {
        id_hash -> Text,
        user_id -> Nullable<BigInt>,
        data -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    orders (id) {
        id -> BigInt,
        public_id -> Text,
        user_id -> Nullable<BigInt>,
        email -> Text,
        full_name -> Text,
        phone -> Text,
        address -> Text,
        total_kurus -> BigInt,
        currency -> Text,
        basket_json -> Text,
        status -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
        terms_version -> Nullable<Text>,
        terms_text -> Nullable<Text>,
        terms_accepted_at -> Nullable<BigInt>,
        lang -> Text,
    }
}

diesel::table! {
    payment_attempts (id) {
        id -> BigInt,
        order_id -> BigInt,
        merchant_oid -> Text,
        amount_kurus -> BigInt,
        currency -> Text,
        user_ip -> Text,
        store_card -> Bool,
        status -> Text,
        failed_reason_code -> Nullable<Text>,
        failed_reason_msg -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        refunded_kurus -> BigInt,
        last_inquiry_at -> Nullable<BigInt>,
        card_label -> Nullable<Text>,
        card_asked_at -> Nullable<BigInt>,
        installment_count -> Integer,
        paid_total_kurus -> Nullable<BigInt>,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        merchant_oid -> Text,
        hash_valid -> Bool,
        outcome -> Text,
        fields_json -> Text,
        received_at -> BigInt,
    }
}

diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(orders -> users (user_id));
diesel::joinable!(payment_attempts -> orders (order_id));

diesel::allow_tables_to_appear_in_same_query!(
    users,
    sessions,
    orders,
    payment_attempts,
    notifications,
    subscriptions,
    charge_attempts,
    app_meta
);

diesel::table! {
    subscriptions (id) {
        id -> BigInt,
        user_id -> BigInt,
        plan_slug -> Text,
        amount_kurus -> BigInt,
        currency -> Text,
        interval_unit -> Text,
        status -> Text,
        status_reason -> Nullable<Text>,
        ctoken_sealed -> Nullable<Text>,
        card_last4 -> Nullable<Text>,
        card_expiry -> Nullable<Text>,
        known_cards -> Text,
        first_order_id -> Nullable<BigInt>,
        periods_paid -> Integer,
        period_start -> BigInt,
        next_charge_at -> BigInt,
        cancel_at_period_end -> Bool,
        user_ip -> Text,
        claimed_until -> Nullable<BigInt>,
        claim_token -> Nullable<Text>,
        created_at -> BigInt,
        updated_at -> BigInt,
        contact_customer_at -> Nullable<BigInt>,
        expiry_warned_for -> Nullable<Text>,
    }
}

diesel::table! {
    charge_attempts (id) {
        id -> BigInt,
        subscription_id -> BigInt,
        period -> Integer,
        attempt_no -> Integer,
        merchant_oid -> Text,
        amount_kurus -> BigInt,
        card_ref -> Text,
        status -> Text,
        message -> Nullable<Text>,
        next_retry_at -> Nullable<BigInt>,
        created_at -> BigInt,
        updated_at -> BigInt,
        refunded_kurus -> BigInt,
    }
}

diesel::joinable!(subscriptions -> users (user_id));
diesel::joinable!(charge_attempts -> subscriptions (subscription_id));

diesel::table! {
    security_events (id) {
        id -> BigInt,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        merchant_oid -> Nullable<Text>,
        detail -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    app_meta (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    email_tokens (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        expires_at -> BigInt,
        used_at -> Nullable<BigInt>,
        purpose -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        to_address -> Text,
        subject -> Text,
        body -> Text,
        created_at -> BigInt,
        sent_at -> Nullable<BigInt>,
        attempts -> Integer,
        html_body -> Nullable<Text>,
        attachment_name -> Nullable<Text>,
        attachment_body -> Nullable<Text>,
        next_attempt_at -> BigInt,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    refunds (id) {
        id -> BigInt,
        merchant_oid -> Text,
        order_id -> Nullable<BigInt>,
        subscription_id -> Nullable<BigInt>,
        amount_kurus -> BigInt,
        currency -> Text,
        reference_no -> Text,
        status -> Text,
        reason -> Text,
        err_no -> Nullable<Text>,
        message -> Nullable<Text>,
        requested_by -> Text,
        created_at -> BigInt,
        updated_at -> BigInt,
    }
}

diesel::table! {
    staff_users (id) {
        id -> BigInt,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        totp_sealed -> Text,
        last_totp_step -> BigInt,
        disabled_at -> Nullable<BigInt>,
        created_at -> BigInt,
    }
}

diesel::table! {
    staff_sessions (id_hash) {
        id_hash -> Text,
        staff_id -> BigInt,
        csrf -> Text,
        lang -> Text,
        created_at -> BigInt,
        last_seen_at -> BigInt,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        staff_id -> Nullable<BigInt>,
        staff_email -> Text,
        action -> Text,
        target -> Text,
        detail -> Text,
        ip -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    installment_rates (family, installments) {
        family -> Text,
        installments -> Integer,
        rate_bp -> Integer,
        fetched_at -> BigInt,
    }
}

diesel::table! {
    installment_offers (attempt_id, installments, family) {
        attempt_id -> BigInt,
        installments -> Integer,
        family -> Text,
        total_kurus -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        public_id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        mode -> Text,
        allowed_origins -> Text,
        created_at -> BigInt,
        revoked_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    api_customers (id) {
        id -> BigInt,
        mode -> Text,
        customer_ref -> Text,
        user_id -> BigInt,
        created_at -> BigInt,
    }
}

diesel::table! {
    checkout_sessions (id) {
        id -> BigInt,
        public_id -> Text,
        api_key_id -> BigInt,
        mode -> Text,
        customer_id -> Nullable<BigInt>,
        status -> Text,
        currency -> Text,
        amount_kurus -> BigInt,
        line_items_json -> Text,
        email -> Text,
        full_name -> Text,
        phone -> Text,
        address -> Text,
        success_url -> Text,
        cancel_url -> Text,
        metadata_json -> Text,
        order_id -> Nullable<BigInt>,
        expires_at -> BigInt,
        created_at -> BigInt,
        completed_at -> Nullable<BigInt>,
        kind -> Text,
        interval_unit -> Nullable<Text>,
        subscription_id -> Nullable<BigInt>,
        subscription_public_id -> Nullable<Text>,
    }
}

diesel::table! {
    api_idempotency (api_key_id, idempotency_key) {
        api_key_id -> BigInt,
        idempotency_key -> Text,
        request_hash -> Text,
        status -> Integer,
        body -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        public_id -> Text,
        api_key_id -> BigInt,
        url -> Text,
        secret_sealed -> Text,
        events -> Text,
        created_at -> BigInt,
        disabled_at -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        message_id -> Text,
        endpoint_id -> BigInt,
        event_type -> Text,
        object_id -> Text,
        payload -> Text,
        created_at -> BigInt,
        next_attempt_at -> BigInt,
        attempts -> Integer,
        delivered_at -> Nullable<BigInt>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    api_audit (id) {
        id -> BigInt,
        api_key_id -> Nullable<BigInt>,
        method -> Text,
        path -> Text,
        status -> Integer,
        created_at -> BigInt,
    }
}

diesel::joinable!(api_customers -> users (user_id));
diesel::joinable!(checkout_sessions -> api_customers (customer_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(api_customers, users);
diesel::allow_tables_to_appear_in_same_query!(checkout_sessions, api_customers);
diesel::allow_tables_to_appear_in_same_query!(checkout_sessions, orders);
diesel::allow_tables_to_appear_in_same_query!(webhook_deliveries, webhook_endpoints);
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, api_keys);
