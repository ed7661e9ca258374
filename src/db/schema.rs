//! Table definitions, written by hand to match `migrations/{sqlite,postgres}`.
//! Only types the MultiConnection supports: ids and enums are TEXT, lists are JSON TEXT, times
//! are UTC TIMESTAMP.

diesel::table! {
    organisations (id) {
        id -> Text,
        name -> Text,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    buddies (id) {
        id -> Text,
        organisation_id -> Text,
        state -> Text,
        full_name -> Text,
        email -> Text,
        phone -> Nullable<Text>,
        mail_language -> Text,
        languages -> Text,
        region -> Text,
        experience -> Text,
        topics -> Text,
        capacity -> Integer,
        vog_issued_on -> Nullable<Date>,
        training_completed_on -> Nullable<Date>,
        agreement_signed_on -> Nullable<Date>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        erased_at -> Nullable<Timestamp>,
        paused_until -> Nullable<Date>,
        availability_notes -> Nullable<Text>,
        retirement_requested_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    exit_interviews (id) {
        id -> Text,
        organisation_id -> Text,
        held_on -> Date,
        answer -> Text,
        buddy_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    buddy_requests (id) {
        id -> Text,
        organisation_id -> Text,
        client_ref -> Text,
        trigger_kind -> Text,
        trigger_note -> Nullable<Text>,
        client_first_name -> Text,
        client_phone -> Nullable<Text>,
        client_email -> Nullable<Text>,
        client_preferred_channel -> Text,
        client_languages -> Text,
        region -> Text,
        preferences -> Nullable<Text>,
        consent_recorded_at -> Timestamp,
        state -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        legal_hold -> Bool,
        anonymised_at -> Nullable<Timestamp>,
        overdue_notified_at -> Nullable<Timestamp>,
        measure -> Nullable<Text>,
        feedback_invited -> Bool,
    }
}

diesel::table! {
    matching_changes (version) {
        version -> BigInt,
        buddy_id -> Text,
    }
}

diesel::table! {
    matching_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    credential_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    request_exclusions (request_id, buddy_id) {
        request_id -> Text,
        buddy_id -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    pairings (id) {
        id -> Text,
        request_id -> Text,
        buddy_id -> Text,
        state -> Text,
        proposed_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
        activated_at -> Nullable<Timestamp>,
        ended_at -> Nullable<Timestamp>,
        decline_reason -> Nullable<Text>,
        end_reason -> Nullable<Text>,
        end_note -> Nullable<Text>,
        evaluation_client_score -> Nullable<Integer>,
        evaluation_buddy_score -> Nullable<Integer>,
        evaluation_comment -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        reminder_sent_at -> Nullable<Timestamp>,
        last_contact_on -> Nullable<Date>,
        quiet_since -> Nullable<Timestamp>,
        contact_reminded_for -> Nullable<Timestamp>,
        contact_alerted_for -> Nullable<Timestamp>,
        check_in_sent_at -> Nullable<Timestamp>,
        check_in_answer -> Nullable<Text>,
        check_in_answered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contact_moments (id) {
        id -> Text,
        pairing_id -> Text,
        contact_on -> Date,
        kind -> Text,
        note -> Nullable<Text>,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    history (id) {
        id -> Text,
        entity_type -> Text,
        entity_id -> Text,
        action -> Text,
        from_state -> Nullable<Text>,
        to_state -> Nullable<Text>,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        reason -> Nullable<Text>,
        at -> Timestamp,
    }
}

diesel::table! {
    staff (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        role -> Text,
        password_hash -> Text,
        active -> Bool,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (staff_id, source) {
        staff_id -> Text,
        source -> Text,
        failures -> Integer,
        locked_until -> Nullable<Timestamp>,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        id -> Text,
        txid -> BigInt,
        organisation_id -> Text,
        event_type -> Text,
        occurred_at -> Timestamp,
        payload -> Text,
    }
}

diesel::table! {
    idempotency_keys (caller, idem_key) {
        caller -> Text,
        idem_key -> Text,
        request_hash -> Text,
        state -> Text,
        started_at -> Timestamp,
        object_id -> Nullable<Text>,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        location -> Nullable<Text>,
        body -> Nullable<Text>,
    }
}

diesel::table! {
    staff_sessions (id) {
        id -> Text,
        staff_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        channel -> Text,
        idle_seconds -> Nullable<Integer>,
        ends_at -> Nullable<Timestamp>,
        last_seen_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        organisation_id -> Text,
        name -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> Text,
        client_id -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_log (seq) {
        seq -> BigInt,
        id -> Text,
        at -> Timestamp,
        actor_type -> Text,
        actor_id -> Nullable<Text>,
        on_behalf_of -> Nullable<Text>,
        action -> Text,
        object_type -> Text,
        object_id -> Nullable<Text>,
        client_ref -> Nullable<Text>,
        outcome -> Text,
        status -> Integer,
        source_address -> Nullable<Text>,
        request_id -> Nullable<Text>,
        route -> Text,
        prev_hash -> Text,
        hash -> Text,
        caller_request_id -> Nullable<Text>,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        hash -> Text,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        recipient -> Text,
        language -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        related_type -> Nullable<Text>,
        related_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    shared_settings (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    response_tokens (id) {
        id -> Text,
        token_hash -> Text,
        pairing_id -> Nullable<Text>,
        buddy_id -> Text,
        purpose -> Text,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> Text,
        organisation_id -> Text,
        url -> Text,
        event_types -> Text,
        description -> Nullable<Text>,
        enabled -> Bool,
        secret_version -> Integer,
        previous_secret_until -> Nullable<Timestamp>,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        endpoint_id -> Text,
        event_id -> Text,
        event_type -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        give_up_at -> Timestamp,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        last_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        endpoint_id -> Text,
        attempted_at -> Timestamp,
        status_code -> Nullable<Integer>,
        duration_ms -> Integer,
        error -> Nullable<Text>,
        succeeded -> Bool,
    }
}

diesel::table! {
    buddy_sessions (id) {
        id -> Text,
        buddy_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ends_at -> Timestamp,
        idle_seconds -> Integer,
        last_seen_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    client_feedback_invitations (id) {
        id -> Text,
        token_hash -> Text,
        organisation_id -> Text,
        language -> Text,
        expires_at -> Timestamp,
        used -> Bool,
    }
}

diesel::table! {
    client_feedback (id) {
        id -> Text,
        organisation_id -> Text,
        quarter -> Text,
        score -> Integer,
        helped -> Nullable<Text>,
        better -> Nullable<Text>,
        text_removed -> Bool,
    }
}

diesel::joinable!(buddies -> organisations (organisation_id));
diesel::joinable!(buddy_sessions -> buddies (buddy_id));
diesel::joinable!(staff_sessions -> staff (staff_id));
diesel::joinable!(api_clients -> organisations (organisation_id));
diesel::joinable!(api_keys -> api_clients (client_id));
diesel::joinable!(exit_interviews -> organisations (organisation_id));
diesel::joinable!(buddy_requests -> organisations (organisation_id));
diesel::joinable!(pairings -> buddy_requests (request_id));
diesel::joinable!(pairings -> buddies (buddy_id));
diesel::joinable!(response_tokens -> pairings (pairing_id));
diesel::joinable!(contact_moments -> pairings (pairing_id));
diesel::joinable!(request_exclusions -> buddy_requests (request_id));
diesel::joinable!(request_exclusions -> buddies (buddy_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));

diesel::allow_tables_to_appear_in_same_query!(
    organisations,
    buddies,
    exit_interviews,
    buddy_requests,
    pairings,
    contact_moments,
    request_exclusions,
    matching_version,
    matching_changes,
    credential_version,
    history,
    staff,
    staff_sessions,
    login_throttle,
    idempotency_keys,
    events,
    api_clients,
    api_keys,
    audit_log,
    audit_head,
    outbox,
    response_tokens,
    shared_settings,
    webhook_endpoints,
    webhook_deliveries,
    webhook_attempts,
    buddy_sessions,
    client_feedback_invitations,
    client_feedback,
);
