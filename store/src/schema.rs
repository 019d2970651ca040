//! Diesel table definitions shared by the SQLite and PostgreSQL backends.
//!
//! Written by hand with the types both backends share (UUIDs and JSON as
//! `Text`, UTC timestamps as `Timestamp`), so one query compiles for both.

diesel::table! {
    communities (id) {
        id -> Text,
        name -> Text,
        district -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        phone -> Nullable<Text>,
        email -> Nullable<Text>,
        display_name -> Text,
        password_hash -> Text,
        is_platform_admin -> Bool,
        created_at -> Timestamp,
        session_version -> BigInt,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    firms (id) {
        id -> Text,
        name -> Text,
        uscc -> Text,
        community_id -> Text,
        address -> Text,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        contact_name -> Text,
        contact_phone -> Text,
        verified -> Bool,
        verified_at -> Nullable<Timestamp>,
        verified_by -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        claim_refused_at -> Nullable<Timestamp>,
        suspended_at -> Nullable<Timestamp>,
        suspended_reason -> Nullable<Text>,
    }
}

diesel::table! {
    memberships (user_id) {
        user_id -> Text,
        firm_id -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    community_staff (user_id) {
        user_id -> Text,
        community_id -> Text,
        created_at -> Timestamp,
        disabled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    login_throttle (login) {
        login -> Text,
        failures -> Integer,
        first_failure_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    listings (id) {
        id -> Text,
        ext_key -> Nullable<Text>,
        firm_id -> Text,
        community_id -> Text,
        created_by -> Nullable<Text>,
        side -> Text,
        kind -> Text,
        title -> Text,
        description -> Text,
        quantity_amount -> Nullable<Double>,
        quantity_unit -> Nullable<Text>,
        price_amount -> Nullable<Double>,
        price_unit -> Nullable<Text>,
        address -> Nullable<Text>,
        lat -> Nullable<Double>,
        lon -> Nullable<Double>,
        available_from -> Nullable<Text>,
        available_until -> Nullable<Text>,
        urgency -> Text,
        visibility -> Text,
        status -> Text,
        expires_at -> Nullable<Timestamp>,
        attributes -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        posted_by_staff -> Nullable<Text>,
        hidden_reason -> Nullable<Text>,
        hidden_at -> Nullable<Timestamp>,
        quotes_wanted -> Bool,
        quotes_close_at -> Nullable<Timestamp>,
        committed_amount -> Double,
        fulfilled_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    listing_changes (seq) {
        seq -> BigInt,
        listing_id -> Text,
        op -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(firms -> communities (community_id));
diesel::joinable!(memberships -> users (user_id));
diesel::joinable!(memberships -> firms (firm_id));
diesel::joinable!(community_staff -> users (user_id));
diesel::joinable!(community_staff -> communities (community_id));
diesel::joinable!(listings -> firms (firm_id));
diesel::joinable!(listings -> communities (community_id));

diesel::table! {
    match_records (id) {
        id -> Text,
        request_id -> Text,
        offer_id -> Text,
        request_firm_id -> Text,
        offer_firm_id -> Text,
        request_community_id -> Text,
        offer_community_id -> Text,
        score -> Double,
        partial -> Bool,
        factors -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        agreed_at -> Nullable<Timestamp>,
        request_agreed_at -> Nullable<Timestamp>,
        request_agreed_by -> Nullable<Text>,
        offer_agreed_at -> Nullable<Timestamp>,
        offer_agreed_by -> Nullable<Text>,
    }
}

diesel::table! {
    events (seq) {
        seq -> BigInt,
        #[sql_name = "type"]
        event_type -> Text,
        subject_id -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    threads (id) {
        id -> Text,
        subject_type -> Text,
        listing_id -> Nullable<Text>,
        match_id -> Nullable<Text>,
        subject_key -> Text,
        firm_a_id -> Text,
        firm_b_id -> Text,
        community_a_id -> Text,
        community_b_id -> Text,
        status -> Text,
        last_seq -> BigInt,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    thread_staff (thread_id, user_id) {
        thread_id -> Text,
        user_id -> Text,
        community_id -> Text,
        joined_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> Text,
        thread_id -> Text,
        seq -> BigInt,
        kind -> Text,
        author_user_id -> Nullable<Text>,
        author_firm_id -> Nullable<Text>,
        author_role -> Text,
        author_name -> Text,
        body -> Text,
        event -> Nullable<Text>,
        listing_ref -> Nullable<Text>,
        client_msg_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    thread_reads (thread_id, user_id) {
        thread_id -> Text,
        user_id -> Text,
        last_read_seq -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    stream_events (id) {
        id -> BigInt,
        #[sql_name = "type"]
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    stream_event_audience (audience, event_id) {
        audience -> Text,
        event_id -> BigInt,
    }
}

diesel::joinable!(thread_staff -> threads (thread_id));
diesel::joinable!(messages -> threads (thread_id));
diesel::joinable!(stream_event_audience -> stream_events (event_id));

diesel::table! {
    cases (id) {
        id -> Text,
        listing_id -> Text,
        firm_id -> Text,
        community_id -> Text,
        origin_community_id -> Text,
        escalated_from -> Nullable<Text>,
        urgency -> Text,
        status -> Text,
        claimed_by -> Nullable<Text>,
        claimed_at -> Nullable<Timestamp>,
        first_contact_at -> Nullable<Timestamp>,
        resolved_at -> Nullable<Timestamp>,
        outcome -> Nullable<Text>,
        outcome_note -> Text,
        opened_at -> Timestamp,
        updated_at -> Timestamp,
        overdue_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_contacts (case_id, match_id) {
        case_id -> Text,
        match_id -> Text,
        thread_id -> Text,
        offer_id -> Text,
        offer_firm_id -> Text,
        brokered_by -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_log (id) {
        id -> Text,
        at -> Timestamp,
        actor_user_id -> Text,
        actor_name -> Text,
        community_id -> Text,
        action -> Text,
        case_id -> Nullable<Text>,
        subject_type -> Text,
        subject_id -> Text,
        detail -> Text,
    }
}

diesel::table! {
    notifications (id) {
        id -> Text,
        user_id -> Text,
        #[sql_name = "type"]
        notification_type -> Text,
        title -> Text,
        body -> Text,
        subject_type -> Text,
        subject_id -> Text,
        thread_id -> Nullable<Text>,
        group_key -> Nullable<Text>,
        count -> Integer,
        read_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    work_leases (name) {
        name -> Text,
        position -> BigInt,
        owner -> Nullable<Text>,
        until -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    case_notes (id) {
        id -> Text,
        case_id -> Text,
        author_user_id -> Text,
        author_name -> Text,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(case_contacts -> cases (case_id));
diesel::joinable!(case_notes -> cases (case_id));

diesel::allow_tables_to_appear_in_same_query!(
    communities,
    users,
    firms,
    memberships,
    community_staff,
    refresh_tokens,
    login_throttle,
    listings,
    listing_changes,
    match_records,
    events,
    threads,
    thread_staff,
    messages,
    thread_reads,
    stream_events,
    stream_event_audience,
    cases,
    case_contacts,
    case_notes,
    audit_log,
    notifications,
    work_leases,
);

diesel::table! {
    api_clients (id) {
        id -> Text,
        name -> Text,
        firm_id -> Nullable<Text>,
        community_id -> Text,
        user_id -> Text,
        scopes -> Text,
        secret_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        secret_rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (principal, idem_key) {
        principal -> Text,
        idem_key -> Text,
        fingerprint -> Text,
        status -> Nullable<Integer>,
        content_type -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        client_id -> Text,
        url -> Text,
        event_types -> Text,
        secret -> Text,
        status -> Text,
        disabled_reason -> Nullable<Text>,
        from_event_id -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        event_id -> BigInt,
        event_type -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_status_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
        resend_of -> Nullable<Text>,
    }
}

diesel::table! {
    api_client_usage (client_id, day) {
        client_id -> Text,
        day -> Text,
        requests -> BigInt,
        errors -> BigInt,
        tokens -> BigInt,
        last_used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    webhook_cursor (id) {
        id -> Integer,
        last_event_id -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(webhooks, webhook_deliveries, api_clients);

diesel::table! {
    wechat_bindings (openid) {
        openid -> Text,
        user_id -> Text,
        unionid -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(wechat_bindings, users);

diesel::table! {
    wechat_subscriptions (user_id, topic) {
        user_id -> Text,
        topic -> Text,
        remaining -> Integer,
        enabled -> Bool,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    wechat_pushes (id) {
        id -> Text,
        user_id -> Text,
        topic -> Text,
        group_key -> Text,
        event_id -> BigInt,
        notification_id -> Text,
        title -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_errcode -> Nullable<BigInt>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    wechat_push_cursor (id) {
        id -> Integer,
        last_event_id -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(wechat_pushes, wechat_bindings, wechat_subscriptions);

diesel::table! {
    password_resets (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        issued_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    firm_invites (id) {
        id -> Text,
        firm_id -> Text,
        code_hash -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        used_by -> Nullable<Text>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(password_resets, users);
diesel::allow_tables_to_appear_in_same_query!(firm_invites, firms);

diesel::table! {
    reports (id) {
        id -> Text,
        reporter_user_id -> Text,
        subject_type -> Text,
        subject_id -> Text,
        firm_id -> Text,
        community_id -> Text,
        reason -> Text,
        text -> Text,
        status -> Text,
        created_at -> Timestamp,
        handled_at -> Nullable<Timestamp>,
        handled_by -> Nullable<Text>,
        outcome -> Nullable<Text>,
    }
}

diesel::table! {
    quotes (id) {
        id -> Text,
        request_id -> Text,
        offer_id -> Text,
        match_id -> Text,
        request_firm_id -> Text,
        offer_firm_id -> Text,
        price_amount -> Double,
        price_unit -> Text,
        quantity_amount -> Double,
        quantity_unit -> Text,
        available_from -> Nullable<Text>,
        available_until -> Nullable<Text>,
        place -> Text,
        terms -> Text,
        valid_until -> Nullable<Timestamp>,
        status -> Text,
        decline_reason -> Nullable<Text>,
        version -> Integer,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
        revision_requested_at -> Nullable<Timestamp>,
        revision_requested_by -> Nullable<Text>,
        revision_message -> Nullable<Text>,
    }
}

diesel::table! {
    agreements (id) {
        id -> Text,
        match_id -> Text,
        quote_id -> Nullable<Text>,
        request_id -> Text,
        offer_id -> Text,
        request_firm_id -> Text,
        offer_firm_id -> Text,
        request_community_id -> Text,
        offer_community_id -> Text,
        status -> Text,
        version -> Integer,
        confirmed_version -> Nullable<Integer>,
        quantity_amount -> Double,
        quantity_unit -> Text,
        price_amount -> Double,
        price_unit -> Text,
        available_from -> Nullable<Text>,
        available_until -> Nullable<Text>,
        place -> Text,
        proposed_by_firm -> Text,
        committed_request -> Double,
        committed_offer -> Double,
        value_yuan -> Nullable<Double>,
        first_confirmed_at -> Nullable<Timestamp>,
        started_at -> Nullable<Timestamp>,
        completed_at -> Nullable<Timestamp>,
        cancelled_at -> Nullable<Timestamp>,
        cancel_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        proposed_by_staff -> Nullable<Text>,
        case_id -> Nullable<Text>,
        confirmed_first_by_firm -> Nullable<Text>,
    }
}

diesel::table! {
    moderation_actions (id) {
        id -> Text,
        firm_id -> Text,
        community_id -> Text,
        action -> Text,
        subject_type -> Text,
        subject_id -> Text,
        reason -> Text,
        actor_user_id -> Text,
        report_id -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    agreement_versions (agreement_id, version) {
        agreement_id -> Text,
        version -> Integer,
        terms -> Text,
        proposed_by_firm -> Text,
        proposed_by -> Text,
        proposed_at -> Timestamp,
        confirmed_by -> Nullable<Text>,
        confirmed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    contact_reveals (id) {
        id -> Text,
        agreement_id -> Text,
        firm_a_id -> Text,
        firm_b_id -> Text,
        revealed_by -> Text,
        reason -> Text,
        revealed_at -> Timestamp,
    }
}

diesel::table! {
    ratings (id) {
        id -> Text,
        agreement_id -> Text,
        rater_firm_id -> Text,
        ratee_firm_id -> Text,
        ratee_community_id -> Text,
        rated_by -> Text,
        score -> Integer,
        tags -> Text,
        comment -> Text,
        created_at -> Timestamp,
        window_closes_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
        comment_hidden_at -> Nullable<Timestamp>,
        comment_hidden_by -> Nullable<Text>,
        comment_hidden_reason -> Nullable<Text>,
    }
}

diesel::table! {
    reputation_tallies (firm_id, community_id) {
        firm_id -> Text,
        community_id -> Text,
        confirmed -> Integer,
        completed -> Integer,
        failed -> Integer,
        ratings -> Integer,
        rating_sum -> BigInt,
    }
}

diesel::table! {
    thread_responses (thread_id) {
        thread_id -> Text,
        firm_id -> Text,
        opened_at -> Timestamp,
        responded_at -> Nullable<Timestamp>,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    quotes,
    agreements,
    agreement_versions,
    contact_reveals,
    ratings,
);

diesel::table! {
    match_outcomes (id) {
        id -> Text,
        match_id -> Text,
        request_id -> Text,
        offer_id -> Text,
        outcome -> Text,
        urgency -> Text,
        score -> Double,
        factors -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    rematch_runs (id) {
        id -> Text,
        reason -> Text,
        total -> BigInt,
        done -> BigInt,
        last_listing_id -> Text,
        requested_at -> Timestamp,
        started_at -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    attachments (id) {
        id -> Text,
        parent_type -> Text,
        parent_id -> Text,
        firm_id -> Nullable<Text>,
        uploaded_by -> Text,
        filename -> Text,
        content_type -> Text,
        byte_size -> BigInt,
        sha256 -> Text,
        width -> Nullable<Integer>,
        height -> Nullable<Integer>,
        has_thumbnail -> Bool,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(attachments, listings);
diesel::allow_tables_to_appear_in_same_query!(attachments, quotes);
diesel::allow_tables_to_appear_in_same_query!(attachments, messages);
diesel::allow_tables_to_appear_in_same_query!(attachments, agreements);
diesel::allow_tables_to_appear_in_same_query!(attachments, firms);

diesel::table! {
    import_jobs (id) {
        id -> Text,
        community_id -> Text,
        kind -> Text,
        status -> Text,
        file_name -> Text,
        total_rows -> Integer,
        processed_rows -> Integer,
        created -> Integer,
        updated -> Integer,
        unchanged -> Integer,
        failed -> Integer,
        errors -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    vocabulary_entries (id) {
        id -> Text,
        community_id -> Text,
        kind -> Text,
        terms -> Text,
        term_key -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        removed_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    vocabulary_changes (id) {
        id -> Text,
        version -> BigInt,
        community_id -> Text,
        entry_id -> Text,
        action -> Text,
        actor_user_id -> Text,
        at -> Timestamp,
        undone_at -> Nullable<Timestamp>,
        undone_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    vocabulary_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    short_links (code) {
        code -> Text,
        listing_id -> Text,
        community_id -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        clicks -> BigInt,
    }
}

diesel::table! {
    districts (id) {
        id -> Text,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    district_communities (district_id, community_id) {
        district_id -> Text,
        community_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    district_admins (district_id, user_id) {
        district_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(district_communities -> districts (district_id));
diesel::joinable!(district_communities -> communities (community_id));
diesel::joinable!(district_admins -> districts (district_id));
diesel::joinable!(district_admins -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(districts, district_communities, district_admins);
diesel::allow_tables_to_appear_in_same_query!(districts, communities);
diesel::allow_tables_to_appear_in_same_query!(districts, users);
diesel::allow_tables_to_appear_in_same_query!(districts, community_staff);
diesel::allow_tables_to_appear_in_same_query!(districts, refresh_tokens);
diesel::allow_tables_to_appear_in_same_query!(districts, audit_log);
diesel::allow_tables_to_appear_in_same_query!(district_communities, communities);
diesel::allow_tables_to_appear_in_same_query!(district_communities, users);
diesel::allow_tables_to_appear_in_same_query!(district_communities, community_staff);
diesel::allow_tables_to_appear_in_same_query!(district_communities, refresh_tokens);
diesel::allow_tables_to_appear_in_same_query!(district_communities, audit_log);
diesel::allow_tables_to_appear_in_same_query!(district_admins, communities);
diesel::allow_tables_to_appear_in_same_query!(district_admins, users);
diesel::allow_tables_to_appear_in_same_query!(district_admins, community_staff);
diesel::allow_tables_to_appear_in_same_query!(district_admins, refresh_tokens);
diesel::allow_tables_to_appear_in_same_query!(district_admins, audit_log);
